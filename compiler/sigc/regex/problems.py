"""What is wrong in a pattern, as data, never as exceptions: the SIG2xx codes
(:data:`CODES`, listed by ``sigc lint --list-codes``) and one :class:`PatternProblem` per
finding. Where PCRE2 (Nmap HEAD) reads a construct differently from PCRE1, a warning says so;
the translation follows PCRE1, the 7.93 baseline."""

from __future__ import annotations

from dataclasses import dataclass

from sigc.diagnostics import Severity

CODES: dict[str, tuple[Severity, str]] = {
    "SIG201": (Severity.ERROR, "PCRE rejects the pattern (syntax error)"),
    "SIG202": (Severity.ERROR, "construct sigc cannot translate faithfully (whether or not PCRE accepts it)"),
    "SIG203": (Severity.WARNING, "brace is a literal in PCRE1 (Nmap 7.93) but a quantifier in PCRE2 >= 10.43 (Nmap HEAD)"),
    "SIG204": (Severity.ERROR, "the translated pattern does not compile with the regex module (a sigc bug)"),
    "SIG205": (Severity.WARNING, "PCRE2 (Nmap HEAD) rejects or reads differently what PCRE1 (Nmap 7.93) accepts"),
    "SIG206": (Severity.WARNING, "pattern can match the empty string: Nmap HEAD refuses it, 7.93 matches every response"),
    "SIG207": (Severity.ERROR, "lookbehind is not fixed-length: PCRE1 (Nmap 7.93) refuses it"),
    "SIG208": (Severity.ERROR, "compiled pattern larger than PCRE1's 64 KiB: Nmap 7.93 refuses it (too large)"),
    "SIG209": (Severity.ERROR, "groups nested too deeply: PCRE1 refuses more than 250 levels, sigc more than 100"),
    "SIG210": (Severity.ERROR, "repeats expand beyond what the regex module compiles in bounded time (sigc refuses it)"),
}


@dataclass(frozen=True, slots=True)
class PatternProblem:
    """One finding inside a pattern; ``offset`` is the byte offset of the construct in it."""

    code: str
    severity: Severity
    message: str
    offset: int


def problem(code: str, message: str, offset: int) -> PatternProblem:
    return PatternProblem(code, CODES[code][0], message, offset)


def show(data: bytes) -> str:
    """A pattern excerpt for a message as written in the file; other bytes as ``\\xHH``."""
    return "".join(chr(b) if 0x20 <= b < 0x7F else f"\\x{b:02x}" for b in data)
