"""Identify one response: walk the probe's fallback chain, try the indexed candidates in order.

Semantics (nmap-semantics §4, "Testing a response"): the response is tested against the probe's
chain (the probe, its explicit fallbacks, then NULL for TCP); within each member, lines in file
order; the first line that matches wins, soft or hard. A match is ``search`` from offset 0 over
the whole (possibly cut, see :data:`LIMIT`) response, as Nmap's ``pcre_exec``.

Only the lines :class:`~sigscan.matcher.index.ProbeIndex` keeps for a response are examined, and
they are compiled on first use; the verdict is the one naive in-order matching gives (a test
checks it on every probe of the real databases).

Input length: Nmap matches its whole read buffer. It stops reading once the buffer holds 4096
bytes, but the read that crosses that mark adds whatever the socket holds (8 KiB chunks, more
while chunks come back full), so Nmap can match well over 4096 bytes. ``identify`` therefore does
not cut at 4096: it matches the first :data:`LIMIT` (16 KiB) bytes, which covers a buffer just
under 4096 plus one full 8 KiB chunk with room to spare, and says in the diagnostics when it cut.
A caller that reproduces Nmap's read loop (the scan engine) passes the buffer as Nmap would hold
it; ``limit=None`` matches everything.

Hostile input: with the ``regex`` engine a search that runs out of its time budget counts as no
match (the next candidate is tried) and the verdict's diagnostics name the line; with ``re``
there is no budget (see :mod:`sigscan.regex_engine`). A line whose pattern does not compile with
the engine never matches and is reported the same way.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from sigscan.bundle.loader import Bundle
from sigscan.bundle.records import ProbeRecord
from sigscan.matcher.cost import cost
from sigscan.matcher.fill import Templates, fill
from sigscan.matcher.index import Entry, ProbeIndex, Subject
from sigscan.regex_engine import DEFAULT_TIMEOUT, Engine, PatternTimeout, default_engine
from sigscan.verdict import Verdict

LIMIT = 16384  # bytes of a response that are matched; see the module docstring
_FAILED = object()  # an entry whose pattern does not compile with this engine


class UnknownProbe(LookupError):
    """The bundle has no probe of that name and protocol; the message suggests close names."""


class Matcher:
    """Identifies responses against one bundle. Indexes and compiled patterns are built on first
    use and kept; for SQLite bundles only the probes asked for (and their chains) are read.

    ``timeout``: seconds per search with the ``regex`` engine (searches whose work is provably
    small skip it, see :mod:`sigscan.matcher.cost`); ``None`` disables it. ``limit``: bytes of a
    response that are matched. ``max_compiled``: keep at most that many compiled patterns (a
    compiled pattern takes about 9 KB; the oldest is dropped first and recompiled if needed
    again); ``None``, the default, keeps them all (about 100 MB if every line of the database is
    tried at least once)."""

    def __init__(self, bundle: Bundle, engine: Engine | None = None,
                 timeout: float | None = DEFAULT_TIMEOUT, limit: int | None = LIMIT,
                 max_compiled: int | None = None) -> None:
        self.bundle = bundle
        self.engine = engine or default_engine()
        self.timeout = timeout if self.engine.has_timeout else None
        self.limit = limit
        self.max_compiled = max_compiled
        self._compiled: deque[Entry] = deque()
        self._indexes: dict[int, ProbeIndex] = {}
        self._templates: dict[int, Templates] = {}
        self._sources: dict[int, str] | None = None

    # -- public API ----------------------------------------------------------------------------

    def identify(self, probe: str, proto: str, data: bytes) -> Verdict:
        """The verdict for ``data`` received in answer to probe ``probe`` over ``proto``."""
        return self._run(self.probe(probe, proto), data, None)

    def explain(self, probe: str, proto: str, data: bytes) -> tuple[Verdict, dict[str, Any]]:
        """The verdict plus a record of what the prefilter kept and why the winner won."""
        trace: dict[str, Any] = {"engine": self.engine.name, "chain": []}
        verdict = self._run(self.probe(probe, proto), data, trace)
        return verdict, trace

    def probe(self, name: str, proto: str = "tcp") -> ProbeRecord:
        record = self.bundle.probe(name, proto)
        if record is None:
            raise UnknownProbe(self._unknown(name, proto))
        return record

    def index(self, probe_id: int) -> ProbeIndex:
        index = self._indexes.get(probe_id)
        if index is None:
            index = ProbeIndex(self.bundle.probes[probe_id], self.bundle.matches(probe_id))
            self._indexes[probe_id] = index
        return index

    # -- the walk ------------------------------------------------------------------------------

    def _run(self, probe: ProbeRecord, data: bytes, trace: dict[str, Any] | None) -> Verdict:
        diagnostics: list[str] = []
        subject = Subject(self._cut(bytes(data), diagnostics))
        for position, probe_id in enumerate(probe.chain):
            index = self.index(probe_id)
            steps = None if trace is None else _member(trace, index)
            hit = self._first(index, subject, diagnostics, steps)
            if hit is not None:
                if trace is not None:
                    trace["winner"] = _why(trace, hit[0], position, steps or [])
                return self._verdict(index.probe, *hit, subject, diagnostics)
        if trace is not None:
            trace["winner"] = None
        return Verdict(diagnostics=tuple(diagnostics))

    def _cut(self, data: bytes, diagnostics: list[str]) -> bytes:
        if self.limit is None or len(data) <= self.limit:
            return data
        diagnostics.append(f"response is {len(data)} bytes; matched its first {self.limit}")
        return data[: self.limit]

    def _first(self, index: ProbeIndex, subject: Subject, diagnostics: list[str],
               steps: list[dict[str, Any]] | None) -> tuple[Entry, Any] | None:
        """The first line of ``index`` (in file order) that matches, with its match object.

        The hot loop: :meth:`Entry.admits` is inlined here (it is what ``--explain`` runs)."""
        if steps is not None:
            return self._first_traced(index, subject, diagnostics, steps)
        entries = index.entries
        data, n = subject.data, subject.length
        for pos in index.candidates(subject):
            entry = entries[pos]
            if n < entry.min_length:
                continue
            text = subject.lower() if entry.caseless else data
            if entry.anchored:
                if not text.startswith(entry.prefix):
                    continue
            elif entry.prefix not in text:
                continue
            for literal in entry.required:
                if literal not in text:
                    break
            else:
                match = self._search(entry, subject, diagnostics)
                if match is not None:
                    return entry, match
        return None

    def _first_traced(self, index: ProbeIndex, subject: Subject, diagnostics: list[str],
                      steps: list[dict[str, Any]]) -> tuple[Entry, Any] | None:
        for pos in index.candidates(subject):
            entry = index.entries[pos]
            match = self._traced(entry, subject, diagnostics, steps)
            if match is not None:
                return entry, match
        return None

    def _traced(self, entry: Entry, subject: Subject, diagnostics: list[str],
                steps: list[dict[str, Any]]) -> Any:
        step: dict[str, Any] = {"line": entry.record.line, "kept_by": entry.key}
        steps.append(step)
        reason = entry.admits(subject)
        if reason is not None:
            step["result"] = f"skipped: {reason}"
            return None
        before = len(diagnostics)
        match = self._search(entry, subject, diagnostics)
        step["result"] = ("match" if match is not None
                          else "no match" if len(diagnostics) == before else diagnostics[-1])
        return match

    def _search(self, entry: Entry, subject: Subject, diagnostics: list[str]) -> Any:
        compiled = entry.compiled
        if compiled is None:
            compiled = entry.compiled = self._compile(entry)
            if self.max_compiled is not None:
                self._bound(entry)
        if compiled is _FAILED:
            diagnostics.append(f"line {entry.record.line}: pattern does not compile with "
                               f"{self.engine.name}; counted as no match")
            return None
        timeout = None if subject.length <= entry.untimed else self.timeout
        try:
            return self.engine.search(compiled, subject.data, timeout)
        except PatternTimeout:
            diagnostics.append(f"line {entry.record.line}: regex timed out after {self.timeout} s; "
                               "counted as no match")
            return None

    def _bound(self, entry: Entry) -> None:
        self._compiled.append(entry)
        while len(self._compiled) > max(self.max_compiled or 0, 1):
            self._compiled.popleft().compiled = None

    def _compile(self, entry: Entry) -> object:
        record = entry.record
        try:
            compiled: object = self.engine.compile(record.regex, caseless=record.caseless,
                                                   dotall=record.dotall)
        except Exception:  # the engine's own error type; reported when the line is tried
            return _FAILED
        bound = cost(record.regex, record.anchored)
        entry.untimed = -1 if bound is None else bound.longest_cheap(self.limit or LIMIT)
        return compiled

    # -- the verdict ---------------------------------------------------------------------------

    def _verdict(self, probe: ProbeRecord, entry: Entry, match: Any, subject: Subject,
                 diagnostics: list[str]) -> Verdict:
        record = entry.record
        templates = self._templates.get(record.id)
        if templates is None:
            templates = self._templates[record.id] = Templates.of(record)
        filled = fill(templates, match.groups(), record.groups, subject.length, record.line)
        return Verdict(
            name=record.service,
            **filled.values,
            cpe=filled.cpe,
            soft=record.soft,
            probe=probe.name,
            line=record.line,
            source=self._source(record.source),
            diagnostics=(*diagnostics, *filled.warnings),
        )

    def _source(self, source_id: int) -> str | None:
        if self._sources is None:
            self._sources = {s.id: s.path for s in self.bundle.sources}
        return self._sources.get(source_id)

    def _unknown(self, name: str, proto: str) -> str:
        import difflib  # only for this message

        names = sorted({p.name for p in self.bundle.probes if p.protocol == proto.upper()})
        by_lower = {n.lower(): n for n in names}
        close = [by_lower[n] for n in difflib.get_close_matches(name.lower(), list(by_lower), n=3, cutoff=0.5)]
        hint = (f"did you mean {' or '.join(close)}?" if close
                else f"it has {len(names)} {proto.upper()} probes ({', '.join(names[:5])}, ...)")
        return f"no {proto.upper()} probe named {name!r} in {self.bundle.path}; {hint}"


def _member(trace: dict[str, Any], index: ProbeIndex) -> list[dict[str, Any]]:
    """Start the trace of one chain member; the list its candidates are recorded in."""
    steps: list[dict[str, Any]] = []
    trace["chain"].append({"probe": index.probe.name, "protocol": index.probe.protocol,
                           "lines": len(index.entries), "candidates": steps})
    return steps


def _why(trace: dict[str, Any], entry: Entry, position: int, steps: list[dict[str, Any]]) -> dict[str, Any]:
    probe = trace["chain"][position]["probe"]
    earlier = [s["line"] for s in steps[:-1]]
    before = [m["probe"] for m in trace["chain"][:position]]
    where = (f"no line of {', '.join(before)} matched (earlier in the chain); " if before else "")
    return {
        "probe": probe,
        "line": entry.record.line,
        "soft": entry.record.soft,
        "why": (f"{where}line {entry.record.line} is the first line of {probe} in file order that "
                f"matches: the prefilter ruled out every other earlier line, and the "
                f"{len(earlier)} earlier candidate(s) {earlier} did not match"),
    }
