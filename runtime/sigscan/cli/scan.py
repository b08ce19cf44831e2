"""``sigscan scan``: arguments → bundle, ports, targets → :class:`~sigscan.scanning.scanner.Scanner` → outputs.

Checked before any packet is sent, each failure one line and exit status 2: the bundle, the port
specification, the targets (syntax, ``-iL`` file, name resolution) and the output files.

Outputs: normal output on stdout (Nmap's screen form) unless a ``-o`` option names ``-`` (or
standard output's own file, such as ``/dev/stdout``); ``-oN`` (file form), ``-oX`` and ``-oJ``
files, written under :mod:`sigscan.bundle.files`' rules (a regular file is written beside its name and
renamed into place when the scan ends; a device or FIFO is written as a stream). NDJSON gets
every port as it finishes (closed and filtered ones included, so each requested port appears
once), text and XML get each host when all its ports are done. A progress line goes to stderr
while it is a terminal; status reports (a key pressed on a terminal standard input,
``--stats-every``) go to the screen's normal output and the XML; the version trace
(``--version-trace``, ``-d2`` and up) goes to stderr (:mod:`sigscan.cli.live`).

Ctrl-C: the scan is cancelled (every socket closed), the hosts not written yet are written with
the ports that finished, XML ends with ``exit="error"``, and the exit status is 130; SIGTERM
does the same, exit status 143. An output
that cannot be written (a full disk) stops the scan the same way, its other outputs finished
and put in place, with one line on stderr and exit status 2. An output whose reader goes away
(a closed pipe: ``| head``) is dropped without a word; the scan goes on for the others, and
stops, with exit status 0, when none is left.
"""

from __future__ import annotations

import argparse
import asyncio
import shlex
import signal
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from sigscan.bundle import files
from sigscan.bundle.errors import BundleError
from sigscan.bundle.loader import Bundle, open_bundle
from sigscan.bundle.locate import locate
from sigscan.cli.errors import Terminated, Usage
from sigscan.cli.live import Console, Keys, Live
from sigscan.engine import EngineConfig, Profile, TraceLevel
from sigscan.engine.results import HostResult, PortResult, ScanInfo
from sigscan.net.driver import DEFAULT_MAX_PARALLEL
from sigscan.output.common import with_table_names
from sigscan.output.ndjson import NdjsonWriter
from sigscan.output.progress import Status
from sigscan.output.text import TextWriter
from sigscan.output.xml import XmlWriter
from sigscan.scanning.plan import bundle_error, port_spec, ready_catalog, resolve_targets
from sigscan.scanning.ports import PortSpec, PortSpecError, ServiceTable
from sigscan.scanning.scanner import Scanner, ScanOptions
from sigscan.scanning.targets import (
    Target,
    TargetError,
    parse_targets,
    read_target_file,
    read_targets,
)


def trace_level(version_trace: bool, debugging: int) -> TraceLevel:
    """What the engines trace: Nmap traces the version scan with ``--version-trace`` or from
    debug level 2 up; sigscan adds each line tried from debug level 3 up."""
    if not version_trace and debugging < 2:
        return TraceLevel.OFF
    return TraceLevel.LINES if debugging >= 3 else TraceLevel.EVENTS


def run_scan(args: argparse.Namespace) -> int:
    verbose = int(bool(args.verbose)) + args.scan_verbose
    console = Console()  # stderr, shared with the progress line
    targets = _targets(args)  # first: a mistyped target is told before any bundle problem
    located = locate(args.bundle)
    with open_bundle(located.path) as bundle:
        if verbose:
            console.line(f"sigscan: bundle {located.path} ({located.reason})")
        table = ServiceTable.from_bundle(bundle)
        ports = _port_spec(args, table)
        config = EngineConfig(intensity=7 if args.intensity is None else args.intensity,
                              profile=Profile(args.profile),
                              trace=trace_level(args.version_trace, args.debugging),
                              debugging=args.debugging)
        options = ScanOptions(max_parallel=args.max_parallel or DEFAULT_MAX_PARALLEL,
                              max_host_parallel=args.max_host_parallel)
        info = ScanInfo(args=shlex.join(["sigscan", *args.argv]), start=time.time(),
                        tcp_ports=_union(targets, ports, "tcp"),
                        udp_ports=_union(targets, ports, "udp"), verbose=verbose,
                        debugging=args.debugging)
        inputs = [located.path, *([args.input_list] if args.input_list not in (None, "-") else [])]
        with _Outputs(args, info, table, inputs) as outputs:
            outputs.console = console
            code = 0 if outputs.stopped else _run(bundle, config, options, targets, ports, outputs,
                                                  verbose, args)
    if outputs.failure is not None:
        raise outputs.failure
    return code


def _run(bundle: Bundle, config: EngineConfig, options: ScanOptions, targets: list[Target],
         ports: PortSpec, outputs: _Outputs, verbose: int, args: argparse.Namespace) -> int:
    catalog = ready_catalog(bundle)
    console = outputs.console or Console()

    def note(message: str) -> None:
        if verbose:
            console.line(f"sigscan: {message}")

    scanner = Scanner(catalog, config, options, on_port=outputs.port, on_host=outputs.host,
                      on_note=note,
                      on_trace=console.line if config.trace is not TraceLevel.OFF else None)
    live = outputs.live = Live(scanner.progress, console, outputs, args.stats_every)
    try:
        with Keys(enabled=args.input_list != "-") as keys:  # -iL - has read standard input
            asyncio.run(_scan(scanner, targets, ports, outputs, live, keys))
    except BaseExceptionGroup as group:  # a task failed: a bundle error goes out as one line
        unusable = bundle_error(group)
        if unusable is None:
            raise
        raise unusable from group
    finally:
        console.clear()
    return 0


async def _scan(scanner: Scanner, targets: list[Target], ports: PortSpec, outputs: _Outputs,
                live: Live | None = None, keys: Keys | None = None) -> None:
    """Run the scan in a task of its own, which the outputs cancel when they must stop it, and
    SIGTERM too (the loop takes the signal over from :func:`sigscan.cli.commands.main`'s handler, which
    would raise in the middle of the loop's own code). The progress line and the status reports
    run beside it (``live``, ``keys``) and stop with it."""
    scan = asyncio.create_task(scanner.run(targets, ports))
    watch = asyncio.create_task(live.run()) if live is not None and live.needed else None
    if watch is not None and live is not None:
        def ended(_: object) -> None:  # before the outputs' last words
            watch.cancel()
            live.ended()

        scan.add_done_callback(ended)
    if keys is not None and live is not None:
        keys.listen(live.report)
    try:
        await _await_scan(scan, scanner, outputs)
    finally:
        if keys is not None:
            keys.stop()
        if watch is not None:
            watch.cancel()
            await asyncio.wait({watch})


async def _await_scan(scan: asyncio.Task[None], scanner: Scanner, outputs: _Outputs) -> None:
    outputs.on_stop = scan.cancel
    terminated = False

    def terminate() -> None:
        nonlocal terminated
        terminated = True
        scan.cancel()

    loop = asyncio.get_running_loop()
    previous = signal.getsignal(signal.SIGTERM)
    loop.add_signal_handler(signal.SIGTERM, terminate)
    try:
        await scan
    except asyncio.CancelledError:
        outputs.on_stop = _nothing
        if terminated:
            _finish_early(scanner, outputs, "terminated (SIGTERM)")
            outputs.say(f"sigscan: terminated: wrote the {outputs.ports} port(s) that finished")
            raise Terminated from None
        if not outputs.stopped:  # Ctrl-C: asyncio.run turns it into KeyboardInterrupt after us
            _finish_early(scanner, outputs, "interrupted by the user (Ctrl-C)")
            outputs.say(f"sigscan: interrupted: wrote the {outputs.ports} port(s) that finished")
            raise
        _finish_early(scanner, outputs, None if outputs.failure is None else str(outputs.failure))
        return
    finally:
        loop.remove_signal_handler(signal.SIGTERM)  # which sets the default action: put back ours
        signal.signal(signal.SIGTERM, previous)
    outputs.on_stop = _nothing
    outputs.finish(None)


def _finish_early(scanner: Scanner, outputs: _Outputs, errormsg: str | None) -> None:
    """The hosts not written yet, with the ports that finished, then the end of each output."""
    for host in scanner.unfinished():
        outputs.host(host)
    outputs.finish(errormsg)


def _nothing() -> None:
    pass


# -- arguments ----------------------------------------------------------------------------------


def _port_spec(args: argparse.Namespace, table: ServiceTable) -> PortSpec:
    protocols = tuple(p for p, on in (("tcp", args.tcp or not args.udp), ("udp", args.udp)) if on)
    try:
        return port_spec(args.ports, protocols=protocols, table=table, top=args.top_ports)
    except PortSpecError as exc:
        raise Usage(str(exc)) from None


def _targets(args: argparse.Namespace) -> list[Target]:
    try:
        targets = parse_targets(args.targets)
        if args.input_list == "-":
            targets += read_targets(_stdin_lines(), source="-")
        elif args.input_list:
            targets += read_target_file(args.input_list)
        if not targets:
            raise Usage("no targets: give addresses, names or blocks, or -iL FILE")
        return resolve_targets(targets)
    except (TargetError, OSError) as exc:
        raise Usage(str(exc)) from None


def _stdin_lines() -> list[str]:
    """The lines of ``-iL -``, read with the bound every input has (sigscan.bundle.files)."""
    try:
        return files.read_stream(sys.stdin.buffer).decode("utf-8", "replace").splitlines()
    except OSError as exc:
        raise TargetError(f"cannot read targets from standard input: {exc.strerror}") from None


def _union(targets: Sequence[Target], ports: PortSpec, proto: str) -> tuple[int, ...]:
    chosen = set(ports.of(proto)) if any(t.ports is None for t in targets) else set()
    for target in targets:
        if target.ports is not None:
            chosen.update(target.ports.of(proto))
    return tuple(sorted(chosen))


# -- outputs ------------------------------------------------------------------------------------


class _Document(Protocol):
    """What the text and XML writers have in common."""

    def start(self) -> None: ...

    def host(self, host: HostResult) -> None: ...

    def status(self, report: Status) -> None: ...

    def finish(self, info: ScanInfo | None = None) -> None: ...


@dataclass(frozen=True, slots=True)
class _Sink:
    """One writer (a document or NDJSON) and the output it writes to; standard output may have
    several."""

    output: files.Output
    document: _Document | None = None
    ndjson: NdjsonWriter | None = None


class _Outputs:
    """The writers of one scan and the outputs they write to.

    An output that fails is dropped: quietly when its reader went away (EPIPE); any other failure
    is kept in ``failure`` (told when the scan has ended) and stops the scan (``on_stop``), whose
    other outputs are then finished as after Ctrl-C. When no output is left the scan stops too.
    Files are put in place when the scan ends, after Ctrl-C or such a stop included; an
    unexpected error leaves the old files as they were."""

    def __init__(self, args: argparse.Namespace, info: ScanInfo, table: ServiceTable,
                 inputs: Sequence[str]) -> None:
        self.args, self.info, self.table = args, info, table
        self.inputs = list(inputs)
        self.console: Console | None = None
        self.live: Live | None = None
        self.ports = 0
        self.finished = False
        self.sinks: list[_Sink] = []
        self.failure: files.OutputError | None = None
        self.stopped = False
        self.on_stop: Callable[[], object] = _nothing
        self._opened: list[files.Output] = []
        self._stdout: files.Output | None = None

    def __enter__(self) -> _Outputs:
        args, info = self.args, self.info
        try:
            if not any(name is not None and _is_stdout(name) for name in (args.normal, args.xml, args.ndjson)):
                output = self._open("-")
                self.sinks.append(_Sink(output, document=TextWriter(self._text(output), info, file=False)))
            if args.normal is not None:
                output = self._open(args.normal)
                self.sinks.append(_Sink(output, document=TextWriter(self._text(output), info, file=True)))
            if args.xml is not None:
                output = self._open(args.xml)
                self.sinks.append(_Sink(output, document=XmlWriter(self._text(output), info)))
            if args.ndjson is not None:
                output = self._open(args.ndjson)
                self.sinks.append(_Sink(output, ndjson=NdjsonWriter(self._text(output))))
        except BaseException:
            self._close(keep=False)
            raise
        self._each(_start)
        if self.failure is not None:
            self._close(keep=False)
            raise self.failure
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, *exc: object) -> None:
        # Ctrl-C, or a bundle found unusable mid-scan (a line is checked when first read): the
        # outputs keep the hosts written so far, closed with the reason, and are put in place.
        interrupted = kind is not None and issubclass(kind, KeyboardInterrupt | Terminated)
        unusable = isinstance(error, BundleError)
        try:
            if interrupted and not self.finished:
                self.finish("interrupted by the user (Ctrl-C)")
            elif unusable and not self.finished:
                self.finish(f"the bundle cannot be used: {error}")
        finally:
            self._close(keep=kind is None or interrupted or unusable)

    def _open(self, name: str) -> files.Output:
        if _is_stdout(name):
            if self._stdout is None:
                self._stdout = files.stdout_output()
            return self._stdout
        output = files.open_output(name, inputs=self.inputs)
        self._opened.append(output)
        if output.dest is not None and any(o.dest == output.dest for o in self._opened[:-1]):
            raise files.OutputError(name, "another -o option writes it already; name two files")
        return output

    def _text(self, output: files.Output) -> files.TextOutput:
        if output is self._stdout:
            return files.TextOutput(output, getattr(sys.stdout, "encoding", None) or "utf-8")
        return files.TextOutput(output)

    def _close(self, *, keep: bool) -> None:
        """Put every file in place (``keep``) or leave the old ones as they were."""
        for output in self._opened:
            if not keep:
                output.discard()
                continue
            try:
                output.commit()
            except files.OutputError as exc:
                self.failure = self.failure or exc

    def _each(self, action: Callable[[_Sink], object]) -> None:
        if self.console is not None:
            self.console.clear()  # the progress line, which may share the terminal
        for sink in list(self.sinks):
            try:
                action(sink)
            except files.OutputError as exc:
                self._drop(sink, exc)

    def _drop(self, sink: _Sink, exc: files.OutputError) -> None:
        self.sinks.remove(sink)
        if not exc.closed and self.failure is None:
            self.failure = exc
        if (self.failure is not None or not self.sinks) and not self.stopped:
            self.stopped = True
            self.on_stop()

    def port(self, result: PortResult) -> None:
        self.ports += 1

        def write(sink: _Sink) -> None:
            if sink.ndjson is not None:
                sink.ndjson.write(result)

        self._each(write)
        if self.live is not None:
            self.live.port_done()

    def host(self, host: HostResult) -> None:
        named = with_table_names(host, self.table.name)

        def write(sink: _Sink) -> None:
            if sink.document is not None:
                sink.document.host(named)

        self._each(write)

    def say(self, text: str) -> None:
        """One line on stderr (through the console, which keeps the progress line apart)."""
        (self.console or Console()).line(text)

    def status(self, report: Status) -> None:
        """A status report: Nmap's two lines on the screen, ``<taskprogress>`` in the XML."""
        def write(sink: _Sink) -> None:
            if sink.document is not None:
                sink.document.status(report)

        self._each(write)

    def finish(self, errormsg: str | None) -> None:
        self.finished = True
        info = replace(self.info, end=time.time(), errormsg=errormsg)

        def write(sink: _Sink) -> None:
            if sink.document is not None:
                sink.document.finish(info)

        self._each(write)


def _start(sink: _Sink) -> None:
    if sink.document is not None:
        sink.document.start()


def _is_stdout(name: str) -> bool:
    """``-`` or standard output's own file (``/dev/stdout``): written with the normal output's
    place taken, as Nmap's ``-oX -``."""
    return name == "-" or files.is_stdout(name)
