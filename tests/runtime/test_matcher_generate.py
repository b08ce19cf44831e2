"""A small generator of responses that match a given Nmap pattern (for the equivalence test and
the benchmarks), and the tests that it does what it says."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import regex  # type: ignore[import-untyped]  # no stubs for regex

from sigc.regex.analysis import parse_pattern
from sigc.regex.translate import regex_flags
from sigc.regex.tree import Backref, Branches, ByteSet, Group, Literal, Node, Repeat
from sigscan.bundle.loader import Bundle, open_bundle
from sigscan.bundle.records import MatchRecord

_PREFERRED = b"aA0 b1.-_/:xyzBCDEF23456789cdefghijklmnopqrstuvwGHIJKLMNOPQRSTUVWXYZ\r\n\t"
_ORDER = list(_PREFERRED) + [b for b in range(256) if b not in _PREFERRED]


def _byte(mask: int) -> bytes:
    for b in _ORDER:
        if mask >> b & 1:
            return bytes((b,))
    return b""


class _Writer:
    """Writes one string a pattern tree accepts: first branches, minimal repeats (at least one)."""

    def __init__(self, extra: int) -> None:
        self.extra = extra  # additional repetitions for unbounded repeats
        self.groups: dict[int, bytes] = {}

    def branches(self, branches: Branches) -> bytes:
        return self.sequence(branches[0])

    def sequence(self, items: tuple[Node, ...]) -> bytes:
        return b"".join(self.node(n) for n in items)

    def node(self, node: Node) -> bytes:
        match node:
            case Literal(data):
                return data
            case ByteSet(mask):
                return _byte(mask)
            case Group(kind, branches, index) if not kind.is_lookaround:
                text = self.branches(branches)
                if index:
                    self.groups[index] = text
                return text
            case Repeat(item, low, high):
                count = low if high is not None and high == low else max(low, 1) + self.extra
                count = count if high is None else min(count, high)
                return b"".join(self.node(item) for _ in range(count))
            case Backref(number):
                return self.groups.get(number, b"")
        return b""


def matching_response(record: MatchRecord, compiled: Any = None) -> bytes | None:
    """A response the line's pattern matches (checked with ``compiled``, by default the pattern
    compiled with ``regex``), or ``None``."""
    tree, _ = parse_pattern(record.pattern, caseless=record.caseless, dotall=record.dotall)
    if tree is None:
        return None
    if compiled is None:
        compiled = regex.compile(record.regex, regex_flags(caseless=record.caseless, dotall=record.dotall))
    for extra in (0, 1, 3):
        text = _Writer(extra).branches(tree.branches)
        if compiled.search(text):
            return text
    return None


def responses(bundle: Bundle) -> Iterator[tuple[str, str, bytes]]:
    """``(probe, protocol, response)``: one matching response per line where the generator
    manages, plus a variant cut one byte short."""
    for probe in bundle.probes:
        for record in bundle.matches(probe.id):
            text = matching_response(record)
            if text is not None:
                yield probe.name, probe.protocol, text
                yield probe.name, probe.protocol, text[:-1]


def test_generated_responses_match_their_line(tmp_path: Path) -> None:
    from sigc.build import build
    from sigc.sources import resolve

    src = tmp_path / "g.probes"
    src.write_bytes(
        b"Probe TCP NULL q||\n"
        b"match a m=^A(\\d+) (x|yy)+ \\1$=\n"
        b"match b m=^B[^\\r\\n]*\\r\\n(?:foo|bar){2,3}z?=s\n"
        b"match c m|CaseLess|i\n"
        b"match d m|^D(?=abc)|\n"
    )
    out = tmp_path / "g.db"
    result = build(resolve([str(src)]), out)
    assert result.ok, [str(d) for d in result.diagnostics]
    with open_bundle(out) as bundle:
        records = bundle.matches(0)
        texts = [matching_response(r) for r in records]
    assert texts[:3] == [b"A0 x 0", b"Ba\r\nfoofooz", b"CaseLess"]
    assert texts[3] is None  # the lookahead is not generated: no response found
