"""``sigscan scan``: arguments → bundle, ports, targets → :class:`~sigscan.scan.Scanner` → outputs.

Checked before any packet is sent, each failure one line and exit status 2: the bundle, the port
specification, the targets (syntax, ``-iL`` file, name resolution) and the output files.

Outputs: normal output on stdout (Nmap's screen form) unless a ``-o`` option names ``-``;
``-oN`` (file form), ``-oX`` and ``-oJ`` files. NDJSON gets every port as it finishes (closed
and filtered ones included, so each requested port appears once), text and XML get each host
when all its ports are done. A progress line goes to stderr while it is a terminal.

Ctrl-C: the scan is cancelled (every socket closed), the hosts not written yet are written with
the ports that finished, XML ends with ``exit="error"``, and the exit status is 130.
"""

from __future__ import annotations

import argparse
import asyncio
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import replace
from typing import IO

from sigscan.bundle.errors import BundleError
from sigscan.bundle.loader import Bundle, open_bundle
from sigscan.bundle.locate import locate
from sigscan.cli import _Usage
from sigscan.driver import DEFAULT_MAX_PARALLEL
from sigscan.engine import Catalog, EngineConfig, Profile
from sigscan.output.common import with_table_names
from sigscan.output.ndjson import NdjsonWriter
from sigscan.output.progress import progress_line
from sigscan.output.text import TextWriter
from sigscan.output.xml import XmlWriter
from sigscan.ports import PortSpec, PortSpecError, ServiceTable, parse_ports, top_ports
from sigscan.results import HostResult, PortResult, ScanInfo
from sigscan.scan import Scanner, ScanOptions
from sigscan.targets import (
    Target,
    TargetError,
    parse_targets,
    read_target_file,
    read_targets,
    resolve_target,
)

DEFAULT_TOP_PORTS = 1000  # Nmap's default port set
RESOLVERS = 8  # name lookups at once
PROGRESS_EVERY = 0.5  # seconds between progress line updates


def run_scan(args: argparse.Namespace) -> int:
    verbose = int(bool(args.verbose)) + args.scan_verbose
    targets = _targets(args)  # first: a mistyped target is told before any bundle problem
    located = locate(args.bundle)
    with open_bundle(located.path) as bundle:
        if verbose:
            print(f"sigscan: bundle {located.path} ({located.reason})", file=sys.stderr)
        table = ServiceTable.from_bundle(bundle)
        ports = _port_spec(args, table)
        config = EngineConfig(intensity=7 if args.intensity is None else args.intensity,
                              profile=Profile(args.profile))
        options = ScanOptions(max_parallel=args.max_parallel or DEFAULT_MAX_PARALLEL,
                              max_host_parallel=args.max_host_parallel)
        info = ScanInfo(args=shlex.join(["sigscan", *args.argv]), start=time.time(),
                        tcp_ports=_union(targets, ports, "tcp"),
                        udp_ports=_union(targets, ports, "udp"), verbose=verbose)
        with _Outputs(args, info, table) as outputs:
            return _run(bundle, config, options, targets, ports, outputs)


def _run(bundle: Bundle, config: EngineConfig, options: ScanOptions, targets: list[Target],
         ports: PortSpec, outputs: _Outputs) -> int:
    catalog = Catalog.from_bundle(bundle)
    total = sum(len(t.ports if t.ports is not None else ports) for t in _unique(targets))
    progress = _Progress(total) if sys.stderr.isatty() else None
    outputs.progress = progress
    scanner = Scanner(catalog, config, options, on_port=outputs.port, on_host=outputs.host)
    try:
        asyncio.run(_scan(scanner, targets, ports, outputs))
    except BaseExceptionGroup as group:  # a task failed: a bundle error goes out as one line
        bundle_errors = group.subgroup(BundleError)
        if bundle_errors is None:
            raise
        raise _first(bundle_errors) from group
    finally:
        if progress is not None:
            progress.clear()
    return 0


def _first(group: BaseExceptionGroup[BundleError]) -> BundleError:
    inner = group.exceptions[0]
    return _first(inner) if isinstance(inner, BaseExceptionGroup) else inner


async def _scan(scanner: Scanner, targets: list[Target], ports: PortSpec, outputs: _Outputs) -> None:
    try:
        await scanner.run(targets, ports)
    except asyncio.CancelledError:  # Ctrl-C: asyncio.run turns it into KeyboardInterrupt after us
        for host in scanner.unfinished():
            outputs.host(host)
        outputs.finish("interrupted by the user (Ctrl-C)")
        print(f"sigscan: interrupted: wrote the {outputs.ports} port(s) that finished", file=sys.stderr)
        raise
    outputs.finish(None)


# -- arguments ----------------------------------------------------------------------------------


def _port_spec(args: argparse.Namespace, table: ServiceTable) -> PortSpec:
    protocols = tuple(p for p, on in (("tcp", args.tcp or not args.udp), ("udp", args.udp)) if on)
    try:
        spec = parse_ports(args.ports, protocols=protocols, table=table) if args.ports else None
        if args.top_ports is not None or spec is None:
            count = DEFAULT_TOP_PORTS if args.top_ports is None else args.top_ports
            spec = top_ports(table, count, protocols=protocols, within=spec)
    except PortSpecError as exc:
        raise _Usage(str(exc)) from None
    if not spec:
        raise _Usage(f"no {'/'.join(protocols).upper()} ports to scan in -p {args.ports!r}")
    return spec


def _targets(args: argparse.Namespace) -> list[Target]:
    try:
        targets = parse_targets(args.targets)
        if args.input_list == "-":
            targets += read_targets(sys.stdin, source="-")
        elif args.input_list:
            targets += read_target_file(args.input_list)
        if not targets:
            raise _Usage("no targets: give addresses, names or blocks, or -iL FILE")
        with ThreadPoolExecutor(RESOLVERS) as pool:
            return list(pool.map(resolve_target, targets))
    except (TargetError, OSError) as exc:
        raise _Usage(str(exc)) from None


def _unique(targets: Sequence[Target]) -> list[Target]:
    """The first target of each address (the scanner scans an address once)."""
    seen: dict[str | None, Target] = {}
    for target in targets:
        seen.setdefault(target.address, target)
    return list(seen.values())


def _union(targets: Sequence[Target], ports: PortSpec, proto: str) -> tuple[int, ...]:
    chosen = set(ports.of(proto)) if any(t.ports is None for t in targets) else set()
    for target in targets:
        if target.ports is not None:
            chosen.update(target.ports.of(proto))
    return tuple(sorted(chosen))


# -- outputs ------------------------------------------------------------------------------------


class _Outputs:
    """The writers of one scan and the files they write to."""

    def __init__(self, args: argparse.Namespace, info: ScanInfo, table: ServiceTable) -> None:
        self.args, self.info, self.table = args, info, table
        self.progress: _Progress | None = None
        self.ports = 0
        self.finished = False
        self._stack = ExitStack()
        self.texts: list[TextWriter] = []
        self.xml: XmlWriter | None = None
        self.ndjson: NdjsonWriter | None = None

    def __enter__(self) -> _Outputs:
        try:
            to_stdout = "-" in (self.args.normal, self.args.xml, self.args.ndjson)
            if not to_stdout:
                self.texts.append(TextWriter(sys.stdout, self.info, file=False))
            if self.args.normal:
                self.texts.append(TextWriter(self._open(self.args.normal), self.info, file=True))
            if self.args.xml:
                self.xml = XmlWriter(self._open(self.args.xml), self.info)
            if self.args.ndjson:
                self.ndjson = NdjsonWriter(self._open(self.args.ndjson))
        except BaseException:
            self._stack.close()
            raise
        for writer in (*self.texts, self.xml):
            if writer is not None:
                writer.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, *exc: object) -> None:
        try:
            if kind is not None and issubclass(kind, KeyboardInterrupt) and not self.finished:
                self.finish("interrupted by the user (Ctrl-C)")
            elif isinstance(error, BundleError) and not self.finished:  # found mid-scan (a line
                self.finish(f"the bundle cannot be used: {error}")  # read late): close what is open
        finally:
            self._stack.close()

    def _open(self, name: str) -> IO[str]:
        if name == "-":
            return sys.stdout
        try:
            return self._stack.enter_context(open(name, "w", encoding="utf-8"))
        except OSError as exc:
            raise _Usage(f"cannot write {name}: {exc.strerror}") from None

    def port(self, result: PortResult) -> None:
        self.ports += 1
        if self.ndjson is not None:
            self.ndjson.write(result)
        if self.progress is not None:
            self.progress.update(self.ports)

    def host(self, host: HostResult) -> None:
        named = with_table_names(host, self.table.name)
        if self.progress is not None:
            self.progress.clear()
        for writer in (*self.texts, self.xml):
            if writer is not None:
                writer.host(named)

    def finish(self, errormsg: str | None) -> None:
        self.finished = True
        info = replace(self.info, end=time.time(), errormsg=errormsg)
        for writer in (*self.texts, self.xml):
            if writer is not None:
                writer.finish(info)


class _Progress:
    """``Progress: 1200/4000 ports (30.0%), 85.3 ports/s, …`` on stderr, redrawn in place."""

    def __init__(self, total: int, clock: Callable[[], float] = time.monotonic,
                 stream: IO[str] | None = None) -> None:
        self.total, self.clock = total, clock
        self.stream = stream or sys.stderr
        self.started = clock()
        self.last = float("-inf")
        self.shown = False

    def update(self, done: int) -> None:
        now = self.clock()
        if now - self.last < PROGRESS_EVERY and done < self.total:
            return
        self.last = now
        self.stream.write("\r" + progress_line(done, self.total, now - self.started) + "\x1b[K")
        self.stream.flush()
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.shown = False
