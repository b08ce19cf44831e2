"""``sigscan scan``: arguments → bundle, ports, targets → :class:`~sigscan.scanning.scanner.Scanner` → outputs.

Checked before any packet is sent, each failure one line and exit status 2: the bundle, the port
specification, the targets (syntax, ``-iL`` file, exclusions, name resolution) and the output
files. Nmap's timing options become :class:`ScanOptions` (:func:`scan_options`).

Outputs: normal output on stdout (Nmap's screen form) unless a ``-o`` option names ``-`` (or
standard output's own file, such as ``/dev/stdout``); ``-oN`` (file form), ``-oX``, ``-oG`` and
``-oJ`` files (``-oA BASE``: the first three as BASE.nmap, BASE.xml, BASE.gnmap; with
``--append-output`` each file keeps its old bytes first), written under :mod:`sigscan.bundle.files`' rules (a regular file is written beside its name and
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
import socket
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
from sigscan.engine.plugin import Plugin
from sigscan.engine.results import HostResult, PortResult, PortState, ScanInfo
from sigscan.output.common import with_table_name, with_table_names
from sigscan.output.grepable import GrepableWriter
from sigscan.output.ndjson import NdjsonWriter
from sigscan.output.progress import Status
from sigscan.output.text import TextWriter
from sigscan.output.xml import XmlWriter
from sigscan.plugins import UnknownPlugin, selected
from sigscan.plugins import load as load_plugin
from sigscan.plugins import names as plugin_names
from sigscan.scanning.plan import (
    bundle_error,
    port_spec,
    ready_catalog,
    resolve_targets,
    reverse_names,
)
from sigscan.scanning.ports import PortSpec, PortSpecError, ServiceTable
from sigscan.scanning.scanner import Scanner, ScanOptions
from sigscan.scanning.targets import (
    DEFAULT_LIMIT,
    Exclusions,
    Target,
    TargetError,
    exclusion_specs,
    parse_exclusions,
    parse_targets,
    read_exclusion_file,
    read_target_file,
    read_targets,
)
from sigscan.scanning.timing import DEFAULT_LEVEL, TEMPLATES

FAST_PORTS = 100  # -F: Nmap's top 100 ports of each protocol scanned
_POSSIBLY_OPEN = (PortState.OPEN, PortState.OPEN_FILTERED)

def trace_level(version_trace: bool, debugging: int) -> TraceLevel:
    """What the engines trace: Nmap traces the version scan with ``--version-trace`` or from
    debug level 2 up; sigscan adds each line tried from debug level 3 up."""
    if not version_trace and debugging < 2:
        return TraceLevel.OFF
    return TraceLevel.LINES if debugging >= 3 else TraceLevel.EVENTS


def run_scan(args: argparse.Namespace) -> int:
    if args.list_plugins:
        return _list_plugins()
    verbose = int(bool(args.verbose)) + args.scan_verbose
    profile = Profile(args.profile)
    plugins = _plugins(args, profile)
    _check_outputs(args)
    options = scan_options(args)
    console = Console()  # stderr, shared with the progress line
    targets = _targets(args)  # first: a mistyped target is told before any bundle problem
    located = locate(args.bundle)
    with open_bundle(located.path) as bundle:
        if verbose:
            console.line(f"sigscan: bundle {located.path} ({located.reason})")
        table = ServiceTable.from_bundle(bundle)
        ports = _port_spec(args, table)
        config = EngineConfig(intensity=7 if args.intensity is None else args.intensity,
                              profile=profile, plugins=plugins,
                              trace=trace_level(args.version_trace, args.debugging),
                              debugging=args.debugging)
        info = ScanInfo(args=shlex.join(args.command_line), start=time.time(),
                        tcp_ports=_union(targets, ports, "tcp"),
                        udp_ports=_union(targets, ports, "udp"), verbose=verbose,
                        open_only=args.open_only, reason=args.reason, debugging=args.debugging)
        if not targets:  # every target excluded: Nmap's warning, and outputs with no host
            console.line("WARNING: No targets were specified, so 0 hosts scanned.")
        inputs = [located.path, *([args.input_list] if args.input_list not in (None, "-") else []),
                  *([args.excludefile] if args.excludefile not in (None, "-") else [])]
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


def _plugins(args: argparse.Namespace, profile: Profile) -> tuple[Plugin, ...]:
    off = {name.strip() for names in args.plugins_off for name in names.split(",") if name.strip()}
    try:
        return selected(profile, off=off, enabled=args.plugins)
    except UnknownPlugin as exc:
        raise Usage(str(exc)) from None


def _list_plugins() -> int:
    """One line per plugin: its name, whether Nmap's -sV runs that script, what it finds."""
    for name in plugin_names():
        plugin = load_plugin(name)
        origin = "nmap" if plugin.nmap else "sigscan"
        print(f"{name:24} {origin:8} {plugin.summary}")
    return 0


def _port_spec(args: argparse.Namespace, table: ServiceTable) -> PortSpec:
    protocols = tuple(p for p, on in (("tcp", args.tcp or not args.udp), ("udp", args.udp)) if on)
    if args.fast and args.ports is not None:
        raise Usage("-F (Nmap's 100 most frequent ports) and -p cannot go together: "
                    "use --top-ports N with -p to take the most frequent ports of a range")
    top = FAST_PORTS if args.fast and args.top_ports is None else args.top_ports
    try:
        return port_spec(args.ports, protocols=protocols, table=table, top=top)
    except PortSpecError as exc:
        raise Usage(str(exc)) from None


def scan_options(args: argparse.Namespace) -> ScanOptions:
    """The scan's waits and parallelism: the ``-T`` template (``-T3`` by default), then each
    option given explicitly, whatever their order (as Nmap applies them)."""
    timing = args.timing or TEMPLATES[DEFAULT_LEVEL]
    if args.min_rate is not None and args.max_rate is not None and args.min_rate > args.max_rate:
        raise Usage(f"--min-rate {args.min_rate:g} is above --max-rate {args.max_rate:g}")
    host_timeout = timing.host_timeout if args.host_timeout is None else args.host_timeout
    return ScanOptions(
        max_parallel=args.max_parallel or timing.detection_parallel,
        max_host_parallel=args.max_host_parallel,
        discovery_parallel=timing.discovery_parallel,
        connect_timeout=timing.connect_timeout,
        retries=timing.retries if args.max_retries is None else args.max_retries,
        scan_delay=timing.scan_delay if args.scan_delay is None else args.scan_delay,
        min_rate=args.min_rate, max_rate=args.max_rate,
        host_timeout=host_timeout or None)  # --host-timeout 0: none, as Nmap


def _targets(args: argparse.Namespace) -> list[Target]:
    """The targets, resolved, without the excluded ones, with their reverse-DNS names (-R)."""
    limit = args.max_addresses or DEFAULT_LIMIT
    family = socket.AF_INET6 if args.ipv6 else socket.AF_UNSPEC
    try:
        targets = parse_targets(args.targets, limit=limit)
        if args.input_list == "-":
            targets += read_targets(_stdin_lines(), source="-", limit=limit)
        elif args.input_list:
            targets += read_target_file(args.input_list, limit=limit)
        if not targets:
            raise Usage("no targets: give addresses, names or blocks, or -iL FILE")
        if args.ipv6:
            _only_ipv6(targets)
        resolved = _exclusions(args, family).apply(resolve_targets(targets, family=family))
        return reverse_names(resolved) if args.resolve_all else resolved
    except (TargetError, OSError) as exc:
        raise Usage(str(exc)) from None


def _only_ipv6(targets: Sequence[Target]) -> None:
    for target in targets:
        if target.address is not None and ":" not in target.address:
            raise Usage(f"-6 scans IPv6 only, and {target.address} is an IPv4 address: "
                        "scan it without -6")


def _exclusions(args: argparse.Namespace, family: int) -> Exclusions:
    specs: list[str] = []
    if args.exclude is not None:
        specs += exclusion_specs(args.exclude)
    if args.excludefile is not None:
        specs += read_exclusion_file(args.excludefile)
    return parse_exclusions(specs, family=family) if specs else Exclusions()


def _check_outputs(args: argparse.Namespace) -> None:
    """``-oA BASE``: the three files of Nmap's three formats, given alone."""
    if args.all_formats is None:
        return
    if args.all_formats == "-" or _is_stdout(args.all_formats):
        raise Usage("-oA writes three files (BASE.nmap, BASE.xml, BASE.gnmap): name a base, not standard output")
    if any(name is not None for name in (args.normal, args.xml, args.grepable)):
        raise Usage("-oA writes BASE.nmap, BASE.xml and BASE.gnmap: give it without -oN, -oX or -oG")
    args.normal = f"{args.all_formats}.nmap"
    args.xml = f"{args.all_formats}.xml"
    args.grepable = f"{args.all_formats}.gnmap"


def _stdin_lines() -> list[str]:
    """The lines of ``-iL -``, read with the bound every input has (sigscan.bundle.files)."""
    try:
        return files.read_stream(sys.stdin.buffer).decode("utf-8", "replace").splitlines()
    except OSError as exc:
        raise TargetError(f"cannot read targets from standard input: {exc.strerror}") from None


def _union(targets: Sequence[Target], ports: PortSpec, proto: str) -> tuple[int, ...]:
    """The ports of ``proto`` the scan asks for (``ports`` when no target names its own, and
    when there is no target at all: Nmap's ``<scaninfo>`` still lists them)."""
    plain = not targets or any(t.ports is None for t in targets)
    chosen = set(ports.of(proto)) if plain else set()
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
            named = (args.normal, args.xml, args.grepable, args.ndjson)
            if not any(name is not None and _is_stdout(name) for name in named):
                output = self._open("-")
                self.sinks.append(_Sink(output, document=TextWriter(self._text(output), info, file=False)))
            if args.normal is not None:
                output = self._open(args.normal)
                self.sinks.append(_Sink(output, document=TextWriter(self._text(output), info, file=True)))
            if args.xml is not None:
                output = self._open(args.xml)
                self.sinks.append(_Sink(output, document=XmlWriter(self._text(output), info)))
            if args.grepable is not None:
                output = self._open(args.grepable)
                self.sinks.append(_Sink(output, document=GrepableWriter(self._text(output), info)))
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
        output = files.open_output(name, inputs=self.inputs, append=self.args.append_output)
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
        named = with_table_name(result, self.table.name)  # as the host's documents will have it
        shown = not self.info.open_only or result.state in _POSSIBLY_OPEN  # --open: NDJSON too

        def write(sink: _Sink) -> None:
            if sink.ndjson is not None and shown:
                sink.ndjson.write(named)

        self._each(write)
        if self.live is not None:
            self.live.port_done()

    def host(self, host: HostResult) -> None:
        named = with_table_names(host, self.table.name)
        if not self.args.plugin_output:  # Nmap's -sV shows no script output without --script
            named = replace(named, ports=tuple(replace(p, scripts=()) if p.scripts else p
                                               for p in named.ports))

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
