"""Diagnostics as data: every problem sigc finds carries a stable code and a source location.

Rendering (text with a caret, JSON, SARIF) lives in :mod:`sigc.report`; this module only
defines the records, so that every step of the compiler can produce them without importing
the renderers.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Severity(enum.Enum):
    """How bad a finding is. ``ERROR`` means Nmap itself would refuse the file (or crash)."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 2, "warning": 1, "info": 0}[self.value]


@dataclass(frozen=True, slots=True, order=True)
class Location:
    """A place in a source file: 1-based line and column (columns count bytes)."""

    path: str
    line: int
    col: int = 1

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}"

    def shifted(self, offset: int) -> Location:
        """The location ``offset`` bytes further along the same line."""
        return Location(self.path, self.line, self.col + offset)


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One finding: a stable ``code`` (``SIG###``), a severity, a message and where it is."""

    code: str
    severity: Severity
    message: str
    location: Location

    def __str__(self) -> str:
        return f"{self.location}: {self.code} {self.severity.value}: {self.message}"


class CompileFailed(Exception):
    """Raised by the high-level entry points when input is unusable; carries every finding."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = diagnostics
        first = diagnostics[0] if diagnostics else None
        super().__init__(str(first) if first else "compilation failed")
