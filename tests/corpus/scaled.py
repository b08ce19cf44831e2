"""Large probe files made at run time from a real ``nmap-service-probes`` (never stored: Nmap's
files are read where they are installed), for the compiler's memory benchmark and test.

:func:`copies` is "N times Nmap's database" as a file Nmap itself loads: the header (comments,
``Exclude``) once, the one NULL probe with its directives once and its ``match``/``softmatch``
lines N times, then every other probe N times, copy ``k`` > 0 under the name ``NAME_k`` (its
``fallback`` names renamed alike, NULL excepted). :func:`distinct` is the same with each copy's
patterns marked (a copy's letters after the leading ``^``), cut at a number of lines: what a
file of that many different lines costs, with no translation shared between copies.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

_PROBE = re.compile(rb"Probe (TCP|UDP) ([^ ]+) (q.*)")
_MATCH = re.compile(rb"(?:soft)?match [^ ]+ m([^\sA-Za-z])")
_FALLBACK = re.compile(rb"fallback (.*)")


@dataclass
class _Section:
    probe: bytes  # the Probe line
    lines: list[bytes]  # the lines after it, up to the next Probe line

    @property
    def null(self) -> bool:
        found = _PROBE.fullmatch(self.probe)
        return found is not None and found.group(3) == b"q||"


def _sections(data: bytes) -> tuple[list[bytes], list[_Section]]:
    header: list[bytes] = []
    sections: list[_Section] = []
    for line in data.split(b"\n"):
        if line.startswith(b"Probe "):
            sections.append(_Section(line, []))
        elif sections:
            sections[-1].lines.append(line)
        else:
            header.append(line)
    while sections and sections[-1].lines[-1:] == [b""]:
        sections[-1].lines.pop()
    return header, sections


def _is_match(line: bytes) -> bool:
    return line.startswith((b"match ", b"softmatch "))


def _renamed(line: bytes, copy: int) -> bytes:
    """A Probe or fallback line of copy ``copy`` (0: as written)."""
    if copy == 0:
        return line
    probe = _PROBE.fullmatch(line)
    if probe is not None:
        return b"Probe %s %s_%d %s" % (probe.group(1), probe.group(2), copy, probe.group(3))
    names = re.split(rb"([, \t]+)", _FALLBACK.fullmatch(line).group(1))  # type: ignore[union-attr]
    renamed = [n if not n or n == b"NULL" or not n[:1].isalnum() else b"%s_%d" % (n, copy) for n in names]
    return b"fallback " + b"".join(renamed)


def _marked(line: bytes, copy: int) -> bytes:
    """The match line with letters of its copy at the start of its pattern (after ``^``):
    a distinct pattern with the same groups, fields and structure."""
    head = _MATCH.match(line)
    if head is None:
        return line
    mark = b"Q" + bytes([0x61 + copy % 26]) * (1 + copy // 26)
    at = head.end() + (line[head.end():head.end() + 1] == b"^")
    return line[:at] + mark + line[at:]


Edit = Callable[[bytes, int], bytes]


def _emit(header: list[bytes], sections: list[_Section], n: int, edit: Edit, budget: int | None) -> Iterator[bytes]:
    left = budget

    def lines(section: _Section, copy: int, matches_only: bool) -> Iterator[bytes]:
        nonlocal left
        for line in section.lines:
            if _is_match(line):
                if left is not None:
                    if left <= 0:
                        continue
                    left -= 1
                yield edit(line, copy)
            elif not matches_only:
                yield _renamed(line, copy) if line.startswith(b"fallback ") else line

    yield from header
    for section in sections:
        if section.null:
            yield section.probe
            yield from (line for line in section.lines if not _is_match(line))
            for copy in range(n):
                yield from lines(section, copy, matches_only=True)
    for copy in range(n):
        for section in sections:
            if not section.null:
                yield _renamed(section.probe, copy)
                yield from lines(section, copy, matches_only=False)


def copies(data: bytes, n: int = 10) -> bytes:
    """``n`` times the database ``data`` in one file Nmap loads (see the module docstring)."""
    header, sections = _sections(data)
    return b"\n".join(_emit(header, sections, n, lambda line, _: line, None)) + b"\n"


def match_lines(data: bytes) -> int:
    return sum(1 for line in data.split(b"\n") if _is_match(line))


def distinct(data: bytes, lines: int) -> bytes:
    """A file of exactly ``lines`` match and softmatch lines, each copy's patterns marked as its
    own, made from as many copies of ``data`` as it takes (see the module docstring)."""
    header, sections = _sections(data)
    per_copy = match_lines(data)
    n = -(-lines // per_copy)
    return b"\n".join(_emit(header, sections, n, _marked, lines)) + b"\n"
