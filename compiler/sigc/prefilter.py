"""Prefilter keys: which key makes each match line a candidate, and each probe's index as the
bundle stores it (table ``probe_index``).

What each key kind means, and how the runtime looks responses up, is told in
:mod:`sigscan.matcher.index`; the kinds and what a token is are the bundle's
(:mod:`sigscan.bundle.keys`). This module decides, from the literal facts the pattern analysis
found (``prefix``, ``required``, ``first_bytes``):

* an anchored line with a literal prefix is keyed by its head (its first ``HEAD_MAX`` bytes;
  ``ihead`` when caseless);
* a head shared by more than :data:`SMALL_BUCKET` lines becomes a bucket, split by each line's
  rarest token within it;
* any other line is keyed by its rarest token among such lines, or else by the bytes its match
  can start with (``first``), or else it is always a candidate.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any, Protocol

from sigscan.bundle.keys import ALWAYS, FIRST, HEAD, HEAD_MAX, IHEAD, TOKEN, TOKEN_TABLE
from sigscan.bundle.records import KeyRecord

if TYPE_CHECKING:
    from collections.abc import Sequence

SMALL_BUCKET = 4  # head buckets this small keep their head key; bigger ones split by token


class LineFacts(Protocol):
    """What a line's key is computed from (a MatchRecord has it; so has the analysis' row)."""

    @property
    def anchored(self) -> bool: ...
    @property
    def caseless(self) -> bool: ...
    @property
    def prefix(self) -> bytes: ...
    @property
    def required(self) -> tuple[bytes, ...]: ...
    @property
    def first_bytes(self) -> bytes | None: ...


def literal_tokens(literal: bytes, at_start: bool) -> list[bytes]:
    """Tokens every subject containing ``literal`` has: those bounded inside the literal (the
    first one too when the literal sits at the start of the subject)."""
    parts = literal.translate(TOKEN_TABLE).split(b" ")
    if len(parts) < 2:
        return []
    inner = parts[1:-1] + (parts[:1] if at_start else [])
    return [t for t in inner if t]


def assign_keys(lines: Sequence[LineFacts], small_bucket: int = SMALL_BUCKET) -> list[KeyRecord]:
    """Every line's key (see the module docstring), in order."""
    kinds: list[tuple[str, bytes]] = [(ALWAYS, b"")] * len(lines)
    tokens: list[bytes | None] = [None] * len(lines)
    groups: dict[bytes, list[int]] = {}
    rest: list[int] = []
    for pos, line in enumerate(lines):
        if line.anchored and line.prefix:
            head = line.prefix[:HEAD_MAX]
            if line.caseless:
                kinds[pos] = (IHEAD, head)
            else:
                kinds[pos] = (HEAD, head)
                groups.setdefault(head, []).append(pos)
        else:
            rest.append(pos)
    for group in groups.values():
        if len(group) > small_bucket:
            for pos, token in _rarest_tokens(lines, group).items():
                tokens[pos] = token
    plain = [pos for pos in rest if not lines[pos].caseless]
    keyed = _rarest_tokens(lines, plain)
    for pos, token in keyed.items():
        kinds[pos] = (TOKEN, token)
    for pos in rest:
        if pos not in keyed:
            kinds[pos] = _first_or_always(lines[pos])
    return [KeyRecord(kind, key, tokens[pos]) for pos, (kind, key) in enumerate(kinds)]


def index_data(keys: Sequence[KeyRecord], small_bucket: int = SMALL_BUCKET) -> dict[str, Any]:
    """A probe's index as the bundle stores it, from its lines' keys (:func:`assign_keys`):
    for each key, the positions of its lines in file order (bytes as latin-1 text)."""
    heads: dict[bytes, list[int]] = {}
    iheads: dict[bytes, list[int]] = {}
    tokens: dict[bytes, list[int]] = {}
    first: dict[int, list[int]] = {}
    always: list[int] = []
    for pos, key in enumerate(keys):
        if key.kind == HEAD:
            heads.setdefault(key.key, []).append(pos)
        elif key.kind == IHEAD:
            iheads.setdefault(key.key, []).append(pos)
        elif key.kind == TOKEN:
            tokens.setdefault(key.key, []).append(pos)
        elif key.kind == FIRST:
            for byte in key.key:
                first.setdefault(byte, []).append(pos)
        else:
            always.append(pos)
    head: dict[str, list[int]] = {}
    bucket: dict[str, dict[str, Any]] = {}
    for value, group in heads.items():
        if len(group) <= small_bucket:
            head[_text(value)] = group
            continue
        plain: list[int] = []
        split: dict[bytes, list[int]] = {}
        for pos in group:
            token = keys[pos].bucket_token
            if token is None:
                plain.append(pos)
            else:
                split.setdefault(token, []).append(pos)
        bucket[_text(value)] = {"plain": plain, "token": {_text(t): p for t, p in split.items()}}
    return {
        "size": len(keys),
        "head": head,
        "bucket": bucket,
        "ihead": {_text(k): v for k, v in iheads.items()},
        "token": {_text(k): v for k, v in tokens.items()},
        "first": {chr(b): v for b, v in first.items()},
        "always": always,
    }


def _text(value: bytes) -> str:
    return value.decode("latin-1")


def _first_or_always(line: LineFacts) -> tuple[str, bytes]:
    first = line.first_bytes
    if not line.anchored or first is None:
        return ALWAYS, b""
    return FIRST, first


def _rarest_tokens(lines: Sequence[LineFacts], positions: list[int]) -> dict[int, bytes]:
    """Each line's rarest token among the lines at ``positions`` (lines without one are left
    out): fewest lines, then longest, then smallest."""
    found = {pos: _tokens(lines[pos]) for pos in positions}
    count = Counter(t for ts in found.values() for t in set(ts))
    return {pos: min(toks, key=lambda t: (count[t], -len(t), t)) for pos, toks in found.items() if toks}


def _tokens(line: LineFacts) -> list[bytes]:
    if line.caseless:
        return []
    prefix, required = line.prefix, line.required
    if required and prefix:
        required = tuple(r for r in required if r not in prefix)
    found = literal_tokens(prefix, line.anchored)
    for literal in required:
        found += literal_tokens(literal, False)
    return found
