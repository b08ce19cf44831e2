"""The per-probe candidate index: which of a probe's lines can possibly match a response.

Every line gets a *key* from the literal facts the compiler stored (``prefix``, ``required``;
see ``sigc.regex.analysis``'s prefilter contract); a line is a candidate for a response that has
its key.

``head``
    An anchored line whose match starts with ``prefix``: keyed by its first :data:`HEAD_MAX`
    bytes. A response can only match if it starts with them, so the lookup is one dict probe per
    distinct key length (1 to 8) with the response's head. Caseless lines are keyed by the
    lower-cased prefix (kind ``ihead``) and looked up with the lower-cased head (ASCII folding,
    as in PCRE without UTF).
``token``
    A *token* is a maximal run of ASCII letters and digits. A token lying strictly inside a
    literal the response must contain (bounded by non-alphanumeric bytes of the literal on both
    sides, or by the start of the response for an anchored prefix) is a token of every matching
    response. A head shared by more than a few lines (``sigc.prefilter.SMALL_BUCKET``; ``HTTP/1.``
    heads thousands of lines of ``GetRequest``, ``220 `` hundreds of ``NULL``) is split by each
    line's rarest token within the bucket (``Apache``, ``nginx``, ``Postfix`` ...), so a
    response only gets the lines whose token it has plus those with no token. Lines without a
    head are keyed by their rarest token among such lines. The response's tokens are
    computed at most once per response. Caseless lines never get token keys.
``first``
    An anchored line with neither, whose ``first_bytes`` the compiler knows (``^[0-9a-f]{8}$``,
    ``^a|^S``; see ``sigc.regex.literals.first_bytes``): keyed by each byte a match can start with.
``always``
    The rest: always candidates.

Candidates come out in file order (sorted by position), so trying them in that order and
stopping at the first match gives exactly what trying every line in order gives. Survivors of
the cheap checks (:meth:`Entry.admits`: length, prefix, required literals) are compiled on first
use and cached on the entry.

The compiler gives every line its key and stores each probe's maps (``sigc.prefilter``, table
``probe_index``), so ``sigscan`` loads a probe's index as it is, without reading its patterns
(:meth:`ProbeIndex.load`), and reads a line's details only when a response first makes it a
candidate. The key kinds and what a token is are the bundle's (:mod:`sigscan.bundle.keys`).
"""

from __future__ import annotations

from array import array
from sys import intern
from typing import TYPE_CHECKING

from sigscan.bundle.bound import Cost
from sigscan.bundle.errors import BundleError
from sigscan.bundle.keys import ALWAYS, FIRST, HEAD, HEAD_MAX, IHEAD, TOKEN, tokens_of
from sigscan.bundle.records import KeyRecord, LineRecord, MatchRecord, ProbeRecord

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from typing import Any

    from sigscan.bundle.loader import Bundle
    from sigscan.bundle.records import LiteralBound
    from sigscan.matcher.fill import Cpes, Fields

    Positions = int  # a list of line positions in file order, as ProbeIndex.positions keeps it


_SHIFT, _COUNT = 24, (1 << 24) - 1  # a packed position list: start << _SHIFT | count


class Subject:
    """A response being matched, with the derived forms computed at most once."""

    __slots__ = ("_lower", "_tokens", "data", "length")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.length = len(data)
        self._lower: bytes | None = None
        self._tokens: frozenset[bytes] | None = None

    def lower(self) -> bytes:
        if self._lower is None:
            self._lower = self.data.lower()
        return self._lower

    def tokens(self) -> frozenset[bytes]:
        if self._tokens is None:
            self._tokens = tokens_of(self.data)
        return self._tokens


class Entry:
    """One match line with what the prefilter checks, what compiling and timing its search take,
    and the verdict's identity (``fields`` and ``cpes``, its parsed :class:`Templates`, are read
    when the line first wins).
    ``compiled`` (the pattern for searches that need no time budget) is filled on first use; a
    matcher that checks ``prefix`` first compiles only :meth:`rest` and matches it at offset
    ``skip`` (see ``sigc.regex.literals.split_head``). ``untimed`` is the longest subject searched
    without a budget (see :mod:`sigscan.bundle.cost`), and ``literal_cost`` the bound that may spare the budget for a
    longer one by counting literals in it: ``None`` when there is none (or no subject is too
    long for ``untimed``), ``True`` while it is only in the bundle (:meth:`literal_bound` reads
    it), then the bound as stored. :attr:`lineno` and :attr:`source` (where the line is
    written) are kept by the index in two arrays, as only verdicts and diagnostics read them.

    Only what every candidate needs is held; everything else is read from the bundle when it
    is needed, since most candidates are never compiled and fewer still win. (Kept for the peak
    RSS of benchmarks/test_identify.py: docs/benchmarks.md, "Matching: identify".)"""

    __slots__ = ("_index", "anchored", "caseless", "compiled", "cpes", "dotall", "fields",
                 "literal_cost", "min_length", "pos", "prefix", "required", "service", "skip", "soft",
                 "untimed")

    literal_cost: LiteralBound | bool | None

    def __init__(self, pos: int, line: LineRecord, index: ProbeIndex,
                 limit: int = 1 << 30) -> None:
        self.pos = pos
        self._index = index
        self.anchored = line.anchored
        self.caseless = line.caseless
        self.prefix = prefix = line.prefix
        required = line.required
        # a literal inside the prefix is implied by it: checking the prefix is enough
        if required and prefix:
            required = tuple(r for r in required if r not in prefix)
        self.required = required
        self.min_length = line.min_length
        self.skip = line.head_length  # bytes of the literal head that prefix proves
        self.dotall = line.dotall
        # one object per service name (lines share few names); literals are too varied for a
        # table of them to save more than it takes
        self.service = intern(line.service)
        self.soft = line.soft
        index.linenos[pos] = line.line
        index.sources[pos] = line.source
        self.compiled: object | None = None
        # the line's Templates, parsed when it first wins: two slots, not a Templates object
        self.fields: Fields | None = None
        self.cpes: Cpes = ()
        self.untimed = -1 if line.cost is None else Cost(*line.cost).longest_cheap(limit)
        # read only when a subject is too long for ``untimed``
        self.literal_cost = True if line.has_literal_cost and self.untimed < limit else None

    @property
    def lineno(self) -> int:
        """The line's number in its source file."""
        return self._index.linenos[self.pos]

    @property
    def source(self) -> int:
        """The id of the line's source file (``Bundle.sources``)."""
        return self._index.sources[self.pos]

    @property
    def regex(self) -> bytes:
        """The line's pattern, read from the bundle when asked: only compiling needs it, and a
        compiled pattern keeps a reference of its own, and many candidates are ruled out by the
        literal checks before any compiling."""
        return self._bundle().regex(self._probe_id(), self.pos)

    def rest(self) -> bytes:
        """The pattern after the literal head (``skip`` bytes of the subject, which ``prefix``
        proves): compiled in place of :attr:`regex` where ``prefix`` is checked first, it
        matches at offset ``skip`` exactly when the whole pattern matches (about a third less
        memory per compiled pattern on the real databases)."""
        return self._bundle().regex(self._probe_id(), self.pos, rest=True)

    def literal_bound(self) -> LiteralBound | None:
        """The literal-counting bound as stored (``None`` if the line has none), read from the
        bundle on first use and then kept."""
        bound = self.literal_cost
        if bound is True:
            bound = self.literal_cost = self._bundle().literal_cost(self._probe_id(), self.pos)
        return bound or None

    @property
    def record(self) -> MatchRecord:
        """The whole line, read from the bundle."""
        return self._index.record(self.pos)

    def _bundle(self) -> Bundle:
        assert self._index._bundle is not None
        return self._index._bundle

    def _probe_id(self) -> int:
        return self._index.probe.id

    @property
    def kind(self) -> str:
        """The key's kind as the index uses it: head, head+token, token, first or always."""
        return self._index.describe(self.pos)[0]

    @property
    def value(self) -> bytes:
        """The head, the token, or ``b""`` (first, always)."""
        return self._index.describe(self.pos)[1]

    @property
    def key(self) -> str:
        """The key that makes this line a candidate, in words (for ``--explain``)."""
        kind, value = self.kind, self.value
        if kind == "head+token":
            return f"head {self.prefix[:HEAD_MAX]!r} and token {value!r}"
        if kind in ("head", "token"):
            return f"{'caseless ' if self.caseless else ''}{kind} {value!r}"
        return "first byte" if kind == "first" else kind

    def admits(self, subject: Subject) -> str | None:
        """``None`` when the line may match; otherwise why it cannot (for ``--explain``)."""
        if subject.length < self.min_length:
            return f"shorter than {self.min_length} bytes"
        text = subject.lower() if self.caseless else subject.data
        if self.anchored and not text.startswith(self.prefix):
            return f"does not start with {self.prefix!r}"
        if not self.anchored and self.prefix not in text:
            return f"lacks {self.prefix!r}"
        for literal in self.required:
            if literal not in text:
                return f"lacks {literal!r}"
        return None


class Bucket:
    """The lines of a big head bucket, split by each line's token (``plain``: no usable token,
    a candidate whenever the head is there)."""

    __slots__ = ("plain", "tokens")

    def __init__(self, plain: Sequence[int], tokens: dict[bytes, Positions]) -> None:
        self.plain = tuple(plain)  # candidates whenever the head is there: kept as ints, not packed
        self.tokens = tokens

    def candidates(self, subject: Subject, positions: array[int]) -> list[int]:
        found = list(self.plain)
        # the dict's keys, not a frozenset copy of them: no second table per bucket, for a
        # lookup a little slower (figures: docs/benchmarks.md, "Matching: identify")
        for token in subject.tokens() & self.tokens.keys():
            found += _positions(positions, self.tokens[token])
        return found


class ProbeIndex:
    """A probe's lines in file order and the maps from keys to their positions.

    ``ProbeIndex(probe, records)`` computes the keys from whole records; :meth:`load` builds the
    same index from the keys stored in a bundle and reads a line's details (a
    :class:`LineRecord`) only when it first becomes a candidate."""

    _entries: list[Entry | None]
    _keys: Sequence[KeyRecord] | None  # derived for --explain, on first use

    @classmethod
    def load(cls, bundle: Bundle, probe_id: int, limit: int = 1 << 30) -> ProbeIndex:
        """The index of a bundle's probe, as sigc stored it (table ``probe_index``)."""
        return cls.from_data(bundle, probe_id, bundle.probe_index(probe_id), limit)

    @classmethod
    def from_data(cls, bundle: Bundle, probe_id: int, data: dict[str, Any],
                  limit: int = 1 << 30) -> ProbeIndex:
        """The index of a bundle's probe from its stored form ``data`` (what
        ``sigc.prefilter.index_data`` makes). ``size`` must count the probe's lines (the
        bundle checks that for what it stores); the rest is checked as it is read (every
        position names one of them): anything else is a :class:`BundleError`."""
        index = cls.__new__(cls)
        index._start(bundle.probe_at(probe_id), data["size"], limit)
        index._bundle = bundle
        try:
            index._from_data(data)
        except (TypeError, ValueError, KeyError, AttributeError, IndexError, OverflowError) as exc:
            raise BundleError(bundle.path, f"probe {probe_id}'s index is malformed ({exc!r:.120})") from None
        return index

    def _start(self, probe: ProbeRecord, size: int, limit: int) -> None:
        self.probe = probe
        self.size = size
        self.limit = limit
        self._bundle: Bundle | None = None
        self._keys = None
        self._entries = [None] * size
        self._loaded = 0
        # where each loaded line is written (see Entry.lineno): 8 bytes a line of the probe
        self.linenos: array[int] = array("I", bytes(4 * size))
        self.sources: array[int] = array("I", bytes(4 * size))
        # every position list of the maps below, back to back; a map holds a list as one int,
        # ``start << _SHIFT | count`` (see :meth:`_pack`): about a third of the memory of lists
        self.positions: array[int] = array("I")
        self.heads: dict[bytes, Positions | Bucket] = {}
        self.iheads: dict[bytes, Positions] = {}
        self.tokens: dict[bytes, Positions] = {}
        self.first: dict[int, Positions] = {}
        self.always: tuple[int, ...] = ()  # candidates for every response: kept as ints

    def _pack(self, positions: Sequence[int]) -> Positions:
        """The int the maps keep for ``positions``: ``~position`` for one position (negative),
        else ``start << _SHIFT | count`` after appending them to :attr:`positions`."""
        if len(positions) == 1:
            return ~_position(positions[0], self.size)
        start = len(self.positions)
        self.positions.extend(positions)
        return start << _SHIFT | len(positions)

    def _unpack(self, code: Positions) -> list[int]:
        return list(_positions(self.positions, code))

    def _finish(self) -> None:
        self.head_sizes = _sizes_by_first_byte(self.heads)
        self.ihead_sizes = _sizes_by_first_byte(self.iheads)

    # -- the stored form ---------------------------------------------------------------------------

    def _from_data(self, data: dict[str, Any]) -> None:
        # packed, not kept as decoded lists: less peak RSS in benchmarks/test_identify.py for
        # a slightly slower lookup, the same load time (docs/benchmarks.md, "Matching: identify")
        pack, size = self._pack, self.size
        heads: dict[bytes, Positions | Bucket] = {k.encode("latin-1"): pack(v) for k, v in data["head"].items()}
        for head, split in data["bucket"].items():
            heads[head.encode("latin-1")] = Bucket(
                [_position(p, size) for p in split["plain"]],
                {t.encode("latin-1"): pack(p) for t, p in split["token"].items()})
        self.heads = heads
        self.iheads = {k.encode("latin-1"): pack(v) for k, v in data["ihead"].items()}
        self.tokens = {k.encode("latin-1"): pack(v) for k, v in data["token"].items()}
        self.first = {ord(k): pack(v) for k, v in data["first"].items()}
        self.always = tuple([_position(p, size) for p in data["always"]])
        if self.positions and max(self.positions) >= size:  # lists of several, appended as they were
            raise ValueError(f"a position is past the probe's {size} lines")
        self._finish()

    def describe(self, pos: int) -> tuple[str, bytes]:
        """The line's key as ``--explain`` shows it: (kind, value), kind one of head,
        head+token, token, first, always."""
        if self._keys is None:
            self._keys = self._describe_all()
        kind, key, token = self._keys[pos]
        if kind in (HEAD, IHEAD):
            if token is not None and isinstance(self.heads.get(key), Bucket):
                return "head+token", token
            return "head", key
        return kind, key if kind == TOKEN else b""

    def _describe_all(self) -> list[KeyRecord]:
        """Every line's key, read back off the maps (for ``--explain`` of a loaded index)."""
        keys = [KeyRecord(ALWAYS, b"", None)] * self.size
        unpack = self._unpack
        for head, hit in self.heads.items():
            if isinstance(hit, Bucket):
                for pos in hit.plain:
                    keys[pos] = KeyRecord(HEAD, head, None)
                for token, positions in hit.tokens.items():
                    for pos in unpack(positions):
                        keys[pos] = KeyRecord(HEAD, head, token)
            else:
                for pos in unpack(hit):
                    keys[pos] = KeyRecord(HEAD, head, None)
        for maps, kind in ((self.iheads, IHEAD), (self.tokens, TOKEN)):
            for key, positions in maps.items():
                for pos in unpack(positions):
                    keys[pos] = KeyRecord(kind, key, None)
        for positions in self.first.values():
            for pos in unpack(positions):
                keys[pos] = KeyRecord(FIRST, b"", None)
        return keys

    # -- entries ---------------------------------------------------------------------------------

    @property
    def entries(self) -> list[Entry]:
        """Every line's entry, in file order (reading the details of those not read yet)."""
        if self._loaded < self.size:
            self.at(range(self.size))
        return self._entries  # type: ignore[return-value]  # none is None now

    def at(self, positions: Iterable[int]) -> list[Entry]:
        """The entries at ``positions``, in that order; lines not read yet are read at once."""
        entries = self._entries
        wanted = list(positions)
        missing = list(dict.fromkeys(pos for pos in wanted if entries[pos] is None))
        if missing:
            assert self._bundle is not None
            for line in self._bundle.match_lines(self.probe.id, missing):
                entries[line.seq] = Entry(line.seq, line, self, self.limit)
                self._loaded += 1
        return [entries[pos] for pos in wanted]  # type: ignore[misc]  # all filled above

    def record(self, pos: int) -> MatchRecord:
        """The whole line at ``pos``."""
        assert self._bundle is not None
        return self._bundle.match(self.probe.id, pos)

    # -- lookup ----------------------------------------------------------------------------------

    def candidates(self, subject: Subject) -> list[int]:
        """Positions of the lines whose key the response has, in file order."""
        data, n, positions = subject.data, subject.length, self.positions
        if not n:
            return list(self.always)
        found: list[int] = []
        heads = self.heads
        for size in self.head_sizes.get(data[0], ()):
            if size > n:
                break
            hit = heads.get(data[:size])
            if hit is not None:
                if hit.__class__ is Bucket:
                    found += hit.candidates(subject, positions)
                else:
                    found += _positions(positions, hit)  # type: ignore[arg-type]
        if self.iheads:
            low = subject.lower()
            for size in self.ihead_sizes.get(low[0], ()):
                if size > n:
                    break
                code = self.iheads.get(low[:size])
                if code is not None:
                    found += _positions(positions, code)
        if self.tokens:
            tokens = self.tokens
            for token in subject.tokens() & tokens.keys():
                found += _positions(positions, tokens[token])
        if self.first:
            code = self.first.get(data[0])
            if code is not None:
                found += _positions(positions, code)
        if self.always:
            found += self.always
        found.sort()
        return found

    def candidate_entries(self, subject: Subject) -> list[Entry]:
        """The entries of :meth:`candidates`, in file order."""
        found = self.candidates(subject)
        entries = self._entries
        for pos in found:
            if entries[pos] is None:
                return self.at(found)
        return [entries[pos] for pos in found]  # type: ignore[misc]  # none is None


def _position(value: int, size: int) -> int:
    """``value`` if it is the position of one of ``size`` lines."""
    if value.__class__ is not int or not 0 <= value < size:
        raise ValueError(f"{value!r:.20} is not the position of one of the probe's {size} lines")
    return value


def _positions(packed: array[int], code: Positions) -> Sequence[int]:
    """The positions a map's int stands for (see :meth:`ProbeIndex._pack`)."""
    if code < 0:
        return (~code,)
    start = code >> _SHIFT
    return packed[start : start + (code & _COUNT)]


def _sizes_by_first_byte(heads: dict[bytes, Any]) -> dict[int, tuple[int, ...]]:
    """For each first byte of a head, the lengths of the heads starting with it, ascending: a
    response is looked up only at the lengths its first byte can have (one or two, not eight)."""
    sizes: dict[int, list[int]] = {}
    for first, size in sorted({(head[0], len(head)) for head in heads}):
        sizes.setdefault(first, []).append(size)
    return {first: tuple(found) for first, found in sizes.items()}
