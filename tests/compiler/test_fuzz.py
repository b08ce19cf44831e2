"""Mutated lines of the real database through the whole compiler: diagnostics, never exceptions."""

from __future__ import annotations

import random
from functools import cache

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sigc.analyze import analyze
from sigc.diagnostics import Diagnostic
from sigc.lint import all_findings
from sigc.syntax.parser import parse_bytes
from tests.conftest import REAL_FILES

# A few lines of every kind, so mutations start from real syntax.
FALLBACK_LINES = [
    b"Probe TCP GetRequest q|GET / HTTP/1.0\\r\\n\\r\\n|",
    b"ports 1,70,79,80-85,88,113,139,143,280,497,505,514,515,540,554,591",
    b"rarity 1",
    b"fallback GetRequest,HTTPOptions",
    b"totalwaitms 7500",
    b"match ftp m|^220 ([-\\w_.]+) FTP server \\(Version (\\d[\\w.]+)\\)|s p/x/ v/$2/ h/$1/ cpe:/a:x:y:$2/a",
    b"softmatch http m|^HTTP/1\\.[01] \\d\\d\\d (?:[^\\r\\n]*\\r\\n(?!\\r\\n))*?Server: ([^\\r\\n]+)|i",
    b"Exclude T:9100-9107",
]


@cache
def real_lines() -> tuple[bytes, ...]:
    rng = random.Random(7)
    lines: list[bytes] = []
    for path in REAL_FILES.values():
        if path.is_file():
            every = [line for line in path.read_bytes().split(b"\n") if line and not line.startswith(b"#")]
            lines += rng.sample(every, min(400, len(every)))
    return tuple(lines) or tuple(FALLBACK_LINES)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    line = bytearray(draw(st.sampled_from(real_lines())))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["insert", "delete", "replace", "truncate", "swap-delims"]))
        at = draw(st.integers(0, max(0, len(line) - 1)))
        if op == "insert":
            line[at:at] = draw(st.binary(min_size=1, max_size=4))
        elif op == "delete" and line:
            del line[at : at + draw(st.integers(1, 5))]
        elif op == "replace" and line:
            line[at] = draw(st.sampled_from(b"|/\\$()[]{}^*+?.:=% \t\r\x00\xff\"0129aqmpcx"))
        elif op == "truncate":
            del line[at:]
        else:
            line = bytearray(bytes(line).replace(b"|", b"%"))
    return bytes(line).replace(b"\n", b"")


def _check(diagnostics: list[Diagnostic]) -> None:
    for d in diagnostics:
        assert d.location.line >= 1 and d.location.col >= 1, d
        assert d.code.startswith("SIG") and d.message


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated(), st.booleans())
def test_mutated_line_gives_only_diagnostics(line: bytes, inside_probe: bool) -> None:
    prefix = b"Probe TCP NULL q||\nProbe TCP GetRequest q|GET / HTTP/1.0\\r\\n\\r\\n|\n" if inside_probe else b""
    source = parse_bytes(prefix + line + b"\n", "fuzz.probes")
    db = analyze([source])
    _check(all_findings(db))


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_give_only_diagnostics(data: bytes) -> None:
    db = analyze([parse_bytes(b"Probe TCP NULL q||\n" + data, "fuzz.probes")])
    _check(all_findings(db))
