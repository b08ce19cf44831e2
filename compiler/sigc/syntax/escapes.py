"""Nmap's ``cstring_unescape`` for probe strings and ``$SUBST`` arguments, and its inverse.

Both Nmap versions decode ``\\0 \\n \\r \\t \\\\`` and ``\\xHH`` (exactly two hex digits). They
differ on the rest (nmap-semantics §1.4):

* 7.93 also decodes ``\\a \\b \\f \\v`` and copies ``\\`` + any other non-alphanumeric byte;
* newer Nmap (HEAD) rejects both;
* both reject ``\\`` + any other letter or digit, and ``\\0`` is never octal (``\\012`` is NUL,
  ``1``, ``2``).

A rejected escape makes Nmap refuse the whole file, so :func:`unescape` reports it as an error
and returns what it decoded before it; it never raises. :class:`TemplateProblem` is the problem
record shared with :mod:`sigc.templates`: offsets are byte offsets into the text given, and the
caller turns them into a :class:`~sigc.diagnostics.Location`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from sigc.diagnostics import Severity

CODES: dict[str, tuple[Severity, str]] = {
    "SIG301": (Severity.ERROR, "unknown escape: backslash + letter or digit"),
    "SIG302": (Severity.ERROR, "\\x not followed by two hex digits"),
    "SIG303": (Severity.ERROR, "lone backslash at the end of the string"),
    "SIG304": (Severity.WARNING, "escape accepted by 7.93, rejected by newer Nmap"),
    "SIG305": (Severity.INFO, "\\0 followed by a digit is NUL and the digit, not octal"),
}


class Dialect(enum.Enum):
    """Which Nmap's escape rules to apply."""

    NMAP_7_93 = "7.93"
    HEAD = "head"
    ANY = "any"  # accept what either accepts; warn about what HEAD rejects


@dataclass(frozen=True, slots=True)
class TemplateProblem:
    """A problem found in a probe string or a version template, before it has a location."""

    code: str
    severity: Severity
    message: str
    offset: int  # byte offset in the text that was given


_SIMPLE = {ord("0"): 0, ord("n"): 10, ord("r"): 13, ord("t"): 9, ord("\\"): 92}
_OLD_ONLY = {ord("a"): 7, ord("b"): 8, ord("f"): 12, ord("v"): 11}
_HEX = frozenset(b"0123456789abcdefABCDEF")
_DIGITS = frozenset(b"0123456789")


def _isalnum(byte: int) -> bool:
    return byte < 0x80 and chr(byte).isalnum()


def unescape(text: bytes, *, dialect: Dialect) -> tuple[bytes, tuple[TemplateProblem, ...]]:
    """Decode ``text`` as Nmap does. On the first error the output stops growing; scanning goes
    on so that every problem in the text is reported at once."""
    out = bytearray()
    problems: list[TemplateProblem] = []
    pos = 0
    while pos < len(text):
        slash = text.find(b"\\", pos)
        if slash < 0:
            slash = len(text)
        if not _has_error(problems):
            out += text[pos:slash]
        if slash == len(text):
            break
        value, pos, problem = _escape_at(text, slash, dialect)
        if problem is not None:
            problems.append(problem)
        if value is not None and not _has_error(problems):
            out.append(value)
    return bytes(out), tuple(problems)


def _has_error(problems: list[TemplateProblem]) -> bool:
    return any(p.severity is Severity.ERROR for p in problems)


def _escape_at(text: bytes, at: int, dialect: Dialect) -> tuple[int | None, int, TemplateProblem | None]:
    """Decode the escape whose backslash is at ``at``: (byte or None, next offset, problem)."""
    if at + 1 >= len(text):
        return None, at + 1, _problem("SIG303", "lone '\\' at the end: write '\\\\' for a backslash", at)
    char = text[at + 1]
    if char in _SIMPLE:
        note = None
        if char == ord("0") and at + 2 < len(text) and text[at + 2] in _DIGITS:
            digit = chr(text[at + 2])
            note = _problem("SIG305", f"{quote(text[at : at + 3])} is NUL then '{digit}' (no octal escapes); write '\\x00{digit}' to say so", at)
        return _SIMPLE[char], at + 2, note
    if char == ord("x"):
        return _hex_escape(text, at)
    if _isalnum(char) and char not in _OLD_ONLY:
        return None, at + 2, _problem("SIG301", f"unknown escape {quote(text[at : at + 2])}: Nmap refuses it; use \\xHH for a byte", at)
    value = _OLD_ONLY.get(char, char)
    return value, at + 2, _old_only(text[at : at + 2], value, at, dialect)


def _hex_escape(text: bytes, at: int) -> tuple[int | None, int, TemplateProblem | None]:
    digits = text[at + 2 : at + 4]
    if len(digits) == 2 and all(d in _HEX for d in digits):
        return int(digits, 16), at + 4, None
    return None, at + 2, _problem("SIG302", f"bad hex escape {quote(text[at : at + 4])}: \\x needs exactly two hex digits", at)


def _old_only(escape: bytes, value: int, at: int, dialect: Dialect) -> TemplateProblem | None:
    if dialect is Dialect.NMAP_7_93:
        return None
    message = f"escape {quote(escape)} is accepted by 7.93, rejected by newer Nmap; write '\\x{value:02x}'"
    severity = Severity.ERROR if dialect is Dialect.HEAD else CODES["SIG304"][0]
    return TemplateProblem("SIG304", severity, message, at)


def quote(text: bytes) -> str:
    """Bytes for a message: in single quotes, as written, with only unprintable bytes as \\xHH."""
    return "'" + "".join(chr(b) if 0x20 <= b <= 0x7E else f"\\x{b:02x}" for b in text) + "'"


def _problem(code: str, message: str, offset: int) -> TemplateProblem:
    return TemplateProblem(code, CODES[code][0], message, offset)


def escape(data: bytes, *, delimiter: bytes = b"|") -> bytes:
    """Render bytes in probe-string syntax that every Nmap version decodes back to ``data``.

    Printable ASCII stays as it is, except the backslash and the delimiter; NUL, CR, LF and TAB
    use their short escapes (NUL as ``\\x00`` before a digit, so nobody reads it as octal), and
    every other byte is ``\\xhh``. The output never holds the delimiter or a line break, so the
    delimiter must be one byte that no escape uses: not a letter, digit or backslash.
    """
    if len(delimiter) != 1 or _isalnum(delimiter[0]) or delimiter == b"\\":
        raise ValueError(f"cannot escape for the delimiter {delimiter!r}: use a punctuation byte such as b'|'")
    out = bytearray()
    for i, byte in enumerate(data):
        out += _render(byte, data[i + 1 : i + 2], delimiter)
    return bytes(out)


_SHORT = {0: b"\\0", 9: b"\\t", 10: b"\\n", 13: b"\\r", 92: b"\\\\"}


def _render(byte: int, following: bytes, delimiter: bytes) -> bytes:
    if byte == 0 and following.isdigit():
        return b"\\x00"
    if byte in _SHORT:
        return _SHORT[byte]
    if 0x20 <= byte <= 0x7E and bytes((byte,)) != delimiter:
        return bytes((byte,))
    return b"\\x%02x" % byte
