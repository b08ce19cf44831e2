"""The regular-expression engine the matcher uses: the ``regex`` module, or the standard ``re``.

The bundle's patterns are translated for ``regex`` (bytes, version V0) and are also valid for
``re`` on Python >= 3.11 (atomic groups and possessive quantifiers need 3.11). Flags: caseless
gives IGNORECASE, dotall gives DOTALL; never UNICODE (bytes patterns fold ASCII only, like PCRE
without UTF).

Which engine, chosen once per process on first use (nothing is imported before that):

* ``$SIGSCAN_REGEX=re`` forces ``re``; ``$SIGSCAN_REGEX=regex`` demands ``regex`` (an
  ``ImportError`` if it is missing); unset or empty: ``regex`` when installed, else ``re``.
* With ``regex`` a search has a time budget (:data:`DEFAULT_TIMEOUT` unless the caller gives
  another): a search that runs out raises :class:`PatternTimeout`, which the matcher counts as no
  match and reports, as Nmap counts PCRE's match-limit errors as no match (Nmap's limit counts
  steps, ours time: a pattern near the limit may fall on either side). The budget costs more
  than most searches (docs/benchmarks.md), so the matcher skips it for searches whose work it can bound
  (:mod:`sigscan.bundle.cost`), and runs those on ``re`` (see :mod:`sigscan.matcher.core`):
  ``regex`` itself is imported only when a search needs the budget.
* ``re`` has no timeout. A pattern that backtracks catastrophically on a hostile response then
  runs until the engine gives up on its own, which can take minutes and blocks the thread; the
  other consequences are none (same verdicts). Use ``regex`` wherever responses are untrusted.
"""

from __future__ import annotations

import functools
import importlib.util
import os
from typing import Any, Protocol


class Engine(Protocol):
    name: str
    has_timeout: bool

    def preload(self) -> None:
        """Import the module now rather than on the first compile."""

    def compile(self, pattern: bytes, *, caseless: bool, dotall: bool) -> Any:
        """A compiled pattern; raises the engine's own error if it does not compile."""

    def search(self, compiled: Any, subject: bytes, timeout: float | None) -> Any:
        """``compiled.search(subject)``: a match object or ``None``; :class:`PatternTimeout`."""

    def match(self, compiled: Any, subject: bytes, pos: int, timeout: float | None) -> Any:
        """``compiled.match(subject, pos)``: a match starting at ``pos``, which the pattern
        may look behind; otherwise as :meth:`search`."""


ENV = "SIGSCAN_REGEX"
DEFAULT_TIMEOUT = 0.1  # seconds per search; see the module docstring


class PatternTimeout(Exception):
    """A search ran out of its time budget."""


class RegexEngine:
    """The ``regex`` module (V0), with per-search timeouts. The module is imported on the first
    compile: a matcher whose searches all run on ``re`` never loads it."""

    name = "regex"
    has_timeout = True

    def __init__(self) -> None:
        self._regex: Any = None
        self._base = self._i = self._s = 0

    def _load(self) -> Any:
        import regex  # type: ignore[import-untyped]  # no stubs for regex

        self._regex = regex
        self._base = int(regex.V0)
        self._i = int(regex.IGNORECASE)
        self._s = int(regex.DOTALL)
        return regex

    def preload(self) -> None:
        if self._regex is None:
            self._load()

    def compile(self, pattern: bytes, *, caseless: bool, dotall: bool) -> Any:
        module = self._regex or self._load()
        flags = self._base | (self._i if caseless else 0) | (self._s if dotall else 0)
        # not in regex's own cache: the caller keeps (and bounds) what it compiled; a second
        # copy in that cache would keep up to 500 patterns the caller dropped alive
        return module.compile(pattern, flags, cache_pattern=False)

    def search(self, compiled: Any, subject: bytes, timeout: float | None) -> Any:
        if timeout is None:
            return compiled.search(subject)
        try:
            return compiled.search(subject, timeout=timeout)
        except TimeoutError:
            raise PatternTimeout from None

    def match(self, compiled: Any, subject: bytes, pos: int, timeout: float | None) -> Any:
        try:
            return compiled.match(subject, pos, timeout=timeout)
        except TimeoutError:
            raise PatternTimeout from None


class ReEngine:
    """The standard library's ``re``: no timeout (see the module docstring)."""

    name = "re"
    has_timeout = False

    def __init__(self) -> None:
        import re

        self._re = re

    def preload(self) -> None:
        pass  # imported already

    def compile(self, pattern: bytes, *, caseless: bool, dotall: bool) -> Any:
        flags = (self._re.IGNORECASE if caseless else 0) | (self._re.DOTALL if dotall else 0)
        return self._re.compile(pattern, flags)

    def search(self, compiled: Any, subject: bytes, timeout: float | None) -> Any:
        return compiled.search(subject)

    def match(self, compiled: Any, subject: bytes, pos: int, timeout: float | None) -> Any:
        return compiled.match(subject, pos)


def select(name: str | None = None) -> Engine:
    """The engine called ``name`` (``"regex"``, ``"re"``); ``None`` or ``""``: the best installed.
    ``"regex"`` raises ``ImportError`` when the module is missing."""
    if name == "re":
        return ReEngine()
    if name == "regex":
        if not _installed("regex"):
            raise ImportError("the regex module is not installed (pip install regex)")
        return RegexEngine()
    if name:
        raise ValueError(f"unknown regex engine {name!r} (${ENV} must be 'regex' or 're')")
    return RegexEngine() if _installed("regex") else ReEngine()


def _installed(module: str) -> bool:
    """Can ``module`` be imported? Found without importing it: a process whose searches all run
    on ``re`` never loads ``regex`` (the cold start of benchmarks/test_identify.py)."""
    return importlib.util.find_spec(module) is not None


@functools.cache
def default_engine() -> Engine:
    """The process's engine, chosen by ``$SIGSCAN_REGEX`` on first use."""
    return select(os.environ.get(ENV, "").strip().lower() or None)
