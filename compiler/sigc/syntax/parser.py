"""Parse nmap-service-probes text into the model, reporting every problem in one run.

Each line goes through the Lark grammar (``grammar.lark``); the values whose rules are Nmap's C
parsing functions (port lists, ``atoi``/``strtol`` numbers, fallback lists, ``Exclude``) are
checked with those exact rules (most in :mod:`sigc.syntax.values`). Nothing raises on bad input:
problems become diagnostics at ``path:line:col`` and the line is skipped, so one run reports
all of them.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources
from pathlib import Path
from typing import cast

import lark
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from sigc.diagnostics import Diagnostic, Location, Severity
from sigc.syntax.escapes import Dialect, unescape
from sigc.syntax.model import (
    Directive,
    Exclude,
    Match,
    MatchKind,
    PortSet,
    Probe,
    Protocol,
    SourceFile,
    VersionField,
)
from sigc.syntax.values import ISSPACE, atoi, parse_exclude, parse_port_list, parse_protocol, strtol
from sigscan.bundle import files
from sigscan.bundle.fields import Field

# Stable codes of the parser: code -> (severity, summary). Documented in docs/diagnostics.md.
CODES: dict[str, tuple[Severity, str]] = {
    "SIG100": (Severity.ERROR, "line does not parse (syntax error)"),
    "SIG101": (Severity.ERROR, "line starts with whitespace or is only whitespace"),
    "SIG102": (Severity.ERROR, "unknown directive"),
    "SIG103": (Severity.ERROR, "directive before the first Probe"),
    "SIG104": (Severity.ERROR, "Exclude repeated or after a Probe"),
    "SIG105": (Severity.ERROR, "invalid probe protocol (TCP or UDP)"),
    "SIG106": (Severity.ERROR, "bad probe name"),
    "SIG107": (Severity.ERROR, "empty service name"),
    "SIG108": (Severity.ERROR, "illegal regex option (only i and s)"),
    "SIG109": (Severity.ERROR, "unknown version field (template specifier)"),
    "SIG110": (Severity.ERROR, "bad port list"),
    "SIG111": (Severity.ERROR, "rarity is not 1-9"),
    "SIG112": (Severity.ERROR, "totalwaitms/tcpwrappedms not in 100-300000"),
    "SIG113": (Severity.ERROR, "too many fallbacks (Nmap allows 17)"),
    "SIG114": (Severity.ERROR, "second NULL probe (Nmap aborts)"),
    "SIG115": (Severity.ERROR, "line longer than Nmap's line buffer"),
    "SIG116": (Severity.ERROR, "':' as a delimiter: Nmap 7.93 refuses it (newer Nmap accepts it)"),
    "SIG117": (Severity.ERROR, "bad Exclude port specification"),
    "SIG118": (Severity.WARNING, "fallback that names no probe (it does nothing)"),
    "SIG119": (Severity.WARNING, "directive repeated (the last one wins)"),
    "SIG120": (Severity.ERROR, "file cannot be read"),
    "SIG121": (Severity.WARNING, "newer Nmap rejects this (7.93 accepts it)"),
    "SIG122": (Severity.WARNING, "text after a probe string that Nmap ignores"),
    "SIG123": (Severity.ERROR, "NUL byte in a line: Nmap reads the line only up to it"),
}

# Nmap reads the file with fgets into a buffer of 2048 bytes (7.93) or 8192 (HEAD): at most 2047
# (8191) bytes at a time, the newline included. 7.93 parses what a longer line leaves for the
# next read as a line of its own; HEAD refuses the line.
LINE_BUFFER_7_93 = 2048
LINE_BUFFER_HEAD = 8192
_LONGEST_LINE = LINE_BUFFER_7_93 - 1  # bytes before the newline that 7.93 still reads in one piece


def _long_line_message(length: int) -> str:
    pieces = f"line is {length} bytes: Nmap 7.93 reads {_LONGEST_LINE} bytes of it and parses the rest as a new line"
    if length + 1 >= LINE_BUFFER_HEAD:
        return f"{pieces}, and newer Nmap refuses lines longer than {LINE_BUFFER_HEAD - 2} bytes"
    return f"{pieces} (newer Nmap reads it whole): split it, or shorten it"

_MAX_FALLBACKS = 17  # MAXFALLBACKS is 20, but Nmap's check is off by a few
_WAIT_RANGE = (100, 300000)

_EXPECTED = {
    "SERVICE": "a service name followed by one space",
    "PATTERN": "a pattern m<delim>regex<delim>",
    "FIELD": "whitespace and a version field such as p/…/",
    "PROTOCOL": "TCP or UDP",
    "PROBE_NAME": "a probe name",
    "PROBE_STRING": "a probe string q<delim>…<delim>",
    "OPTION": "whitespace and a probe option",
    "TRAILER": "text after the probe string",
    "VALUE": "a value",
    "$END": "the end of the line",
    "_WS": "whitespace",
    "SPACE": "one space",
    "COMMENT": "a comment",
}

_KEYWORDS = (
    "Exclude",
    "Probe",
    "match",
    "softmatch",
    "ports",
    "sslports",
    "rarity",
    "fallback",
    "totalwaitms",
    "tcpwrappedms",
)


@cache
def _lark() -> lark.Lark:
    grammar = resources.files("sigc.syntax").joinpath("grammar.lark").read_text(encoding="utf-8")
    return lark.Lark(grammar, parser="lalr", maybe_placeholders=False, transformer=_Line(), **_lark_cache())


def _lark_cache() -> dict[str, str]:
    """Lark's option to keep the analysed grammar (much quicker to load than to compute:
    benchmarks/test_build.py, docs/benchmarks.md) in the user's cache folder (``$XDG_CACHE_HOME/sigc``, else ``~/.cache/sigc``). Lark stores a digest of
    the grammar, its options and the Lark and Python versions with it, and rebuilds the file
    when they differ. Nothing is cached when the folder cannot be made."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = os.path.join(base, "sigc")
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
    except OSError:
        return {}
    if not os.access(folder, os.W_OK):
        return {}
    return {"cache": os.path.join(folder, "grammar.lark-cache")}


@dataclass(frozen=True, slots=True)
class _Parsed:
    """What the grammar made of one line: the rule's name and its tokens."""

    kind: str
    tokens: tuple[lark.Token, ...]


class _Line(lark.Transformer[lark.Token, _Parsed]):
    """Turns each alternative of the grammar's start rule into a ``_Parsed``."""

    def __default__(self, data: str, children: list[lark.Token], meta: object) -> _Parsed:
        if data.startswith("_"):  # lark's own helper rules (FIELD*), inlined into their parent
            return lark.Tree(data, list[lark.Token | lark.Tree[lark.Token]](children))  # type: ignore[return-value]
        return _Parsed(str(data), tuple(children))


def parse_file(path: str | Path, *, display_path: str | None = None) -> SourceFile:
    """Parse a file from disk. A file that cannot be read gives one SIG120 diagnostic."""
    shown = display_path or str(path)
    try:
        data = files.read_bounded(path)  # a bound, so /dev/zero or a FIFO cannot exhaust memory
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        diag = _diag("SIG120", f"cannot read {shown!r}: {reason}", Location(shown, 1, 1))
        return SourceFile(shown, None, (), (diag,))
    return parse_bytes(data, shown)




def parse_bytes(data: bytes, path: str = "<string>") -> SourceFile:
    """Parse the bytes of an nmap-service-probes file."""
    builder = _Builder(path)
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    for number, raw in enumerate(lines, start=1):
        builder.line(number, raw)
    return builder.finish(data)


# -- the quick path: the common lines without Lark -------------------------------------------------
#
# Comments, blank lines, well-formed match/softmatch lines and the directives whose value is the
# rest of the line (all but the Probe lines of a real file) are read with the grammar's own
# terminal regexes, one token after the other as Lark's contextual lexer reads them (each
# terminal matched where the previous one ended, FIELD before _WS as its priority says, no
# backtracking into a token), giving the same ``_Parsed`` with the same token types, values and
# columns. Anything else, including every line with an error, goes through Lark. A test checks
# both give the same result on the real databases and on generated lines.

_Q_HEAD = re.compile(r"(match |softmatch )([^ ]+ )[ \t\r\f\v]*m([^\sA-Za-z])")  # up to the pattern's delimiter
_Q_FIELD = re.compile(r"[ \t\r\f\v]+[A-Za-z:]*([^\sA-Za-z:])")  # up to the field's delimiter
_Q_FLAGS = re.compile(r"[A-Za-z]*")
_Q_WS = re.compile(r"[ \t\r\f\v]*")
_Q_VALUE = re.compile(r"(Exclude|ports|sslports|fallback|rarity|totalwaitms|tcpwrappedms) ")
_BLANK = _Parsed("blank", ())


def _quick(text: str) -> _Parsed | None:
    """The line parsed without Lark, or None when Lark must read it."""
    if not text:
        return _BLANK
    if text[0] == "#":
        return _Parsed("comment", (lark.Token("COMMENT", text, 0, 1, 1, 1, len(text) + 1, len(text)),))
    found = _quick_match(text)
    if found is None:
        return _quick_value(text)
    kind, spans = found
    kinds = ("SERVICE", "PATTERN", *["FIELD"] * (len(spans) - 2))
    return _Parsed(kind, tuple(_token(k, text, start, end) for k, (start, end) in zip(kinds, spans, strict=True)))


_Span = tuple[int, int]  # where a token starts and ends in its line


def _quick_match(text: str) -> tuple[str, list[_Span]] | None:
    """A well-formed match or softmatch line as its kind and its tokens' spans (the service, the
    pattern, then each field) as :func:`_quick` reads them, or None. The builder reads the line
    from the spans: making the tokens themselves would cost more than the rest of the line."""
    if not text.startswith(("m", "s")) or "\n" in text:  # a line of a file holds no newline
        return None
    head = _Q_HEAD.match(text)
    if head is None:
        return None
    end = _delimited_end(text, head)
    if end is None:
        return None
    spans = [head.span(2), (head.start(3) - 1, end)]
    pos = end
    while pos < len(text):
        field = _Q_FIELD.match(text, pos)
        if field is None:
            pos = _Q_WS.match(text, pos).end()  # type: ignore[union-attr]  # * always matches
            break
        end = _delimited_end(text, field)
        if end is None:
            return None
        spans.append((pos, end))
        pos = end
    if pos != len(text):
        return None
    return head.group(1)[:-1], spans


def _quick_value(text: str) -> _Parsed | None:
    """A directive whose value is the grammar's VALUE: the rest of the line after the keyword
    and its one space, none when that is empty."""
    head = _Q_VALUE.match(text)
    if head is None or "\n" in text:
        return None
    value = (_token("VALUE", text, head.end(), len(text)),) if head.end() < len(text) else ()
    return _Parsed(head.group(1).lower(), value)


def _delimited_end(text: str, opened: re.Match[str]) -> int | None:
    """Where the text after the delimiter ``opened`` ends with (its last group) closes, flags
    included: what the grammar's ``(?:(?!d).)*d[A-Za-z]*`` reads in a line without newline (the
    only other character ``.`` refuses), found with ``str.find`` instead of a lookahead per
    character, the costly part of the quick path. ``None`` when it does not close: the
    terminal's regex might then backtrack into another reading, which Lark finds."""
    close = text.find(opened.group(opened.lastindex or 0), opened.end())
    if close < 0:
        return None
    return _Q_FLAGS.match(text, close + 1).end()  # type: ignore[union-attr]  # * always matches


def _token(kind: str, text: str, start: int, end: int) -> lark.Token:
    return lark.Token(kind, text[start:end], start, 1, start + 1, 1, end + 1, end)


def parse_line(raw: bytes) -> _Parsed:
    """Parse one line with the grammar alone (raises lark's errors); for tests and tools."""
    return _lark().parse(raw.decode("latin-1"))  # type: ignore[return-value]


@dataclass
class _ProbeDraft:
    """A probe being assembled from its lines."""

    probe: Probe
    broken: bool = False  # the Probe line had errors: check its lines, but do not keep it
    matches: list[Match] = field(default_factory=list)
    directives: list[Directive] = field(default_factory=list)


class _Builder:
    """Feeds lines through the grammar and assembles probes, collecting diagnostics."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.diagnostics: list[Diagnostic] = []
        self.exclude: Exclude | None = None
        self.probes: list[Probe] = []
        self.current: _ProbeDraft | None = None
        self.null_seen: Location | None = None
        self.version_line: str | None = None
        # One object per distinct field text: a real file writes 36,000 fields with 14,000 texts.
        self.texts: dict[bytes, bytes] = {}

    # -- driving -------------------------------------------------------------------------

    def line(self, number: int, raw: bytes) -> None:
        loc = Location(self.path, number, 1)
        if len(raw) > _LONGEST_LINE:
            self.report("SIG115", _long_line_message(len(raw)), loc)
            self.skip(raw, loc)
            return
        text = raw.decode("latin-1")
        if not text:
            return
        if text[0] == "#":
            self.comment(text)
            return
        nul = text.find("\0")
        if nul >= 0:
            seen = text[:nul]
            self.report("SIG123", f"NUL byte: Nmap reads a line only up to its first NUL and sees {seen[:60]!r}"
                                  f"{'…' if len(seen) > 60 else ''}, which it refuses or takes without the rest; "
                                  "write the byte as \\0 (\\x00 in a pattern)", loc.shifted(nul))
            self.skip(raw, loc)
            return
        quick = _quick_match(text)
        if quick is not None:
            self.add_match(quick[0], text, quick[1], loc)
            return
        parsed = _quick_value(text)
        if parsed is None:
            try:
                parsed = cast(_Parsed, _lark().parse(text))
            except UnexpectedInput as exc:
                self.syntax_error(text, exc, loc)
                return
        if parsed.kind in _MATCH_KINDS:
            spans = [(t.start_pos, t.end_pos) for t in parsed.tokens]
            self.add_match(parsed.kind, text, spans, loc)  # type: ignore[arg-type]  # Lark sets both
            return
        handler = getattr(self, f"on_{parsed.kind}")
        tokens = parsed.tokens
        if not tokens and parsed.kind in _VALUE_KINDS:  # an empty value: the directive's reader says why
            tokens = (_token("VALUE", text, len(text), len(text)),)
        handler(tokens, loc)

    def finish(self, data: bytes) -> SourceFile:
        self.close_probe()
        return SourceFile(
            path=self.path,
            exclude=self.exclude,
            probes=tuple(self.probes),
            diagnostics=tuple(self.diagnostics),
            version_line=self.version_line,
            sha256=hashlib.sha256(data).hexdigest(),
        )

    def error_count(self) -> int:
        return sum(1 for d in self.diagnostics if d.severity is Severity.ERROR)

    def report(self, code: str, message: str, loc: Location, severity: Severity | None = None) -> None:
        self.diagnostics.append(_diag(code, message, loc, severity))

    # -- one method per line kind ----------------------------------------------------------

    def comment(self, text: str) -> None:
        if self.version_line is None and "$Id" in text:
            self.version_line = text.lstrip("# ").strip()

    def on_exclude(self, tokens: tuple[lark.Token, ...], loc: Location) -> None:
        value = tokens[0]
        if self.probes or self.current is not None:
            self.report("SIG104", "Exclude must come before the first Probe", loc)
            return
        if self.exclude is not None:
            self.report("SIG104", f"second Exclude (the first is at line {self.exclude.location.line})", loc)
            return
        items, problem = parse_exclude(str(value))
        if problem is not None:
            self.report("SIG117", problem[1], _at(loc, value, problem[0]))
            return
        self.exclude = Exclude(str(value), items, loc)

    def on_probe(self, tokens: tuple[lark.Token, ...], loc: Location) -> None:
        self.close_probe()
        proto_tok, name_tok, string_tok, *option_toks = tokens
        if option_toks and option_toks[0].type == "TRAILER":
            trailer = option_toks.pop(0)
            self.report("SIG122", f"{str(trailer)[:40]!r} right after the probe string's closing delimiter: "
                                  "Nmap ignores it (an option needs a space before it)", _at(loc, trailer))
        for option in option_toks:
            word = str(option).strip()
            if word != "no-payload" and not re.fullmatch(r"source=\d+", word):
                self.report("SIG122", f"unknown probe option {word[:40]!r}: Nmap ignores it "
                                      "(known: no-payload, source=N)", _at(loc, option, len(option) - len(word)))
        errors_before = self.error_count()
        protocol = parse_protocol(str(proto_tok))
        if protocol is None:
            self.report("SIG105", f"invalid protocol {str(proto_tok)!r}: expected TCP or UDP", _at(loc, proto_tok))
        name = str(name_tok)
        if not name[0].isascii() or not name[0].isalnum():
            self.report("SIG106", f"bad probe name {name!r}: it must start with a letter or digit", _at(loc, name_tok))
        raw = str(string_tok)[2:-1].encode("latin-1")
        payload, problems = unescape(raw, dialect=Dialect.ANY)
        for p in problems:
            self.diagnostics.append(Diagnostic(p.code, p.severity, p.message, _at(loc, string_tok, 2 + p.offset)))
        probe = Probe(
            protocol=protocol or Protocol.TCP,
            name=name,
            payload=payload,
            raw_payload=raw,
            delimiter=str(string_tok)[1].encode("latin-1"),
            options=tuple(str(t).strip() for t in option_toks),
            location=loc,
        )
        if self.error_count() > errors_before:
            self.current = _ProbeDraft(probe, broken=True)
            return
        if probe.is_null:
            if self.null_seen is not None:
                self.report(
                    "SIG114",
                    f"second probe with an empty string (the NULL probe is at line {self.null_seen.line})",
                    loc,
                )
                self.current = _ProbeDraft(probe, broken=True)
                return
            self.null_seen = loc
        self.current = _ProbeDraft(probe)

    def on_ports(self, tokens: tuple[lark.Token, ...], loc: Location) -> None:
        self.add_ports("ports", tokens[0], loc)

    def on_sslports(self, tokens: tuple[lark.Token, ...], loc: Location) -> None:
        self.add_ports("sslports", tokens[0], loc)

    def on_rarity(self, tokens: tuple[lark.Token, ...], loc: Location) -> None:
        draft = self.draft("rarity", loc)
        if draft is None:
            return
        value = atoi(str(tokens[0]))
        if not 1 <= value <= 9:
            self.report("SIG111", f"rarity {str(tokens[0])!r} reads as {value}; it must be 1-9", _at(loc, tokens[0]))
            return
        self.set_directive(draft, "rarity", tokens[0], loc, rarity=value)

    def on_totalwaitms(self, tokens: tuple[lark.Token, ...], loc: Location) -> None:
        self.add_wait("totalwaitms", tokens[0], loc)

    def on_tcpwrappedms(self, tokens: tuple[lark.Token, ...], loc: Location) -> None:
        self.add_wait("tcpwrappedms", tokens[0], loc)

    def on_fallback(self, tokens: tuple[lark.Token, ...], loc: Location) -> None:
        draft = self.draft("fallback", loc)
        if draft is None:
            return
        names = tuple(n for n in re.split(r"[, \t\r\n]+", str(tokens[0])) if n)
        if not names:
            self.report("SIG118", "fallback lists no probe name: the probe falls back on nothing but NULL "
                                  "(for TCP), as without the directive", _at(loc, tokens[0]))
        if len(names) > _MAX_FALLBACKS:
            self.report(
                "SIG113",
                f"{len(names)} fallbacks; Nmap refuses more than {_MAX_FALLBACKS}",
                _at(loc, tokens[0]),
            )
            return
        self.set_directive(draft, "fallback", tokens[0], loc, fallback=names)

    # -- helpers for the handlers ---------------------------------------------------------------

    def draft(self, keyword: str, loc: Location) -> _ProbeDraft | None:
        if self.current is None:
            self.report("SIG103", f"'{keyword}' before the first Probe line", loc)
        return self.current

    def set_directive(self, draft: _ProbeDraft, keyword: str, token: lark.Token, loc: Location, **changes: object) -> None:
        earlier = draft.probe.directive(keyword) if keyword not in ("ports", "sslports") else None
        if earlier is not None:
            self.report(
                "SIG119",
                f"second '{keyword}' in probe {draft.probe.name} (line {earlier.location.line} is overridden)",
                loc,
            )
        directive = Directive(keyword, str(token), loc)
        draft.probe = replace(draft.probe, directives=(*draft.probe.directives, directive), **changes)  # type: ignore[arg-type]

    def add_ports(self, keyword: str, token: lark.Token, loc: Location) -> None:
        draft = self.draft(keyword, loc)
        if draft is None:
            return
        ports, problem = parse_port_list(str(token))
        if problem is not None:
            self.report("SIG110", problem[1], _at(loc, token, problem[0]))
            return
        existing: PortSet = getattr(draft.probe, keyword)
        self.set_directive(draft, keyword, token, loc, **{keyword: existing.extended(ports)})

    def add_wait(self, keyword: str, token: lark.Token, loc: Location) -> None:
        draft = self.draft(keyword, loc)
        if draft is None:
            return
        value = strtol(str(token))
        low, high = _WAIT_RANGE
        if not low <= value <= high:
            self.report("SIG112", f"{keyword} {str(token)!r} reads as {value}; it must be {low}-{high}", _at(loc, token))
            return
        self.set_directive(draft, keyword, token, loc, **{keyword: value})

    def add_match(self, keyword: str, text: str, spans: list[_Span], loc: Location) -> None:
        """A match or softmatch line from its tokens' spans: the service, the pattern, then each field."""
        draft = self.draft(keyword, loc)
        if draft is None:
            return
        (service_start, service_end), (start, stop), *field_spans = spans
        delimiter = text[start + 1]
        end = text.rindex(delimiter, start, stop)
        flags = text[end + 1 : stop]
        ok = True
        if delimiter == ":":
            self.report("SIG116", "':' as the regex delimiter: Nmap 7.93 reads 'm:' as part of a template name "
                                  "and refuses the line (newer Nmap accepts it); use '|'", loc.shifted(start + 1))
            ok = False
        bad = flags.lstrip("is")
        if bad:
            self.report("SIG108", f"illegal regex option {bad[0]!r} (only i and s)", loc.shifted(stop - len(bad)))
            ok = False
        fields = []
        for field_start, field_end in field_spans:
            parsed = self.version_field(text[field_start:field_end], field_start, loc)
            if parsed is None:
                ok = False
            else:
                fields.append(parsed)
        if not ok:
            return
        # Positional arguments: keywords cost a fifth of the record's construction.
        draft.matches.append(Match(
            _MATCH_KINDS[keyword],  # kind
            sys.intern(text[service_start : service_end - 1]),  # service: 1,200 names for 12,000 lines
            text[start + 2 : end].encode("latin-1"),  # pattern
            delimiter.encode("latin-1"),
            flags,
            tuple(fields),
            loc,  # location
            start + 2,  # pattern_offset
        ))

    def version_field(self, raw: str, offset: int, loc: Location) -> VersionField | None:
        """The field token ``raw`` (leading whitespace included), ``offset`` bytes into the line."""
        body = raw.lstrip(" \t\r\f\v")
        key_offset = offset + len(raw) - len(body)
        start = loc.shifted(key_offset)
        key_end = _NMAP_NAME.match(body).end()  # type: ignore[union-attr]  # * always matches
        key_text = body[:key_end]
        key = _FIELD_KEYS.get(key_text)
        if key is None:
            if ":" in key_text:
                self.report("SIG116", _colon_message(key_text), start)
            else:
                self.report("SIG109", f"unknown version field {key_text!r} (expected p v i h o d or cpe:)", start)
            return None
        delimiter = body[key_end]
        end = body.rindex(delimiter)
        if key is Field.CPE and delimiter != "/":
            self.report("SIG121", f"cpe:{delimiter}…{delimiter}: newer Nmap requires cpe:/…/", start)
        text = body[len(key_text) + 1 : end].encode("latin-1")
        text = self.texts.setdefault(text, text)
        return VersionField(key, text, delimiter.encode("latin-1"), body[end + 1 :], loc, key_offset)  # positional: see add_match

    def close_probe(self) -> None:
        if self.current is not None:
            draft = self.current
            if not draft.broken:
                self.probes.append(replace(draft.probe, matches=tuple(draft.matches)))
            self.current = None

    def syntax_error(self, text: str, exc: UnexpectedInput, loc: Location) -> None:
        code, column, message = explain_syntax_error(text, exc)
        self.report(code, message, loc.shifted(column - 1))
        self.skip(text.encode("latin-1"), loc)

    def skip(self, raw: bytes, loc: Location) -> None:
        """After an error that stops a line from being read: the lines after a Probe line that
        failed belong to it, so check them, keep none, and do not report each of them again as
        coming before the first Probe."""
        if raw.startswith(b"Probe "):
            self.close_probe()
            placeholder = Probe(protocol=Protocol.TCP, name="", payload=b"", raw_payload=b"",
                                delimiter=b"|", options=(), location=loc)
            self.current = _ProbeDraft(placeholder, broken=True)


# -- syntax error messages ------------------------------------------------------------------------


def explain_syntax_error(text: str, exc: UnexpectedInput) -> tuple[str, int, str]:
    """A code, a 1-based column and a message a person can act on, for a line that failed: for
    Probe and match lines, the problem Nmap itself stops at, read the way it reads them."""
    if not text.strip():
        return "SIG101", 1, "line of only whitespace (Nmap only skips empty lines and lines starting with '#')"
    if text[0].isspace():
        return "SIG101", 1, "line starts with whitespace (Nmap only skips lines whose first byte is '#')"
    word = re.match(r"[^ \t\r\f\v]*", text)
    keyword = word.group() if word else ""
    if keyword not in _KEYWORDS:
        return "SIG102", 1, f"unknown directive {keyword[:40]!r}"
    column = getattr(exc, "column", 1)
    if not isinstance(column, int) or column < 1:
        column = len(text) + 1
    if len(text) == len(keyword) or text[len(keyword)] != " ":
        return "SIG100", len(keyword) + 1, f"'{keyword}' must be followed by one space and a value"
    if keyword in ("match", "softmatch") and column == len(keyword) + 2 and text[column - 1 : column] == " ":
        return "SIG107", column, "empty service name (two spaces after the keyword)"
    nmap_reading = _match_line_error(text) if keyword in ("match", "softmatch") else None
    if keyword == "Probe":
        nmap_reading = _probe_line_error(text)
    if nmap_reading is not None:
        return nmap_reading
    expected = _expected_terminals(exc)
    found = text[column - 1 : column + 19]
    if "FIELD" in expected:
        return "SIG100", column, f"expected a version field such as p/…/ (with its closing delimiter), found {found!r}"
    wanted = " or ".join(sorted({_EXPECTED.get(t, t) for t in expected})) or "something else"
    return "SIG100", column, f"expected {wanted}, found {found!r}"


def _probe_line_error(text: str) -> tuple[str, int, str] | None:
    """Nmap's ``setProbeDetails``: the first problem it stops at in a ``Probe`` line."""
    rest = text[6:]
    if not rest.startswith(("TCP ", "UDP ")):
        found = rest.split(" ", 1)[0]
        return "SIG105", 7, f"invalid protocol {found[:20]!r}: Nmap wants TCP or UDP followed by one space"
    name = rest[4:]
    if not (name[:1].isascii() and name[:1].isalnum()):
        return "SIG106", 11, f"bad probe name {name[:20]!r}: it must start with a letter or digit"
    space = name.find(" ")
    if space < 0:
        return "SIG100", 11 + len(name), "nothing after the probe name: Nmap wants one space, then q<delim>…<delim>"
    column = 11 + space + 1
    string = name[space + 1 :]
    if string[:1] != "q":
        return "SIG100", column, f"the probe string must begin with 'q', found {string[:20]!r}"
    if len(string) < 2 or string.find(string[1], 2) < 0:
        closing = f"no closing {string[1]!r}" if len(string) > 1 else "no delimiter after 'q'"
        return "SIG100", column, f"the probe string is not terminated: {closing}"
    return None


_ALPHA = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")  # C's isalpha, C locale


def _match_line_error(text: str) -> tuple[str, int, str] | None:
    """Nmap's ``InitMatch`` and ``next_template``: the first problem they stop at in a match
    line. A template is a name of letters and ':', a delimiter, text up to the next occurrence of
    the delimiter, and flag letters; whitespace before a template is skipped, none is needed."""
    service_end = text.find(" ", text.index(" ") + 1)
    if service_end < 0:
        return "SIG100", len(text) + 1, "no space after the service name: Nmap cannot tell where the name ends"
    pos, n, first = service_end, len(text), True
    while True:
        while pos < n and text[pos] in ISSPACE:
            pos += 1
        if pos == n:
            return ("SIG100", pos + 1, "no pattern after the service name (expected m<delim>regex<delim>)") if first else None
        end = pos
        while end < n and (text[end] in _ALPHA or text[end] == ":"):
            end += 1
        name = text[pos:end]
        what = "the pattern" if first else f"version field {name!r}"
        if ":" in name and name != "cpe:":
            return "SIG116", pos + 1, _colon_message(name)
        if end == n or text[end] in ISSPACE:
            return "SIG100", pos + 1, f"{what} has no delimiter after {name!r}"
        close = text.find(text[end], end + 1)
        if close < 0:
            return "SIG100", pos + 1, f"{what} is not terminated: no closing {text[end]!r}"
        after = close + 1
        while after < n and text[after] in _ALPHA:
            after += 1
        if first and name != "m":
            return "SIG100", pos + 1, f"expected a pattern m<delim>regex<delim>, found {text[pos:pos + 20]!r}"
        if first and text[close + 1 : after].strip("is"):
            bad = next(i for i in range(close + 1, after) if text[i] not in "is")
            return "SIG108", bad + 1, (f"illegal regex option {text[bad]!r} (only i and s; a version field needs "
                                       "whitespace before it)")
        if not first and name not in _FIELD_KEYS:
            return "SIG109", pos + 1, (f"unknown version field {name!r} (expected p v i h o d or cpe:; a field right "
                                       "after another one's closing delimiter has its letters read as that one's flags)")
        pos, first = after, False


def _expected_terminals(exc: UnexpectedInput) -> set[str]:
    if isinstance(exc, UnexpectedToken):
        return {str(t) for t in exc.accepts or exc.expected}
    if isinstance(exc, UnexpectedCharacters):
        return {str(t) for t in exc.allowed or ()}
    return set()


_NMAP_NAME = re.compile(r"[A-Za-z:]*")  # a template's name as Nmap 7.93 reads it (next_template)


def _colon_message(name: str) -> str:
    return (f"':' in a field's name or as its delimiter ({name!r}…): Nmap 7.93 reads letters and ':' together as "
            "the name and refuses the line (newer Nmap accepts a ':' delimiter); use '/'")
_VALUE_KINDS = frozenset({"exclude", "ports", "sslports", "rarity", "fallback", "totalwaitms", "tcpwrappedms"})
_MATCH_KINDS = {"match": MatchKind.MATCH, "softmatch": MatchKind.SOFTMATCH}
_FIELD_KEYS = {"p": Field.PRODUCT, "v": Field.VERSION, "i": Field.EXTRAINFO, "h": Field.HOSTNAME,
               "o": Field.OSTYPE, "d": Field.DEVICETYPE, "cpe:": Field.CPE}


def _at(loc: Location, token: lark.Token, offset: int = 0) -> Location:
    column = token.column if isinstance(token.column, int) else 1
    return loc.shifted(column - 1 + offset)


def _diag(code: str, message: str, loc: Location, severity: Severity | None = None) -> Diagnostic:
    return Diagnostic(code, severity or CODES[code][0], message, loc)


def parse_many(paths: Iterable[str | Path]) -> list[SourceFile]:
    return [parse_file(p) for p in paths]
