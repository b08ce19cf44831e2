"""``sigc``: build, lint, stats, dump. A thin layer over the library; errors are one clear line."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

import sigc
from sigc import emit, report
from sigc.analyze import Purpose
from sigc.build import BuildResult, UnusableInput, build, compile_inputs, paused_gc, require_usable
from sigc.codes import all_codes, markdown
from sigc.diagnostics import Diagnostic, Severity
from sigc.dump import dump
from sigc.emit import encoding_of
from sigc.lint import all_findings
from sigc.sources import PROBES_FILE, SIGNATURES_GLOB, Inputs, NoDatabase, resolve
from sigc.stats import bundle_stats, is_bundle, source_stats
from sigc.syntax.parser import parse_file
from sigscan.bundle import files
from sigscan.bundle import jsonio as _json
from sigscan.bundle.errors import BundleError
from sigscan.bundle.loader import open_bundle

DEFAULT_OUTPUT = Path("build") / "signatures.db"
EXIT_OK, EXIT_FINDINGS, EXIT_UNUSABLE = 0, 1, 2
EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 143  # 128 + SIGINT, 128 + SIGTERM


class UsageError(Exception):
    """Input sigc cannot use at all; the CLI prints it on one line and exits 2."""


def user_bundle_path(environ: dict[str, str] | None = None) -> Path:
    """Where ``sigc build --install`` puts the bundle and sigscan looks for it last."""
    env = os.environ if environ is None else environ
    base = Path(env["XDG_DATA_HOME"]) if env.get("XDG_DATA_HOME") else Path.home() / ".local" / "share"
    return base / "sigscan" / "signatures.db"


class Terminated(Exception):
    """SIGTERM arrived: the command stops as after Ctrl-C, every output left as it was."""


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


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        with _OnSigterm():
            code: int = args.run(args)
    except (UsageError, NoDatabase, UnusableInput, BundleError, files.OutputError) as exc:
        print(f"sigc: error: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    except BrokenPipeError:  # standard error's reader went away: nothing left to tell
        files.silence_stdout()
        return EXIT_OK
    except KeyboardInterrupt:
        print("sigc: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Terminated:
        print("sigc: terminated", file=sys.stderr)
        return EXIT_TERMINATED
    return code


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sigc", description="Compile nmap-service-probes into sigscan bundles.")
    parser.add_argument("--version", action="version", version=f"sigc {sigc.__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("build", help="compile probe files into a bundle (SQLite, or JSON with a .json name)")
    p.add_argument("sources", nargs="*", metavar="SOURCE",
                   help="nmap-service-probes files or folders; default: the installed Nmap database plus signatures/*.probes")
    p.add_argument("-o", "--output", type=Path, help=f"bundle to write (default {DEFAULT_OUTPUT}; .json selects JSON)")
    p.add_argument("--install", action="store_true", help=f"write to the user data folder ({user_bundle_path()})")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    p.set_defaults(run=cmd_build)

    p = sub.add_parser("lint", help="check probe files and report every finding")
    p.add_argument("sources", nargs="*", metavar="SOURCE")
    p.add_argument("--list-codes", action="store_true", help="print every diagnostic code (Markdown) and exit")
    p.add_argument("--format", choices=("text", "json", "sarif"), default="text")
    p.add_argument("--strict", action="store_true", help="warnings fail too (exit 1)")
    p.add_argument("--select", help="only these codes (comma-separated prefixes)")
    p.add_argument("--ignore", help="skip these codes (comma-separated prefixes)")
    p.set_defaults(run=cmd_lint)

    p = sub.add_parser("stats", help="counts of a probe file or a bundle, as one JSON object")
    p.add_argument("path", type=Path)
    p.set_defaults(run=cmd_stats)

    p = sub.add_parser("dump", help="render a bundle back into nmap-service-probes syntax")
    p.add_argument("bundle", type=Path)
    p.add_argument("-o", "--output", type=Path, help="write here instead of standard output")
    p.set_defaults(run=cmd_dump)
    return parser


def _inputs(sources: Sequence[str]) -> Inputs:
    for s in sources:
        if not Path(s).exists():
            raise UsageError(f"no such file or folder: {s}")
    return resolve(sources)


def cmd_build(args: argparse.Namespace) -> int:
    if args.install and args.output:
        raise UsageError("--install and --output name two places; choose one")
    output: Path = user_bundle_path() if args.install else (args.output or DEFAULT_OUTPUT)
    inputs = _inputs(args.sources)
    clock = time.perf_counter()
    options: dict[str, object] = {"encoding": encoding_of(output)}
    result = build(inputs, output, options)
    elapsed = time.perf_counter() - clock
    findings = result.diagnostics
    errors = [d for d in findings if d.severity is Severity.ERROR]
    unreadable = next((d for d in errors if d.code == "SIG120"), None)
    if unreadable is not None:
        raise UsageError(unreadable.message)
    if errors:
        sys.stderr.writelines(report.text_lines(errors, _source_lines(result.database, errors)))
        print(f"sigc: {len(errors)} error(s); no bundle written", file=sys.stderr)
        return EXIT_FINDINGS
    if not args.quiet:
        summary = _summary(result, inputs, elapsed)
        if files.is_stdout(output):  # the bundle went to standard output: keep it clean
            sys.stderr.write(summary)
        else:
            _print(summary)
    return EXIT_OK


def _summary(result: BuildResult, inputs: Inputs, elapsed: float) -> str:
    """One screen on what was built."""
    db = result.database
    counts = emit.counts(db)
    warnings = sum(1 for d in result.diagnostics if d.severity is Severity.WARNING)
    infos = sum(1 for d in result.diagnostics if d.severity is Severity.INFO)
    size = result.size or 0
    steps = ", ".join(f"{k} {v:.2f}s" for k, v in result.seconds.items())
    lines = [f"  source       {p}" for p in inputs.probes]
    lines += [
        f"  probes       {counts['probes']} ({counts['tcp_probes']} TCP, {counts['udp_probes']} UDP)",
        f"  matches      {counts['matches']}",
        f"  softmatches  {counts['softmatches']}",
        f"  services     {counts['services']} names in match lines",
        f"  tables       nmap-services: {len(db.services)} entries, nmap-rpc: {len(db.rpc)} programs",
        f"  findings     0 errors, {warnings} warnings, {infos} info (details: sigc lint)",
        f"  wrote        {result.output} ({result.encoding}, {size / 1e6:.1f} MB) in {elapsed:.2f}s ({steps})",
    ]
    return "sigc build\n" + "\n".join(lines) + "\n"


def _print(data: str | bytes | Iterable[str | bytes]) -> None:
    """Write to standard output, part by part when given an iterable (text in its encoding, any
    character it cannot hold escaped: messages quote the files' bytes). A reader that went away
    ends the output quietly; any other failure is :class:`sigscan.bundle.files.OutputError`."""
    out = files.stdout_output()
    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
    parts = (data,) if isinstance(data, str | bytes) else data
    try:
        out.writelines(p if isinstance(p, bytes) else p.encode(encoding, "backslashreplace") for p in parts)
        out.flush()
    except files.OutputError as exc:
        if not exc.closed:
            raise


def _source_lines(db: object, findings: Sequence[Diagnostic]) -> dict[str, dict[int, bytes]]:
    """The lines the findings are on, by file and line number, read from the probe files (only
    those lines: a report of a large file shows a part of it)."""
    wanted: dict[str, set[int]] = {}
    for d in findings:
        wanted.setdefault(d.location.path, set()).add(d.location.line)
    lines: dict[str, dict[int, bytes]] = {}
    for s in getattr(db, "sources", ()):
        if s.kind == "probes" and s.path in wanted:
            try:
                lines[s.path] = _read_lines(s.path, wanted[s.path])
            except OSError:
                continue
    return lines


def _read_lines(path: str, numbers: set[int]) -> dict[int, bytes]:
    """Lines ``numbers`` of the file, without their newline; lines end at b"\\n" only, and
    nothing after the last newline is no line (as the parser counts). Read no further than the
    last of them, and opened as every input is (:func:`sigscan.bundle.files.open_input`)."""
    found = {}
    last = max(numbers)
    with files.open_input(path) as f:
        for number, line in enumerate(f, start=1):
            if number in numbers:
                found[number] = line[:-1] if line.endswith(b"\n") else line
            if number >= last:
                break
    return found


def cmd_lint(args: argparse.Namespace) -> int:
    if args.list_codes:
        _print(markdown())
        return EXIT_OK
    if not args.sources:
        raise UsageError("lint needs at least one SOURCE (or --list-codes)")
    select = _codes(args.select, "--select", all_codes())
    ignore = _codes(args.ignore, "--ignore", all_codes())
    inputs = _inputs(_lint_sources(args.sources))
    with paused_gc():
        db, _ = compile_inputs(inputs, purpose=Purpose.LINT)
        require_usable(db, inputs)
        findings = all_findings(db, select=select, ignore=ignore)
    if args.format == "json":
        _print(report.render_json(findings))
    elif args.format == "sarif":
        _print(report.render_sarif(findings))
    else:
        _print(report.text_lines(findings, _source_lines(db, findings)))
    return int(report.exit_code(findings, strict=args.strict))


def _lint_sources(sources: Sequence[str]) -> list[str]:
    """A folder stands for its nmap-service-probes (as for build) or, without one, for the
    *.probes files in it (``sigc lint signatures/``)."""
    out: list[str] = []
    for source in sources:
        folder = Path(source)
        if folder.is_dir() and not (folder / PROBES_FILE).is_file():
            found = sorted(folder.glob(SIGNATURES_GLOB))
            if not found:
                raise UsageError(f"{source}: a folder with neither {PROBES_FILE} nor {SIGNATURES_GLOB} files")
            out += map(str, found)
        else:
            out.append(source)
    return out


def _codes(text: str | None, option: str, known: dict[str, tuple[Severity, str]]) -> tuple[str, ...] | None:
    """The code prefixes of ``--select``/``--ignore`` (None when not given); a prefix that
    names no code is a usage error, not a silent no-op."""
    if text is None:
        return None
    prefixes = tuple(c.strip().upper() for c in text.split(",") if c.strip())
    if not prefixes:
        raise UsageError(f"{option} needs at least one code or prefix (e.g. SIG5, SIG520)")
    for prefix in prefixes:
        if not any(code.startswith(prefix) for code in known):
            raise UsageError(f"{option}: {prefix!r} matches no diagnostic code (sigc lint --list-codes lists them)")
    return prefixes


def cmd_stats(args: argparse.Namespace) -> int:
    path: Path = args.path
    if not path.is_file():
        raise UsageError(f"no such file: {path}")
    if is_bundle(path):
        with open_bundle(path) as bundle:
            stats = bundle_stats(bundle)
    else:
        source = parse_file(path)
        if any(d.code == "SIG120" for d in source.diagnostics):
            raise UsageError(source.diagnostics[0].message)
        stats = source_stats(source)
    _print(_json.dumps(stats) + b"\n")
    return EXIT_OK


def cmd_dump(args: argparse.Namespace) -> int:
    if args.output:
        files.target(args.output, inputs=[args.bundle])  # refused before the bundle is read
    with open_bundle(args.bundle) as bundle:
        lines = dump(bundle)
        if args.output:
            with files.open_output(args.output, inputs=[args.bundle]) as output:
                output.writelines(lines)
        else:
            _print(lines)
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
