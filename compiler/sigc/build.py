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
from sigc.diagnostics import Diagnostic, Location, Severity
from sigc.sources import Inputs
from sigc.syntax.parser import parse_file
from sigc.syntax.tables import RpcEntry, ServiceEntry, read_rpc, read_services
from sigscan.bundle import files


class UnusableInput(Exception):
    """Inputs sigc cannot use at all (the CLI exits 2): a probe file that cannot be read, or
    inputs that define no probe (an empty file, only comments). Nmap loads the latter and
    detects nothing with it; a bundle of it would replace a working one with one that
    identifies nothing."""


@dataclass(frozen=True, slots=True)
class BuildResult:
    database: Database
    output: Path | None  # None when errors stopped the build
    encoding: str | None
    seconds: dict[str, float] = field(default_factory=dict)
    size: int | None = None  # bytes written

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
    probe_files = [parse_file(p) for p in inputs.probes]
    parsed = time.perf_counter()
    services: list[ServiceEntry] = []
    rpc: list[RpcEntry] = []
    extra: list[SourceInfo] = []
    table_problems: list[Diagnostic] = []
    if inputs.services is not None:
        try:
            services, problems = read_services(inputs.services)
            extra.append(_source("services", inputs.services))
        except OSError as exc:
            problems = [_unreadable(inputs.services, exc)]
        table_problems += problems
    if inputs.rpc is not None:
        try:
            rpc, problems = read_rpc(inputs.rpc)
            extra.append(_source("rpc", inputs.rpc))
        except OSError as exc:
            problems = [_unreadable(inputs.rpc, exc)]
        table_problems += problems
    db = analyze(probe_files, services=services, rpc=rpc, extra_sources=extra, meanwhile=meanwhile,
                 purpose=purpose)
    if table_problems:
        db = Database(db.sources, db.exclude, db.probes, db.matches, db.services, db.rpc,
                      db.diagnostics + tuple(table_problems))
    analysed = time.perf_counter()
    return db, {"parse": parsed - clock, "analyze": analysed - parsed}


def require_usable(db: Database, inputs: Inputs) -> None:
    """Raise :class:`UnusableInput` when a probe file could not be read (SIG120), or when
    ``inputs`` define no probe and hold no error either (with errors, those are what to report)."""
    unreadable = next((d for d in db.diagnostics if d.code == "SIG120"), None)
    if unreadable is not None:
        raise UnusableInput(unreadable.message)
    if not db.probes and not db.errors:
        names = ", ".join(str(p) for p in inputs.probes)
        raise UnusableInput(f"no Probe line in {names}: nothing to build or lint (Nmap would load it and detect nothing)")


def build(inputs: Inputs, output: Path, options: dict[str, object] | None = None) -> BuildResult:
    """Compile ``inputs`` and write ``output`` (``.json`` selects JSON, anything else SQLite).
    Nothing is written when an error-level diagnostic was found; :class:`UnusableInput` when a
    probe file cannot be read or the inputs define no probe at all. An output the rules of
    :mod:`sigscan.bundle.files` refuse (a directory, one of the inputs) is refused before compiling,
    with :class:`sigscan.bundle.files.OutputError`."""
    files.target(output, inputs=inputs.paths())
    with paused_gc():
        db, seconds = compile_inputs(inputs, lambda: emit.preload(output))
        require_usable(db, inputs)
        if any(d.severity is Severity.ERROR for d in db.diagnostics):
            return BuildResult(db, None, None, seconds)
        clock = time.perf_counter()
        encoding, size = emit.write(db, output, dict(options or {}))
        seconds["write"] = time.perf_counter() - clock
    return BuildResult(db, output, encoding, seconds, size)


@contextmanager
def paused_gc() -> Iterator[None]:
    """Run without the cyclic garbage collector. A build allocates a few million objects that all
    live until it ends and form no cycles worth collecting; the collector's repeated passes over
    them slow the build (benchmarks/test_build.py; docs/benchmarks.md). Reference counting still
    frees everything freed. The main source of cyclic garbage, regex's parser when lint compiles
    every translation, is collected where it is made (:func:`sigc.analyze.compile_translation`).

    On the way out the survivors are moved to the oldest generation (``freeze`` then
    ``unfreeze``): left in the youngest, the first collection after ``enable`` would walk all
    of them at once."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.unfreeze()
        if enabled:
            gc.enable()


def _unreadable(path: Path, exc: OSError) -> Diagnostic:
    """SIG120 for a table that cannot be read (as the parser reports a probe file)."""
    shown = str(path)
    return Diagnostic("SIG120", Severity.ERROR, f"cannot read {shown!r}: {exc.strerror or exc}",
                      Location(shown, 1, 1))


def _source(kind: str, path: Path) -> SourceInfo:
    data = files.read_bounded(path)
    version = None
    for line in data.splitlines()[:40]:
        if b"$Id" in line:
            version = line.decode("latin-1").lstrip("# ").strip()
            break
    return SourceInfo(kind, str(path), hashlib.sha256(data).hexdigest(), version)
