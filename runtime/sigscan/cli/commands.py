"""The ``sigscan`` command: ``identify`` and ``scan`` (one subparser each).

``sigscan scan TARGET... [-p PORTS] [--top-ports N] [-sU] [--intensity N | --version-light |
--version-all] [--profile nmap|fast] [-oN F] [-oX F] [-oG F] [-oJ F] [-oA BASE] [-iL FILE]
[--max-parallel N] [--bundle B] [-v]``, and the other options of a ``nmap -sV`` run
(:mod:`sigscan.cli.nmapopts`, docs/scan.md), finds open ports with a connect scan and runs
Nmap's version detection on them (:mod:`sigscan.cli.scan`); exit status 0, 2 on bad arguments,
targets, ports or bundle (one line, no traceback; an option it does not take is named in that
line, a usage error prints the ``scan`` usage), 130 after Ctrl-C and 143 after SIGTERM (what
finished is written). ``sigscan-nmap`` is ``sigscan scan`` under Nmap's argv
(:mod:`sigscan.cli.nmap`).

``-d`` is Nmap's: each ``-d`` (``-dd``, …) raises the debug level and the verbosity by one,
``-dN`` sets both to N (0-10); like Nmap's, its level is only ever attached (``-d 3`` is ``-d``
and a target ``3``). ``--version-trace`` raises the debug level by one, as Nmap's does.

``sigscan identify --probe NAME [--proto tcp|udp] [FILE|-]`` reads one raw response (a file, or
standard input) and prints one JSON object: the verdict (see :class:`sigscan.matcher.verdict.Verdict`).

``sigscan identify --jsonl [FILE|-]`` reads JSON lines ``{"id": …, "probe": …, "proto": …,
"data_b64": …}`` (from FILE, by default standard input) and writes one JSON line per non-blank
input line, in order, each with the input's ``id``, flushed as it goes (memory stays flat however
long the input: a line is read into at most :data:`LINE_LIMIT` bytes). ``probe`` and ``proto``
default to ``--probe`` and ``--proto``. A line that cannot be used (longer than the limit, not
JSON, nested deeper than :data:`MAX_DEPTH`, a number JSON cannot carry such as ``NaN`` or
``1e400``, not an object, bad base64, unknown probe) gives ``{"id": <its id or null>,
"input_line": <number>, "error": "<message>"}`` on standard output and the same message on
standard error, and processing continues; the exit status is then 2 at the end. Every output
line is RFC 8259 JSON. When the reader of standard output goes away, the run ends quietly.

``--explain`` adds an ``explain`` member: the engine, each chain member's candidates (which key
of the prefilter kept each line, and what happened to it) and why the winner won.

Exit status: 0 when every response was identified (matched or not), 2 on errors: missing or
unusable bundle, unknown probe, unreadable input, or (``--jsonl``) any bad line.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import math
import re
import signal
import sys
from collections.abc import Sequence
from typing import IO, TYPE_CHECKING, Any

from sigscan.bundle import files
from sigscan.bundle.errors import BundleError
from sigscan.cli.errors import Terminated, Usage
from sigscan.cli.nmapopts import VersionAction, add_nmap_options, normalize, refusal

if TYPE_CHECKING:  # the matcher (and the regex engine) load only when a command needs them
    from sigscan.matcher import Matcher

EXIT_ERROR = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports Ctrl-C
EXIT_TERMINATED = 143  # 128 + SIGTERM
LINE_LIMIT = 4 * 1024 * 1024  # bytes per --jsonl line: base64 of 3 MiB, far above the 4 KiB a probe keeps
MAX_DEPTH = 64  # nesting of a --jsonl line's JSON; a request is one flat object
MAX_DEBUG = 10  # Nmap's bound on -d and -v levels
_DEBUG_LEVEL = re.compile(r"-d(\d+)")  # -d3: the level attached, as Nmap's getopt "d::" takes it
_TIME_UNITS = {"ms": 0.001, "s": 1.0, "": 1.0, "m": 60.0, "h": 3600.0}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sigscan", description="Identify network services with a sigc bundle.")
    parser.add_argument("-v", "--verbose", action="store_true", help="say which bundle and regex engine are used")
    parser.add_argument("-V", "--version", action=VersionAction, help="print the version and exit")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    identify = commands.add_parser("identify", help="identify recorded responses (no network)")
    identify.add_argument("--bundle", help="bundle file (default: $SIGSCAN_BUNDLE, ./build/signatures.db, "
                                           "then the user data folder)")
    identify.add_argument("--probe", help="the probe the response answers (e.g. NULL, GetRequest)")
    identify.add_argument("--proto", default="tcp", choices=("tcp", "udp"), type=str.lower,
                          help="the probe's protocol (default tcp)")
    identify.add_argument("--jsonl", action="store_true",
                          help='read {"id","probe","proto","data_b64"} lines (FILE or stdin), write one verdict line each')
    identify.add_argument("--explain", action="store_true", help="add what the prefilter kept and why the winner won")
    identify.add_argument("file", nargs="?", default="-", metavar="FILE|-", help="raw response bytes, or JSON lines with --jsonl (default: stdin)")
    identify.set_defaults(run=_identify)
    _add_scan(commands)
    return parser


def _add_scan(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    scan = commands.add_parser(
        "scan", help="find open ports and identify their services (network)",
        description="Connect scan of the ports, then Nmap's version detection (-sV) on the open "
                    "ones. Normal output on stdout unless a -o option names '-'. Exit status: 0 "
                    "done, 2 bad arguments or bundle, 130 interrupted, 143 terminated (finished ports are written).")
    scan.add_argument("targets", nargs="*", metavar="TARGET",
                      help="addresses, names, CIDR blocks, octet ranges (192.0.2.1-20)")
    scan.add_argument("-iL", dest="input_list", metavar="FILE",
                      help="read targets from FILE ('-': stdin); masscan -oL and naabu lines too")
    scan.add_argument("-p", dest="ports", metavar="PORTS",
                      help="ports: 22,80,1000-2000, -p- for all, T:/U: prefixes, service names")
    scan.add_argument("--top-ports", type=_positive, metavar="N",
                      help="the N most common ports of nmap-services (default: 1000 when no -p)")
    scan.add_argument("-sU", dest="udp", action="store_true", help="scan UDP ports")
    scan.add_argument("-sT", dest="tcp", action="store_true",
                      help="scan TCP ports (the default unless -sU is given)")
    scan.add_argument("-sV", dest="version_scan", action="store_true", help=argparse.SUPPRESS)
    level = scan.add_mutually_exclusive_group()
    level.add_argument("--intensity", "--version-intensity", dest="intensity", type=_intensity,
                       metavar="N", help="probe rarity limit 0-9 (default 7)")
    level.add_argument("--version-light", dest="intensity", action="store_const", const=2,
                       help="intensity 2")
    level.add_argument("--version-all", dest="intensity", action="store_const", const=9,
                       help="intensity 9")
    scan.add_argument("--profile", choices=("nmap", "fast"), default="nmap",
                      help="nmap: Nmap's waits and order (default); fast: race and scale the waits")
    scan.add_argument("-oN", dest="normal", metavar="FILE", help="normal output to FILE ('-': stdout)")
    scan.add_argument("-oX", dest="xml", metavar="FILE", help="XML output to FILE ('-': stdout)")
    scan.add_argument("-oJ", dest="ndjson", metavar="FILE",
                      help="NDJSON, one line per port as it finishes, to FILE ('-': stdout)")
    scan.add_argument("--max-parallel", type=_positive, default=None, metavar="N",
                      help="ports in detection at once (default 20, as Nmap)")
    scan.add_argument("--max-host-parallel", type=_positive, default=None, metavar="N",
                      help="ports of one host in detection at once (default: no separate bound)")
    scan.add_argument("--no-plugins", dest="plugins", action="store_false",
                      help="run no version plugin (Nmap's version scripts)")
    scan.add_argument("--no-plugin", dest="plugins_off", action="append", default=[], metavar="NAME",
                      help="leave out the plugin NAME (repeat, or NAME,NAME)")
    scan.add_argument("--plugin-output", action="store_true",
                      help="show what plugins print in text and XML (as Nmap with --script)")
    scan.add_argument("--list-plugins", action="store_true",
                      help="list the version plugins and exit")
    scan.add_argument("--bundle", help="bundle file (default: as for identify)")
    scan.add_argument("-v", dest="scan_verbose", action="count", default=0,
                      help="more detail, each port's notes too (repeat for more)")
    scan.add_argument("-d", dest="debugging", action=_Debug, nargs=0, default=0,
                      help="debugging: -d, -dd … raise the level (and -v) by one, -dN sets both "
                           "to N; -d2 and up trace the version scan, -d3 every line tried")
    scan.add_argument("--debug-level", dest="debugging", action=_Debug, type=_debug_level,
                      help=argparse.SUPPRESS)  # what -dN becomes (see _attached_levels)
    scan.add_argument("--version-trace", dest="debugging", action=_Debug, nargs=0,
                      const="trace", help="show what version detection does, on stderr (raises "
                                          "the debug level by one, as Nmap's)")
    scan.add_argument("--stats-every", type=_interval, metavar="TIME",
                      help="print a status report every TIME (1s, 500ms, 2m, 1h), and a "
                           "<taskprogress> in the XML")
    add_nmap_options(scan)
    scan.set_defaults(run=_scan, version_trace=False)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


class _Debug(argparse.Action):
    """``-d`` (raise the debug level and the verbosity by one), ``--debug-level N`` (what
    ``-dN`` becomes: set both to N) and ``--version-trace`` (raise the debug level, set the
    trace), in the order given, as Nmap reads them."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: object, option_string: str | None = None) -> None:
        level: int = namespace.debugging
        if isinstance(values, int):
            namespace.debugging = namespace.scan_verbose = values
        elif self.const == "trace":
            namespace.version_trace = True
            namespace.debugging = min(level + 1, MAX_DEBUG)
        else:
            namespace.debugging = min(level + 1, MAX_DEBUG)
            namespace.scan_verbose = min(namespace.scan_verbose + 1, MAX_DEBUG)


def _debug_level(text: str) -> int:
    """``-dN``'s N, bounded to 0-10 as Nmap's ``box(0, 10, atoi(N))``."""
    return max(0, min(int(text), MAX_DEBUG))


def _attached_levels(argv: Sequence[str]) -> list[str]:
    """``-dN`` as ``--debug-level=N``: argparse cannot take an argument that is only ever
    attached (``-d 3`` is ``-d`` and the target ``3``, as in Nmap); everything after ``--``
    is left alone."""
    out: list[str] = []
    for i, arg in enumerate(argv):
        if arg == "--":
            return out + list(argv[i:])
        found = _DEBUG_LEVEL.fullmatch(arg)
        out.append(f"--debug-level={found.group(1)}" if found else arg)
    return out


def _interval(text: str) -> float:
    """Nmap's time values (``tval2secs``): a number, then ``ms``, ``s`` (the default), ``m``
    or ``h``, any case: ``1s``, ``500ms``, ``2m``, ``0.5``. Zero turns the reports off."""
    found = re.fullmatch(r"\s*\+?((?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?)([a-zA-Z]*)", text)
    unit = _TIME_UNITS.get(found.group(2).lower()) if found else None
    if found is None or unit is None:
        raise argparse.ArgumentTypeError(f"not a time: {text!r} (a number with ms, s, m or h, such as 1s or 500ms)")
    seconds = float(found.group(1)) * unit
    if not math.isfinite(seconds) or seconds > 2**31:
        raise argparse.ArgumentTypeError(f"not a time sigscan can wait: {text!r}")
    return seconds


def _intensity(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 <= value <= 9:
        raise argparse.ArgumentTypeError(f"must be 0-9, not {value}")
    return value


class _OnSigterm:
    """While the command runs, SIGTERM raises :class:`Terminated`; one that comes as it ends (its
    outputs in place by then) is let go, so that it cannot raise out of the restoring itself."""

    def __enter__(self) -> None:
        self.armed = True
        self.previous = signal.signal(signal.SIGTERM, self.terminate)

    def terminate(self, signum: int, frame: object) -> None:
        if self.armed:
            raise Terminated

    def __exit__(self, *exc: object) -> None:
        self.armed = False
        signal.signal(signal.SIGTERM, self.previous)


def main(argv: Sequence[str] | None = None, *, shown_as: Sequence[str] | None = None) -> int:
    """The command; ``shown_as`` is the command line outputs record (default: ``sigscan`` and
    ``argv``). An option the parser does not know is refused with one line naming it (Nmap's
    options sigscan does not implement say what they are); a target may follow options, as
    in Nmap's command line."""
    given = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args, extras = parser.parse_known_args(_attached_levels(normalize(given)))
    unknown = [arg for arg in extras if arg.startswith("-") and arg != "-"]
    if unknown:
        print(f"sigscan: error: {refusal(unknown[0], args.command)}", file=sys.stderr)
        return EXIT_ERROR
    if extras and args.command != "scan":
        parser.error(f"unrecognized arguments: {' '.join(extras)}")
    if extras:
        args.targets = [*args.targets, *extras]
    args.argv = given
    args.command_line = list(shown_as) if shown_as is not None else ["sigscan", *given]
    try:
        with _OnSigterm():
            return int(args.run(args))
    except (BundleError, Usage, files.OutputError) as exc:
        print(f"sigscan: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:  # standard error's reader went away: nothing left to tell
        files.silence_stdout()
        return 0
    except KeyboardInterrupt:  # `scan` has written what finished and said so
        return EXIT_INTERRUPTED
    except Terminated:
        return EXIT_TERMINATED


# -- scan -----------------------------------------------------------------------------------------


def _scan(args: argparse.Namespace) -> int:
    from sigscan.cli.scan import run_scan  # asyncio, ssl and the engine load only here

    return run_scan(args)


# -- identify -------------------------------------------------------------------------------------


def _identify(args: argparse.Namespace) -> int:
    from sigscan.bundle.loader import open_bundle
    from sigscan.bundle.locate import locate
    from sigscan.matcher import Matcher

    if not args.jsonl and not args.probe:
        raise Usage("identify needs --probe NAME (or --jsonl with a probe per line)")
    located = locate(args.bundle)
    bundle = open_bundle(located.path)
    matcher = Matcher(bundle)
    if args.verbose:
        engines = matcher.engine.name
        if matcher.untimed_engine is not matcher.engine:  # the default: see sigscan.matcher.core
            engines += f" ({matcher.untimed_engine.name} for searches whose cost is provably small)"
        print(f"sigscan: bundle {located.path} ({located.reason}); regex engine {engines}", file=sys.stderr)
    with bundle:
        out = files.stdout_output()
        if args.jsonl and args.file == "-":
            return _identify_lines(matcher, args, sys.stdin.buffer, out)
        if args.jsonl:
            with _open(args.file) as lines:
                return _identify_lines(matcher, args, lines, out)
        data = _read(args.file)
        try:
            _write(out, _result(matcher, args.probe, args.proto, data, args.explain))
        except files.OutputError as exc:
            if not exc.closed:  # a reader that went away has what it wanted
                raise
    return 0


def _read(name: str) -> bytes:
    try:
        if name == "-":
            return files.read_stream(sys.stdin.buffer)
        with _open(name) as f:
            return files.read_stream(f)
    except OSError as exc:
        raise Usage(f"cannot read {name}: {exc.strerror}") from None


def _open(name: str) -> IO[bytes]:
    try:
        return open(name, "rb")
    except OSError as exc:
        raise Usage(f"cannot read {name}: {exc.strerror}") from None


def _result(matcher: Matcher, probe: str, proto: str, data: bytes, explain: bool) -> dict[str, Any]:
    from sigscan.matcher import UnknownProbe

    try:
        if explain:
            verdict, trace = matcher.explain(probe, proto, data)
            return {**verdict.to_dict(), "explain": trace}
        return matcher.identify(probe, proto, data).to_dict()
    except UnknownProbe as exc:
        raise Usage(str(exc)) from None


def _identify_lines(matcher: Matcher, args: argparse.Namespace, stream: IO[bytes],
                    out: files.Output) -> int:
    """One output line per non-blank input line (see the module docstring); the exit status.
    A reader of the output that goes away ends the run quietly; an input that cannot be read
    further (a line that never ends) ends it with one more error object."""
    status = 0
    number = 0
    try:
        for number, line in enumerate(files.bounded_lines(stream, LINE_LIMIT), 1):
            if line is not None and not line.strip():
                continue
            status = max(status, _answer(out, number, _line_record(matcher, args, number, line)))
    except OSError as exc:
        error = f"cannot read the input further ({exc.strerror}); the rest is not read"
        status = _answer(out, number + 1, {"id": None, "input_line": number + 1, "error": error})
    except files.OutputError as exc:
        if not exc.closed:
            raise
    return status


def _answer(out: files.Output, number: int, record: dict[str, Any]) -> int:
    """Write one answer (an error also on stderr); its exit status."""
    status = 0
    if "error" in record:
        print(f"sigscan: error: line {number}: {record['error']}", file=sys.stderr)
        status = EXIT_ERROR
    _write(out, record)
    return status


def _line_record(matcher: Matcher, args: argparse.Namespace, number: int,
                 line: bytes | None) -> dict[str, Any]:
    ident: Any = None
    try:
        if line is None:
            raise Usage(f"line longer than {LINE_LIMIT:,} bytes")
        request = _request(line)
        ident = request.get("id")
        probe, proto, data = _fields(request, args.probe, args.proto)
        return {"id": ident, **_result(matcher, probe, proto, data, args.explain)}
    except Usage as exc:
        return {"id": ident, "input_line": number, "error": str(exc)}


def _request(line: bytes) -> dict[str, Any]:
    """The line's JSON object, read as RFC 8259 says: no ``NaN``/``Infinity``, no number beyond
    a double, at most :data:`MAX_DEPTH` levels (checked before decoding, so the decoder's
    recursion is never at stake)."""
    if line.count(b"[") + line.count(b"{") > MAX_DEPTH and _depth(line) > MAX_DEPTH:
        raise Usage(f"not JSON we accept: nested deeper than {MAX_DEPTH} levels")
    try:
        request = _DECODER.decode(line.decode("utf-8"))
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise Usage(f"not JSON: {exc}") from None
    if not isinstance(request, dict):
        raise Usage("not a JSON object")
    return request


def _depth(line: bytes) -> int:
    """The deepest nesting of ``[``/``{`` in ``line``, brackets inside strings not counted (an
    upper bound for a line that is not JSON; exact for one that is)."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in line:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value (RFC 8259)")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text} does not fit a double")
    return value


# One decoder for every line: json.loads with hooks would build a new one per call (twice the time).
_DECODER = json.JSONDecoder(parse_constant=_no_constant, parse_float=_finite)


def _fields(request: dict[str, Any], probe: str | None, proto: str) -> tuple[str, str, bytes]:
    name = request.get("probe", probe)
    protocol = str(request.get("proto", proto)).lower()
    if not isinstance(name, str) or not name:
        raise Usage("no probe (give \"probe\" in the line or --probe)")
    if protocol not in ("tcp", "udp"):
        raise Usage(f"proto must be tcp or udp, not {request.get('proto')!r}")
    encoded = request.get("data_b64")
    if not isinstance(encoded, str):
        raise Usage("no data_b64 string")
    try:
        return name, protocol, base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise Usage(f"bad base64 in data_b64 ({exc})") from None


def _write(out: files.Output, record: dict[str, Any]) -> None:
    out.write(json.dumps(record, separators=(",", ":"), allow_nan=False).encode() + b"\n")
    out.flush()


if __name__ == "__main__":
    sys.exit(main())
