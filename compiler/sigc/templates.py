"""Parse version-field templates once, at compile time, into :mod:`sigscan.bundle.template`'s form.

The reading of ``$`` expressions copies Nmap's ``dotmplsubst``/``substvar``/
``getsubstcommandargs`` (nmap-semantics §2), quirks included:

* every ``$`` starts a variable; ``$`` + digit is ``$N`` with a single digit (``$10`` is group 1
  then ``0``); otherwise the command name runs to the next ``(`` and has 1-15 characters;
* arguments are integers read by ``strtol(…, 0)`` (``0x1``, ``01``, sign and leading whitespace
  allowed) or ``"strings"`` of at most 127 bytes, decoded by newer Nmap's ``cstring_unescape``;
  a ``"`` after a backslash does not close a string unless that backslash follows another one;
  after each argument Nmap skips to the next ``,`` or ``)``; at most 5 arguments;
* group numbers are cut to 8 bits as newer Nmap does (``$P(257)`` is ``$P(1)``), then must be 1-9.

Nmap parses templates at match time, so a bad variable is not a load error there: the field
just comes out empty (with a warning on every match). Here it becomes an
:class:`~sigscan.bundle.template.Invalid` part and a problem. Nothing after the first invalid variable
is read, as Nmap stops there too. Problems carry byte offsets into the text given (for
``cpe:`` the body after ``cpe:/``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sigc.diagnostics import Severity
from sigc.syntax.escapes import Dialect, TemplateProblem, quote, unescape
from sigscan.bundle.fields import Field
from sigscan.bundle.template import Group, Int, Invalid, Literal, Part, Printable, Subst, Template

__all__ = ["CODES", "TemplateProblem", "max_group", "parse_cpe", "parse_template"]

CODES: dict[str, tuple[Severity, str]] = {
    "SIG310": (Severity.WARNING, "'$' that starts no variable (Nmap has no literal '$'): field always empty"),
    "SIG311": (Severity.WARNING, "group number outside 1-9: field always empty"),
    "SIG312": (Severity.WARNING, "unknown template command: field always empty"),
    "SIG313": (Severity.WARNING, "wrong arguments for a template command: field always empty"),
    "SIG314": (Severity.ERROR, "$SUBST with an empty find string: Nmap loops forever"),
    "SIG315": (Severity.WARNING, "$I endianness is not \">\" or \"<\": field always empty"),
    "SIG316": (Severity.WARNING, "literal text longer than the field's buffer: field always empty"),
    "SIG317": (Severity.WARNING, "bad string argument (unterminated, too long or bad escape): field always empty"),
    "SIG318": (Severity.WARNING, "group number outside 0-255: newer Nmap keeps its low 8 bits, 7.93 fails"),
    "SIG319": (Severity.WARNING, "text Nmap skips inside an argument list"),
    "SIG320": (Severity.WARNING, "NUL byte in a template: Nmap ignores the rest"),
    "SIG321": (Severity.INFO, "digit after $N: $10 is group 1 followed by '0'"),
    "SIG330": (Severity.WARNING, "CPE part is not a, h or o: Nmap ignores this CPE"),
    "SIG331": (Severity.WARNING, "CPE with more than 7 components"),
    "SIG332": (Severity.WARNING, "'/' in a CPE: impossible in newer Nmap's cpe:/…/ syntax"),
    "SIG333": (Severity.WARNING, "CPE with an empty vendor"),
}

_COMMAND_MAX = 15  # char substcommand[16]
_MAX_ARGS = 5  # SUBSTARGS_MAX_ARGS
_STRING_MAX = 127  # SUBSTARGS_STRLEN - 1
_SPACE = frozenset(b" \t\n\v\f\r")
_DIGITS = frozenset(b"0123456789")
_OCTAL = frozenset(b"01234567")
_HEX = frozenset(b"0123456789abcdefABCDEF")
_IDENTIFIER = re.compile(rb"[A-Za-z_][A-Za-z0-9_]*")
_LONG = 2**63  # strtol saturates at LONG_MIN / LONG_MAX
_CPE_PREFIX = b"cpe:/"
_CPE_PARTS = frozenset(b"aho")
_CPE_COMPONENTS = 7  # part:vendor:product:version:update:edition:language

Argument = int | bytes


@dataclass(slots=True)
class _Scan:
    """Reading one template: the text (Nmap sees a C string, so a NUL ends it) and findings."""

    text: bytes
    problems: list[TemplateProblem]

    def at(self, i: int) -> int:
        """The byte at ``i``, or 0 (the C string's terminator) past the end."""
        return self.text[i] if i < len(self.text) else 0

    def report(self, code: str, message: str, offset: int) -> None:
        self.problems.append(TemplateProblem(code, CODES[code][0], message, offset))

    def show(self, start: int, end: int) -> str:
        return quote(self.text[start:end])

    def failure(self) -> Invalid:
        """The part for a variable that just failed: its reason is the last problem reported."""
        return Invalid(self.problems[-1].message)


def parse_template(text: bytes, field: Field) -> tuple[Template, tuple[TemplateProblem, ...]]:
    """Parse the text between a field's delimiters (for ``cpe:`` the body after ``cpe:/``)."""
    scan = _Scan(text.split(b"\0", 1)[0], [])
    if len(scan.text) < len(text):
        scan.report("SIG320", f"NUL byte in {field.value} template: Nmap sees only {scan.show(0, len(scan.text))}", len(scan.text))
    spans = _read(scan)
    parts = _merge_literals([Literal(_CPE_PREFIX)] if field is Field.CPE else [], [p for p, _, _ in spans])
    template = Template(parts, field)
    if not template.always_fails:
        _check_length(scan, template)
    if field is Field.CPE:
        _check_cpe(scan, spans)
    return template, tuple(scan.problems)


def parse_cpe(text: bytes) -> tuple[TemplateProblem, ...]:
    """Only the CPE-structure problems of a ``cpe:`` body (:func:`parse_template` includes them)."""
    body = text.split(b"\0", 1)[0]
    spans = _read(_Scan(body, []))  # variable problems are parse_template's business
    scan = _Scan(body, [])
    _check_cpe(scan, spans)
    return tuple(scan.problems)


def max_group(template: Template) -> int:
    """The highest group a template references, to check against the pattern's group count."""
    return template.max_group()


def _read(scan: _Scan) -> list[tuple[Part, int, int]]:
    """The template's parts with their spans in the text, up to the first invalid variable."""
    spans: list[tuple[Part, int, int]] = []
    pos, text = 0, scan.text
    while pos < len(text):
        dollar = text.find(b"$", pos)
        if dollar < 0:
            dollar = len(text)
        if dollar > pos:
            spans.append((Literal(text[pos:dollar]), pos, dollar))
        if dollar == len(text):
            break
        part, pos = _variable(scan, dollar)
        spans.append((part, dollar, pos))
        if isinstance(part, Invalid):
            break
    return spans


def _merge_literals(head: list[Part], parts: list[Part]) -> tuple[Part, ...]:
    merged: list[Part] = []
    for part in head + parts:
        if isinstance(part, Literal) and merged and isinstance(merged[-1], Literal):
            merged[-1] = Literal(merged[-1].text + part.text)
        else:
            merged.append(part)
    return tuple(merged)


# ---------------------------------------------------------------------------------------------
# Variables


def _variable(scan: _Scan, at: int) -> tuple[Part, int]:
    """Read the variable whose ``$`` is at ``at``: the part and the offset after it."""
    first = scan.at(at + 1)
    if first in _DIGITS:
        return _placeholder(scan, at), at + 2
    paren = scan.text.find(b"(", at + 1)
    name = scan.text[at + 1 : paren] if paren >= 0 else b""
    if not _IDENTIFIER.fullmatch(name):
        return _invalid(scan, "SIG310", f"{scan.show(at, at + 2)} does not start a variable and Nmap has no literal '$': the field is always empty; drop the '$' or rephrase", at), at + 1
    if name not in _COMMANDS:  # which also rules out names over _COMMAND_MAX bytes
        return _invalid(scan, "SIG312", f"unknown template command {scan.show(at, paren + 1)}: Nmap knows $P(), $SUBST() and $I(); the field is always empty", at), paren + 1
    args, end = _arguments(scan, at, paren + 1)
    if args is None:
        return scan.failure(), end
    return _COMMANDS[name](scan, at, end, args), end


def _placeholder(scan: _Scan, at: int) -> Part:
    digit = scan.at(at + 1) - ord("0")
    if scan.at(at + 2) in _DIGITS:
        scan.report("SIG321", f"{scan.show(at, at + 3)} is group {digit} followed by {chr(scan.at(at + 2))!r}: Nmap's $N takes one digit", at)
    if digit == 0:
        return _invalid(scan, "SIG311", "'$0' is not a group (groups are 1-9): the field is always empty", at)
    return Group(digit)


def _invalid(scan: _Scan, code: str, message: str, at: int) -> Invalid:
    scan.report(code, message, at)
    return Invalid(message)


def _group_number(scan: _Scan, at: int, end: int, value: int) -> int | None:
    """The group an integer argument names, cut to 8 bits as newer Nmap does; None if not 1-9."""
    n = value & 0xFF
    shown = scan.show(at, end)
    if 1 <= n <= 9 and n != value:
        scan.report("SIG318", f"group {value} in {shown} is read as {n} by newer Nmap (8 bits) and fails in 7.93; write {n}", at)
    if not 1 <= n <= 9:
        scan.report("SIG311", f"group {value} in {shown} is not 1-9: the field is always empty", at)
        return None
    return n


def _types(args: list[Argument]) -> str:
    return "".join("i" if isinstance(a, int) else "s" for a in args)


def _wrong_arguments(scan: _Scan, at: int, end: int, usage: str) -> Invalid:
    return _invalid(scan, "SIG313", f"{scan.show(at, end)}: expected {usage}; the field is always empty", at)


def _printable(scan: _Scan, at: int, end: int, args: list[Argument]) -> Part:
    if _types(args) != "i":
        return _wrong_arguments(scan, at, end, "$P(group)")
    assert isinstance(args[0], int)
    n = _group_number(scan, at, end, args[0])
    return scan.failure() if n is None else Printable(n)


def _subst(scan: _Scan, at: int, end: int, args: list[Argument]) -> Part:
    if _types(args) != "iss":
        return _wrong_arguments(scan, at, end, '$SUBST(group,"find","replacement")')
    group, find, repl = args
    assert isinstance(group, int) and isinstance(find, bytes) and isinstance(repl, bytes)
    n = _group_number(scan, at, end, group)
    if n is None:
        return scan.failure()
    if not find:
        scan.report("SIG314", f"{scan.show(at, end)} has an empty find string: Nmap loops forever on a non-empty group", at)
    return Subst(n, find, repl)


def _int(scan: _Scan, at: int, end: int, args: list[Argument]) -> Part:
    if _types(args) != "is":
        return _wrong_arguments(scan, at, end, '$I(group,">") or $I(group,"<")')
    group, endian = args
    assert isinstance(group, int) and isinstance(endian, bytes)
    if endian not in (b">", b"<"):
        return _invalid(scan, "SIG315", f"{scan.show(at, end)}: the byte order must be \">\" or \"<\"; the field is always empty", at)
    n = _group_number(scan, at, end, group)
    return scan.failure() if n is None else Int(n, endian == b">")


_COMMANDS = {b"P": _printable, b"SUBST": _subst, b"I": _int}


# ---------------------------------------------------------------------------------------------
# Arguments (getsubstcommandargs)


def _arguments(scan: _Scan, at: int, start: int) -> tuple[list[Argument] | None, int]:
    """Read ``arg, arg)`` from ``start``: the arguments (None on failure) and where it stopped."""
    args: list[Argument] = []
    pos = start
    while scan.at(pos) not in (0, ord(")")):
        while scan.at(pos) in _SPACE:
            pos += 1
        if scan.at(pos) == ord(")"):
            break
        if len(args) == _MAX_ARGS:
            scan.report("SIG313", f"{scan.show(at, pos)}…: more than {_MAX_ARGS} arguments; the field is always empty", at)
            return None, pos
        value, pos = _string(scan, at, pos) if scan.at(pos) == ord('"') else _integer(scan, at, pos)
        if value is None:
            return None, pos
        args.append(value)
        pos = _next_argument(scan, at, pos)
        if pos < 0:
            return None, len(scan.text)
    if not args:
        scan.report("SIG313", f"{scan.show(at, pos + 1)} has no arguments; the field is always empty", at)
        return None, pos
    if scan.at(pos) != ord(")"):
        scan.report("SIG319", f"{scan.show(at, pos)} has no ')': Nmap accepts it at the end of the field; add the ')'", at)
        return args, pos
    return args, pos + 1


def _next_argument(scan: _Scan, at: int, pos: int) -> int:
    """Skip to the next ``,`` (and past it) or ``)``, as ``strpbrk(p, ",)")``; -1 if none."""
    found = [i for i in (scan.text.find(b",", pos), scan.text.find(b")", pos)) if i >= 0]
    if not found:
        scan.report("SIG313", f"{scan.show(at, len(scan.text))}: the argument list never ends; the field is always empty", at)
        return -1
    stop = min(found)
    if scan.text[pos:stop].strip(bytes(_SPACE)):
        scan.report("SIG319", f"Nmap skips {scan.show(pos, stop)} after an argument in {scan.show(at, stop + 1)}", pos)
    return stop + 1 if scan.text[stop] == ord(",") else stop


def _string(scan: _Scan, at: int, quote: int) -> tuple[bytes | None, int]:
    """A ``"…"`` argument: its decoded bytes (None on failure) and the offset after it."""
    raw = bytearray()
    pos = quote
    while True:
        pos += 1
        char = scan.at(pos)
        if char == ord('"') and (scan.at(pos - 1) != ord("\\") or scan.at(pos - 2) == ord("\\")):
            break
        if char == 0:
            scan.report("SIG317", f"unterminated string {scan.show(quote, pos)} in {scan.show(at, pos)}; the field is always empty", quote)
            return None, pos
        if len(raw) >= _STRING_MAX:
            scan.report("SIG317", f"string argument of {scan.show(at, quote)}… is longer than {_STRING_MAX} bytes; the field is always empty", quote)
            return None, pos
        raw.append(char)
    value, problems = unescape(bytes(raw), dialect=Dialect.HEAD)
    errors = [p for p in problems if p.severity is Severity.ERROR]
    if errors:
        first = errors[0]
        scan.report("SIG317", f"{first.message} (in {scan.show(quote, pos + 1)}); the field is always empty", quote + 1 + first.offset)
        return None, pos + 1
    return value, pos + 1


def _integer(scan: _Scan, at: int, start: int) -> tuple[int | None, int]:
    """``strtol(p, &end, 0)``: the value (saturated to a C long) and the offset after it."""
    pos = start
    while scan.at(pos) in _SPACE:
        pos += 1
    sign = 1
    if scan.at(pos) in b"+-":
        sign = -1 if scan.at(pos) == ord("-") else 1
        pos += 1
    base, digits = _base(scan, pos)
    pos += 2 if base == 16 else 0
    end = pos
    while scan.at(end) in digits:
        end += 1
    if end == pos:
        stop = min([i for i in (scan.text.find(b",", start), scan.text.find(b")", start)) if i >= 0], default=len(scan.text))
        scan.report("SIG313", f"argument {scan.show(start, stop)} of {scan.show(at, stop + 1)} is neither an integer nor a \"string\"; the field is always empty", start)
        return None, start
    value = sign * int(scan.text[pos:end], base)
    return max(-_LONG, min(_LONG - 1, value)), end


def _base(scan: _Scan, pos: int) -> tuple[int, frozenset[int]]:
    """strtol's base 0: ``0x`` + a hex digit is hex, another leading ``0`` octal, else decimal."""
    if scan.at(pos) == ord("0") and scan.at(pos + 1) in b"xX" and scan.at(pos + 2) in _HEX:
        return 16, _HEX
    if scan.at(pos) == ord("0"):
        return 8, _OCTAL
    return 10, _DIGITS


# ---------------------------------------------------------------------------------------------
# Whole-template checks


def _check_length(scan: _Scan, template: Template) -> None:
    """Literal text alone can exceed the buffer: Nmap then blanks the field on every match."""
    literal = sum(len(p.text) for p in template.parts if isinstance(p, Literal))
    ends_in_literal = bool(template.parts) and isinstance(template.parts[-1], Literal)
    limit = template.field.size - (1 if ends_in_literal else 2)
    if literal > limit:
        scan.report("SIG316", f"{template.field.value} template has {literal} bytes of literal text; Nmap's {template.field.size}-byte buffer takes at most {limit} here, so the field is always empty", 0)


def _check_cpe(scan: _Scan, spans: list[tuple[Part, int, int]]) -> None:
    """The structure of a CPE body, read from its literal text (a substitution cannot add ':'
    or '/': they are %-escaped)."""
    text = scan.text
    starts_literal = bool(spans) and isinstance(spans[0][0], Literal) and spans[0][1] == 0
    if not starts_literal or text[0] not in _CPE_PARTS:
        shown = scan.show(0, 1) if text else "nothing"
        scan.report("SIG330", f"CPE part {shown} is not a, h or o: Nmap ignores this CPE at match time", 0)
    colons = [i for part, start, _ in spans if isinstance(part, Literal) for i in _find_all(part.text, b":", start)]
    if len(colons) >= _CPE_COMPONENTS:
        scan.report("SIG331", f"CPE {scan.show(0, len(text))} has {len(colons) + 1} components; CPE 2.2 has at most {_CPE_COMPONENTS} (part:vendor:product:version:update:edition:language)", colons[_CPE_COMPONENTS - 1])
    slashes = [i for part, start, _ in spans if isinstance(part, Literal) for i in _find_all(part.text, b"/", start)]
    if slashes:
        scan.report("SIG332", f"CPE {scan.show(0, len(text))} contains '/': newer Nmap requires cpe:/…/, so the body cannot hold '/'; write %2F", slashes[0])
    vendor_end = colons[1] if len(colons) > 1 else len(text)
    if colons and vendor_end == colons[0] + 1:
        scan.report("SIG333", f"CPE {scan.show(0, len(text))} has an empty vendor", colons[0] + 1)


def _find_all(text: bytes, needle: bytes, base: int) -> list[int]:
    """Every offset of ``needle`` in ``text``, plus ``base``."""
    found = []
    i = text.find(needle)
    while i >= 0:
        found.append(base + i)
        i = text.find(needle, i + 1)
    return found
