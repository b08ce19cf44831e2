"""The per-probe candidate index: which of a probe's lines can possibly match a response.

Every line gets a *key* from the literal facts the compiler stored (``prefix``, ``required``;
see ``sigc.pcre``'s prefilter contract); a line is a candidate for a response that has its key.

``head``
    An anchored line whose match starts with ``prefix``: keyed by its first :data:`HEAD_MAX`
    bytes. A response can only match if it starts with them, so the lookup is one dict probe per
    distinct key length (1 to 8) with the response's head. Caseless lines are keyed by the
    lower-cased prefix and looked up with the lower-cased head (ASCII folding, as in PCRE without
    UTF).
``token``
    A *token* is a maximal run of ASCII letters and digits. A token lying strictly inside a
    literal the response must contain (bounded by non-alphanumeric bytes of the literal on both
    sides, or by the start of the response for an anchored prefix) is a token of every matching
    response. A head shared by more than :data:`SMALL_BUCKET` lines (``HTTP/1.`` heads about
    4,000 lines of ``GetRequest``, ``220 `` 339 of ``NULL``) is split, the first time a response
    hits it, by each line's rarest token within the bucket (``Apache``, ``nginx``, ``Postfix``
    ...), so a response only gets the lines whose token it has plus those with no token. Lines
    without a head are keyed by their rarest token among such lines. The response's tokens are
    computed at most once per response. Caseless lines never get token keys.
``first``
    An anchored line with neither, whose first bytes :func:`~sigscan.matcher.first.first_bytes`
    can read (``^[0-9a-f]{8}$``): keyed by each byte a match can start with.
``always``
    The rest: always candidates.

Candidates come out in file order (sorted by position), so trying them in that order and
stopping at the first match gives exactly what trying every line in order gives. Survivors of
the cheap checks (:meth:`Entry.admits`: length, prefix, required literals) are compiled on first
use and cached on the entry. Building a probe's index costs a pass over its lines; splitting a big
bucket is deferred to its first use, so a cold start pays only for the buckets it touches.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from sigscan.bundle.records import MatchRecord, ProbeRecord
from sigscan.matcher.first import first_bytes

HEAD_MAX = 8  # longest head key, in bytes
SMALL_BUCKET = 4  # head buckets this small keep their head key (see ProbeIndex)
_ALNUM = frozenset(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_TOKEN_TABLE = bytes(b if b in _ALNUM else 0x20 for b in range(256))  # non-alnum -> space


def tokens_of(data: bytes) -> frozenset[bytes]:
    """The maximal runs of ASCII letters and digits in ``data``."""
    return frozenset(data.translate(_TOKEN_TABLE).split())


def literal_tokens(literal: bytes, at_start: bool) -> list[bytes]:
    """Tokens every subject containing ``literal`` has: those bounded inside the literal (the
    first one too when the literal sits at the start of the subject)."""
    parts = literal.translate(_TOKEN_TABLE).split(b" ")
    if len(parts) < 2:
        return []
    inner = parts[1:-1] + (parts[:1] if at_start else [])
    return [t for t in inner if t]


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
    """One match line with what the prefilter checks; ``compiled`` is filled on first use."""

    __slots__ = ("anchored", "caseless", "compiled", "kind", "min_length", "pos", "prefix",
                 "record", "required", "untimed", "value")

    def __init__(self, pos: int, record: MatchRecord) -> None:
        self.pos = pos
        self.record = record
        self.anchored = record.anchored
        self.caseless = record.caseless
        self.prefix = prefix = record.prefix
        required = record.required
        # a literal inside the prefix is implied by it: checking the prefix is enough
        if required and prefix:
            required = tuple(r for r in required if r not in prefix)
        self.required = required
        self.min_length = record.min_length
        self.compiled: object | None = None
        self.untimed = -1  # longest subject searched without timeout (set when compiled)
        self.kind = "always"
        self.value: bytes = b""

    @property
    def key(self) -> str:
        """The key that makes this line a candidate, in words (for ``--explain``)."""
        if self.kind == "head+token":
            return f"head {self.prefix[:HEAD_MAX]!r} and token {self.value!r}"
        if self.kind in ("head", "token"):
            return f"{'caseless ' if self.caseless else ''}{self.kind} {self.value!r}"
        return "first byte" if self.kind == "first" else self.kind

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
    """The lines of a big head bucket, split by token on first use (see the module docstring)."""

    __slots__ = ("entries", "plain", "split", "token_keys", "tokens")

    def __init__(self) -> None:
        self.entries: list[Entry] = []
        self.split = False
        self.plain: list[int] = []  # lines without a usable token: candidates on every hit
        self.tokens: dict[bytes, list[int]] = {}
        self.token_keys: frozenset[bytes] = frozenset()

    def candidates(self, subject: Subject) -> list[int]:
        if not self.split:
            self._split()
        found = list(self.plain)
        for token in subject.tokens() & self.token_keys:
            found += self.tokens[token]
        return found

    def _split(self) -> None:
        for entry in _assign_tokens(self.entries, self.tokens):
            self.plain.append(entry.pos)
        self.token_keys = frozenset(self.tokens)
        self.split = True


class ProbeIndex:
    """A probe's lines in file order and the maps from keys to their positions."""

    def __init__(self, probe: ProbeRecord, records: Iterable[MatchRecord],
                 small_bucket: int = SMALL_BUCKET) -> None:
        self.probe = probe
        self.entries = [Entry(pos, r) for pos, r in enumerate(records)]
        self.heads: dict[bytes, list[int] | Bucket] = {}
        self.iheads: dict[bytes, list[int]] = {}
        self.tokens: dict[bytes, list[int]] = {}
        self.first: dict[int, list[int]] = {}
        self.always: list[int] = []
        self._assign_keys(small_bucket)
        self.head_lengths = sorted({len(k) for k in self.heads})
        self.ihead_lengths = sorted({len(k) for k in self.iheads})
        self.token_keys = frozenset(self.tokens)

    def _assign_keys(self, small_bucket: int) -> None:
        groups: dict[bytes, list[Entry]] = {}
        rest: list[Entry] = []
        for entry in self.entries:
            if entry.anchored and entry.prefix:
                entry.kind, entry.value = "head", entry.prefix[:HEAD_MAX]
                if entry.caseless:
                    self.iheads.setdefault(entry.value, []).append(entry.pos)
                else:
                    groups.setdefault(entry.value, []).append(entry)
            else:
                rest.append(entry)
        for head, group in groups.items():
            if len(group) > small_bucket:
                bucket = self.heads[head] = Bucket()
                bucket.entries = group
            else:
                self.heads[head] = [e.pos for e in group]
        for entry in _assign_tokens([e for e in rest if not e.caseless], self.tokens):
            self._first_or_always(entry)
        for entry in rest:
            if entry.caseless:
                self._first_or_always(entry)

    def _first_or_always(self, entry: Entry) -> None:
        record = entry.record
        mask = first_bytes(record.regex, caseless=record.caseless, dotall=record.dotall) if record.anchored else None
        if mask is None:
            self.always.append(entry.pos)
            return
        entry.kind = "first"
        for byte in range(256):
            if mask >> byte & 1:
                self.first.setdefault(byte, []).append(entry.pos)

    def candidates(self, subject: Subject) -> list[int]:
        """Positions of the lines whose key the response has, in file order."""
        data, n = subject.data, subject.length
        found: list[int] = []
        heads = self.heads
        for size in self.head_lengths:
            if size > n:
                break
            hit = heads.get(data[:size])
            if hit is not None:
                found += hit if hit.__class__ is list else hit.candidates(subject)  # type: ignore[union-attr]
        if self.iheads:
            low = subject.lower()
            for size in self.ihead_lengths:
                if size > n:
                    break
                ihit = self.iheads.get(low[:size])
                if ihit is not None:
                    found += ihit
        if self.token_keys:
            for token in subject.tokens() & self.token_keys:
                found += self.tokens[token]
        if self.first and n:
            first = self.first.get(data[0])
            if first is not None:
                found += first
        if self.always:
            found += self.always
        found.sort()
        return found


def _assign_tokens(entries: list[Entry], table: dict[bytes, list[int]]) -> list[Entry]:
    """Key each entry by its rarest token among ``entries`` (into ``table``); the entries left
    without a token, in order."""
    tokens = [_tokens(e) for e in entries]
    count = Counter(t for ts in tokens for t in set(ts))
    left = []
    for entry, toks in zip(entries, tokens, strict=True):
        if not toks:
            left.append(entry)
            continue
        best = min(toks, key=lambda t: (count[t], -len(t), t))
        entry.kind, entry.value = ("head+token" if entry.kind == "head" else "token"), best
        table.setdefault(best, []).append(entry.pos)
    return left


def _tokens(entry: Entry) -> list[bytes]:
    if entry.caseless:
        return []
    found = literal_tokens(entry.prefix, entry.anchored)
    for literal in entry.required:
        found += literal_tokens(literal, False)
    return found
