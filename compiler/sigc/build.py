"""The build pipeline: find the inputs, parse, analyse, write the bundle. No printing here."""

from __future__ import annotations

import gc
import hashlib
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sigc import emit
from sigc.analyze import Database, Purpose, SourceInfo, analyze
from sigc.diagnostics import Diagnostic, Severity
from sigc.parser import parse_file
from sigc.sources import Inputs
from sigc.tables import RpcEntry, ServiceEntry, read_rpc, read_services


@dataclass(frozen=True, slots=True)
class BuildResult:
    database: Database
    output: Path | None  # None when errors stopped the build
    encoding: str | None
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def diagnostics(self) -> tuple[Diagnostic, ...]:
        return self.database.diagnostics

    @property
    def ok(self) -> bool:
        return not self.database.errors


def compile_inputs(inputs: Inputs, meanwhile: Callable[[], object] | None = None,
                   purpose: Purpose = Purpose.BUILD) -> tuple[Database, dict[str, float]]:
    """Parse and analyse every input; all problems end up in ``Database.diagnostics``.
    ``meanwhile`` runs while the analysis waits for its second process, if it has one;
    ``purpose``: what the analysis is for (:class:`~sigc.analyze.Purpose`)."""
    clock = time.perf_counter()
    files = [parse_file(p) for p in inputs.probes]
    parsed = time.perf_counter()
    services: list[ServiceEntry] = []
    rpc: list[RpcEntry] = []
    extra: list[SourceInfo] = []
    table_problems: list[Diagnostic] = []
    if inputs.services is not None:
        services, problems = read_services(inputs.services)
        table_problems += problems
        extra.append(_source("services", inputs.services))
    if inputs.rpc is not None:
        rpc, problems = read_rpc(inputs.rpc)
        table_problems += problems
        extra.append(_source("rpc", inputs.rpc))
    db = analyze(files, services=services, rpc=rpc, extra_sources=extra, meanwhile=meanwhile, purpose=purpose)
    if table_problems:
        db = Database(db.sources, db.exclude, db.probes, db.matches, db.services, db.rpc,
                      db.diagnostics + tuple(table_problems))
    analysed = time.perf_counter()
    return db, {"parse": parsed - clock, "analyze": analysed - parsed}


def build(inputs: Inputs, output: Path, options: dict[str, object] | None = None) -> BuildResult:
    """Compile ``inputs`` and write ``output`` (``.json`` selects JSON, anything else SQLite).
    Nothing is written when an error-level diagnostic was found."""
    with paused_gc():
        db, seconds = compile_inputs(inputs, lambda: emit.preload(output))
        if any(d.severity is Severity.ERROR for d in db.diagnostics):
            return BuildResult(db, None, None, seconds)
        clock = time.perf_counter()
        encoding = emit.write(db, output, dict(options or {}))
        seconds["write"] = time.perf_counter() - clock
    return BuildResult(db, output, encoding, seconds)


@contextmanager
def paused_gc() -> Iterator[None]:
    """Run without the cyclic garbage collector. A build allocates a few million objects that all
    live until it ends and form no cycles worth collecting; the collector's repeated passes over
    them cost about a quarter of the build. Reference counting still frees everything freed.
    The main source of cyclic garbage, regex's parser when lint compiles every translation
    (3 KB a line), is collected where it is made (:func:`sigc.analyze.compile_translation`).

    On the way out the survivors are moved to the oldest generation (``freeze`` then
    ``unfreeze``): left in the youngest, the first collection after ``enable`` would walk all
    of them at once (half a second)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.unfreeze()
        if enabled:
            gc.enable()


def _source(kind: str, path: Path) -> SourceInfo:
    data = path.read_bytes()
    version = None
    for line in data.splitlines()[:40]:
        if b"$Id" in line:
            version = line.decode("latin-1").lstrip("# ").strip()
            break
    return SourceInfo(kind, str(path), hashlib.sha256(data).hexdigest(), version)
