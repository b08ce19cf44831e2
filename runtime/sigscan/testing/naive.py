"""The reference the indexed matcher must agree with: every line of the chain, in order.

:class:`NaiveMatcher` compiles every pattern of a probe (with the ``regex`` module unless told
otherwise) and searches each in file order, without prefilter and without timeout. It is what
the equivalence test and the benchmarks compare :class:`~sigscan.matcher.core.Matcher` with.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sigscan.matcher.core import _FAILED, Matcher
from sigscan.matcher.index import Entry, ProbeIndex, Subject
from sigscan.matcher.regex_engine import RegexEngine

if TYPE_CHECKING:
    from sigscan.matcher.regex_engine import Engine


class NaiveMatcher(Matcher):
    """Every line searched whole, in file order: none of the indexed matcher's shortcuts (the
    prefilter, the literal head cut off a pattern) are taken, so it tests them."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("engine", RegexEngine())
        kwargs.setdefault("timeout", None)
        super().__init__(*args, **kwargs)
        self._search_lists: dict[int, list[Any]] = {}

    def precompile(self) -> int:
        """Compile every pattern of every probe now; the number of lines."""
        return sum(len(self._searches(self.index(probe.id))) for probe in self.bundle.probes)

    def _first(self, index: ProbeIndex, subject: Subject, diagnostics: list[str],
               steps: list[dict[str, Any]] | None) -> tuple[Entry, Any] | None:
        if self.timeout is not None:
            return self._first_timed(index, subject, diagnostics)
        data = subject.data
        for pos, search in enumerate(self._searches(index)):  # tight: it is the baseline
            if search is None:  # does not compile: reported, never matches
                self._search(index.entries[pos], subject, diagnostics)
                continue
            match = search(data)
            if match is not None:
                return index.entries[pos], match
        return None

    def _searches(self, index: ProbeIndex) -> list[Any]:
        """Every line's ``search`` (``None`` for a line that does not compile), compiled now."""
        searches = self._search_lists.get(index.probe.id)
        if searches is None:
            searches = self._search_lists[index.probe.id] = [self._search_of(e) for e in index.entries]
        return searches

    def _search_of(self, entry: Entry) -> Any:
        if entry.compiled is None:
            entry.compiled = self._compile(entry)
        return None if entry.compiled is _FAILED else entry.compiled.search  # type: ignore[attr-defined]

    def _fixed_start(self, entry: Entry) -> bool:
        return entry.anchored

    def _pattern(self, entry: Entry) -> bytes:
        return entry.regex

    def _apply(self, engine: Engine, compiled: object, entry: Entry, subject: Subject,
               timeout: float | None) -> Any:
        if entry.anchored:
            return engine.match(compiled, subject.data, 0, timeout)
        return engine.search(compiled, subject.data, timeout)

    def _first_timed(self, index: ProbeIndex, subject: Subject, diagnostics: list[str]) -> tuple[Entry, Any] | None:
        for entry in index.entries:
            match = self._search(entry, subject, diagnostics)
            if match is not None:
                return entry, match
        return None
