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
there is no budget (see :mod:`sigscan.matcher.regex_engine`). A line whose pattern does not compile with
the engine never matches and is reported the same way.

Hostile bundles: a search skips the budget on the word of the line's stored bounds
(``cost_*``, ``cost_literals``), which anyone who can write the bundle can change and reseal.
So the first time a line's stored bound would spare a search the budget, the matcher computes
the bound again from the pattern it compiled, the way it runs it (:mod:`sigscan.bundle.cost`:
that text, matched at a fixed start or searched), and refuses the bundle with a
:class:`~sigscan.bundle.errors.BundleError` if the stored one is lower. An anchored line (every
alternative starts with ``^``) is matched at offset 0 rather than searched, which finds the same
match and makes its ``anchored`` flag a fact of the run rather than a claim about the pattern.

Two engines: a search whose work is provably small (:mod:`sigscan.bundle.cost`: the subject is
no longer than the line's ``untimed`` bound, or the line's literals occur in it few enough times
for its ``literal_cost``), or any search when there is no timeout, needs no
budget; with the default engine (``regex``) those run on the standard ``re`` instead, which
compiles a pattern faster into much less memory (test_identify and test_peak_rss in
benchmarks/test_identify.py; figures in docs/benchmarks.md) and finds the same matches (the
translated patterns mean the same to both; the equivalence tests compare with ``regex`` on every
line of the real databases). Most searches are of that kind. Searches that need the budget use ``regex`` and its timeout. An engine given
explicitly is used for everything.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from sigscan.bundle.bound import literal_cheap
from sigscan.bundle.errors import BundleError
from sigscan.bundle.loader import Bundle
from sigscan.bundle.records import LiteralBound, ProbeRecord
from sigscan.matcher.fill import Templates, Written, fill
from sigscan.matcher.index import Entry, ProbeIndex, Subject
from sigscan.matcher.regex_engine import (
    DEFAULT_TIMEOUT,
    Engine,
    PatternTimeout,
    ReEngine,
    default_engine,
)
from sigscan.matcher.verdict import Verdict, tunnelled

LIMIT = 16384  # bytes of a response that are matched; see the module docstring
MAX_TIMED = 1024  # patterns compiled with a timed engine kept at once, by default
_FAILED = object()  # an entry whose pattern does not compile with this engine


class UnknownProbe(LookupError):
    """The bundle has no probe of that name and protocol; the message suggests close names."""


class Matcher:
    """Identifies responses against one bundle. Indexes and compiled patterns are built on first
    use and kept; for SQLite bundles only the probes asked for (and their chains) are read, and
    of those only the lines a response makes candidates.

    ``timeout``: seconds per search with the ``regex`` engine (searches whose work is provably
    small skip it, see :mod:`sigscan.bundle.cost`); ``None`` disables it. ``limit``: bytes of a
    response that are matched. ``max_compiled``: keep at most that many patterns compiled for
    searches without a budget (``re`` by default; the oldest is dropped first and recompiled if
    needed again); ``None``, the default, keeps them all. ``max_timed``: the same for patterns
    compiled with the timed engine (``regex``), :data:`MAX_TIMED` by default. What a compiled
    pattern of each engine takes is in docs/benchmarks.md.

    A line whose pattern starts with ``^`` and literal bytes (``^HTTP/1\\.0 200 OK\\r\\n``) is
    tried only after the response is seen to start with them (its ``prefix``), so only the rest
    of the pattern is compiled and matched, at the offset where the head ends
    (:meth:`Entry.rest`)."""

    def __init__(self, bundle: Bundle, engine: Engine | None = None,
                 timeout: float | None = DEFAULT_TIMEOUT, limit: int | None = LIMIT,
                 max_compiled: int | None = None, max_timed: int | None = MAX_TIMED) -> None:
        self.bundle = bundle
        self.engine = engine or default_engine()
        self.timeout = timeout if self.engine.has_timeout else None
        # searches without a budget: re when the engine is the default regex (see the module)
        self.untimed_engine: Engine = (ReEngine() if engine is None and self.engine.has_timeout
                                       and self.engine.name == "regex" else self.engine)
        self.limit = limit
        self.max_compiled = max_compiled
        self.max_timed = max_timed
        self._compiled: deque[Entry] = deque()
        # patterns compiled with the timed engine, oldest first: few lines need one (test_peak_rss
        # in benchmarks/test_identify.py), so they are kept here rather than in a slot of every entry
        self._timed: dict[Entry, object] = {}
        self._indexes: dict[int, ProbeIndex] = {}
        self._shared: dict[Any, Any] = {}  # equal template parts of different lines, made one
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
            index = ProbeIndex.load(self.bundle, probe_id, self.limit or LIMIT)
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
                return self._verdict(index, *hit, subject, diagnostics)
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
        data, n = subject.data, subject.length
        for entry in index.candidate_entries(subject):
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
        for entry in index.candidate_entries(subject):
            match = self._traced(entry, subject, diagnostics, steps)
            if match is not None:
                return entry, match
        return None

    def _traced(self, entry: Entry, subject: Subject, diagnostics: list[str],
                steps: list[dict[str, Any]]) -> Any:
        step: dict[str, Any] = {"line": entry.lineno, "kept_by": entry.key}
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
        if self.timeout is None or subject.length <= entry.untimed or (
                entry.literal_cost is not None and self._literals_cheap(entry, subject)):
            compiled = self._compiled_pattern(entry)
            if compiled is not _FAILED:
                return self._apply(self.untimed_engine, compiled, entry, subject, None)
            if self.untimed_engine is self.engine:
                return self._failed(entry, diagnostics)
            return self._search_timed(entry, subject, diagnostics, None)  # re refused it
        if self.untimed_engine is self.engine:  # one engine: one compiled pattern
            return self._searched(entry, self._compiled_pattern(entry), subject, diagnostics, self.timeout)
        return self._search_timed(entry, subject, diagnostics, self.timeout)

    def _compiled_pattern(self, entry: Entry) -> object:
        """The entry's pattern for searches without a budget, compiled on first use; the bound
        that spares them the budget is checked then (:meth:`_check_cost`)."""
        compiled = entry.compiled
        if compiled is None:
            pattern = self._pattern(entry)
            if self.timeout is not None and entry.untimed >= 0:
                self._check_cost(entry, pattern)  # before compiling a text that may not be sigc's
            compiled = entry.compiled = self._compile(entry, pattern=pattern)
            if self.max_compiled is not None:
                _bound(self._compiled, entry, self.max_compiled)
        return compiled

    def _literals_cheap(self, entry: Entry, subject: Subject) -> bool:
        """Is the search provably small by the line's literal-counting bound? The bound is
        checked when it is first read from the bundle (:meth:`_check_literals`)."""
        bound = entry.literal_cost
        if bound is True:
            bound = entry.literal_bound()
            if bound is not None:
                self._check_literals(entry, bound)
        if bound is None or isinstance(bound, bool):
            return False
        return literal_cheap(bound, subject.lower() if entry.caseless else subject.data)

    # -- checking the stored bounds ---------------------------------------------------------------

    def check_bounds(self, entry: Entry) -> None:
        """Check the line's stored bounds now, as the matcher does before it first relies on
        them (:meth:`_check_cost`, :meth:`_check_literals`); a :class:`BundleError` if one is
        lower than its pattern's."""
        if entry.untimed >= 0:
            self._check_cost(entry, self._pattern(entry))
        bound = entry.literal_bound()
        if bound is not None:
            self._check_literals(entry, bound)

    def preload(self) -> None:
        """Import now what matching would import on first use (the regex module, the bound
        checker): a long run calls it before it opens sockets, as an import needs a free file
        descriptor, which a scan at its limit may not have."""
        import sigscan.bundle.cost  # noqa: F401

        self.engine.preload()
        self.untimed_engine.preload()

    def _fixed_start(self, entry: Entry) -> bool:
        """Is the entry's pattern matched at one offset (see :meth:`_apply`), not searched?"""
        return bool(entry.skip) or entry.anchored

    def _check_cost(self, entry: Entry, pattern: bytes) -> None:
        """The line's stored ``cost_*`` bound (as :attr:`Entry.untimed`) is no lower than the
        bound of ``pattern`` run as :meth:`_apply` runs it: otherwise the bundle lies about it.
        (sigc computed it on the whole pattern; the rest after a cut head is no costlier.)"""
        from sigscan.bundle.cost import proves  # the scanner: only once a bound is relied on

        if not proves(pattern, self._fixed_start(entry), entry.untimed, caseless=entry.caseless,
                      dotall=entry.dotall, cap=self.limit or LIMIT):
            self._lying(entry, "cost_degree and cost_constant")

    def _check_literals(self, entry: Entry, bound: LiteralBound) -> None:
        """The line's stored ``cost_literals`` counts the literals its pattern has, and is no
        lower than the bound they give (see :meth:`_check_cost`)."""
        from sigscan.bundle.cost import literal_bound

        found = literal_bound(self._pattern(entry), self._fixed_start(entry),
                              caseless=entry.caseless, dotall=entry.dotall)
        degree, constant, literals = bound
        if found is None or found.literals != literals or found.degree > degree or found.constant > constant:
            self._lying(entry, "cost_literals")

    def _lying(self, entry: Entry, columns: str) -> None:
        raise BundleError(self.bundle.path, f"line {entry.lineno} ({entry.service}) claims a backtracking "
                                            f"bound ({columns}) lower than its pattern's, so it was modified")

    def _search_timed(self, entry: Entry, subject: Subject, diagnostics: list[str],
                      timeout: float | None) -> Any:
        compiled = self._timed.get(entry)
        if compiled is None:
            compiled = self._timed[entry] = self._compile(entry, self.engine)
            if self.max_timed is not None and len(self._timed) > max(self.max_timed, 1):
                del self._timed[next(iter(self._timed))]  # the oldest
        return self._searched(entry, compiled, subject, diagnostics, timeout)

    def _searched(self, entry: Entry, compiled: object, subject: Subject, diagnostics: list[str],
                  timeout: float | None) -> Any:
        if compiled is _FAILED:
            return self._failed(entry, diagnostics)
        try:
            return self._apply(self.engine, compiled, entry, subject, timeout)
        except PatternTimeout:
            diagnostics.append(f"line {entry.lineno}: regex timed out after {timeout} s; "
                               "counted as no match")
            return None

    def _apply(self, engine: Engine, compiled: object, entry: Entry, subject: Subject,
               timeout: float | None) -> Any:
        """One search of ``compiled`` (what :meth:`_compile` made of ``entry``): matched at one
        offset when the line is anchored (the same match as a search, no other start tried)."""
        if entry.skip:  # the rest, where the head the prefix proved ends
            return engine.match(compiled, subject.data, entry.skip, timeout)
        if entry.anchored:
            return engine.match(compiled, subject.data, 0, timeout)
        return engine.search(compiled, subject.data, timeout)

    def _failed(self, entry: Entry, diagnostics: list[str]) -> None:
        diagnostics.append(f"line {entry.lineno}: pattern does not compile with "
                           f"{self.engine.name}; counted as no match")

    def _pattern(self, entry: Entry) -> bytes:
        """The text compiled for the entry: only the part after its literal head, which the
        prefix check proved."""
        return entry.rest() if entry.skip else entry.regex

    def _compile(self, entry: Entry, engine: Engine | None = None, pattern: bytes | None = None) -> object:
        """The entry's pattern (:meth:`_pattern`, unless given) compiled with ``engine`` (by
        default the one for searches without a budget), or ``_FAILED``."""
        if pattern is None:
            pattern = self._pattern(entry)
        try:
            return (engine or self.untimed_engine).compile(pattern, caseless=entry.caseless,
                                                           dotall=entry.dotall)
        except Exception:  # the engine's own error type; reported when the line is tried
            return _FAILED

    # -- the verdict ---------------------------------------------------------------------------

    def _verdict(self, index: ProbeIndex, entry: Entry, match: Any, subject: Subject,
                 diagnostics: list[str]) -> Verdict:
        fields, cpes = entry.fields, entry.cpes
        if fields is None:
            record = index.record(entry.pos)
            try:
                fields, cpes = entry.fields, entry.cpes = Templates.of(record, self._shared)
            except ValueError as exc:  # a template the bundle says is parsed, which is not
                raise BundleError(self.bundle.path, f"line {entry.lineno} has a malformed template ({exc})") from None
        groups = match.groups()
        filled = fill(fields, cpes, groups, len(groups), subject.length, entry.lineno,
                      lambda: Written.of(index.record(entry.pos)))
        name, tunnel = tunnelled(entry.service, entry.soft)
        return Verdict(
            name=name,
            tunnel=tunnel,
            **filled.values,
            cpe=filled.cpe,
            soft=entry.soft,
            probe=index.probe.name,
            line=entry.lineno,
            source=self._source(entry.source),
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


def _bound(kept: deque[Entry], entry: Entry, most: int) -> None:
    """Remember that ``entry`` holds a compiled pattern; drop the oldest beyond ``most`` (at
    least one is kept)."""
    kept.append(entry)
    while len(kept) > max(most, 1):
        kept.popleft().compiled = None


def _member(trace: dict[str, Any], index: ProbeIndex) -> list[dict[str, Any]]:
    """Start the trace of one chain member; the list its candidates are recorded in."""
    steps: list[dict[str, Any]] = []
    trace["chain"].append({"probe": index.probe.name, "protocol": index.probe.protocol,
                           "lines": index.size, "candidates": steps})
    return steps


def _why(trace: dict[str, Any], entry: Entry, position: int, steps: list[dict[str, Any]]) -> dict[str, Any]:
    probe = trace["chain"][position]["probe"]
    earlier = [s["line"] for s in steps[:-1]]
    before = [m["probe"] for m in trace["chain"][:position]]
    where = (f"no line of {', '.join(before)} matched (earlier in the chain); " if before else "")
    return {
        "probe": probe,
        "line": entry.lineno,
        "soft": entry.soft,
        "why": (f"{where}line {entry.lineno} is the first line of {probe} in file order that "
                f"matches: the prefilter ruled out every other earlier line, and the "
                f"{len(earlier)} earlier candidate(s) {earlier} did not match"),
    }
