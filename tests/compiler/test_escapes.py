"""Probe-string escapes (nmap-semantics §1.4, compatibility case 11) and their inverse."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sigc.diagnostics import Severity
from sigc.syntax.escapes import CODES, Dialect, TemplateProblem, escape, unescape
from tests.conftest import real_file

ALL = list(Dialect)


def findings(problems: tuple[TemplateProblem, ...]) -> list[tuple[str, Severity, int]]:
    return [(p.code, p.severity, p.offset) for p in problems]


@pytest.mark.parametrize("dialect", ALL)
def test_escapes_every_nmap_decodes(dialect: Dialect) -> None:
    assert unescape(rb"\0\x01\r\n\t\\", dialect=dialect) == (b"\x00\x01\r\n\t\\", ())
    assert unescape(rb"GET / HTTP/1.0\r\n\r\n", dialect=dialect) == (b"GET / HTTP/1.0\r\n\r\n", ())
    assert unescape(rb"\xAb\xcD\x00", dialect=dialect) == (b"\xab\xcd\x00", ())


@pytest.mark.parametrize("dialect", ALL)
@pytest.mark.parametrize(
    ("text", "decoded", "code", "offset"),
    [
        (rb"a\1", b"a", "SIG301", 1),
        (rb"a\e", b"a", "SIG301", 1),
        (rb"a\x4", b"a", "SIG302", 1),
        (rb"a\xg0", b"a", "SIG302", 1),
        (b"abc\\", b"abc", "SIG303", 3),
    ],
)
def test_escapes_no_nmap_accepts_are_errors(dialect: Dialect, text: bytes, decoded: bytes, code: str, offset: int) -> None:
    assert unescape(text, dialect=dialect) == (decoded, (TemplateProblem(code, Severity.ERROR, _message(text, dialect), offset),))


def _message(text: bytes, dialect: Dialect) -> str:
    (problem,) = unescape(text, dialect=dialect)[1]
    return problem.message


@pytest.mark.parametrize(
    ("text", "byte"),
    [(rb"\a", b"\x07"), (rb"\b", b"\x08"), (rb"\f", b"\x0c"), (rb"\v", b"\x0b"), (rb"\|", b"|"), (rb"\"", b'"'), (b"\\\xe9", b"\xe9")],
)
def test_escapes_only_7_93_accepts(text: bytes, byte: bytes) -> None:
    assert unescape(b"x" + text, dialect=Dialect.NMAP_7_93) == (b"x" + byte, ())
    decoded, problems = unescape(b"x" + text, dialect=Dialect.ANY)
    assert decoded == b"x" + byte and findings(problems) == [("SIG304", Severity.WARNING, 1)]
    assert "accepted by 7.93, rejected by newer Nmap" in problems[0].message
    decoded, problems = unescape(b"x" + text, dialect=Dialect.HEAD)
    assert decoded == b"x" and findings(problems) == [("SIG304", Severity.ERROR, 1)]


def test_backslash_zero_is_never_octal() -> None:
    decoded, problems = unescape(rb"\012", dialect=Dialect.ANY)
    assert decoded == b"\x0012"
    assert findings(problems) == [("SIG305", Severity.INFO, 0)]
    assert problems[0].message == r"'\01' is NUL then '1' (no octal escapes); write '\x001' to say so"


def test_every_problem_is_reported_but_decoding_stops_at_the_first_error() -> None:
    decoded, problems = unescape(rb"ok\a\q\r\x4", dialect=Dialect.ANY)
    assert decoded == b"ok\x07"
    assert findings(problems) == [
        ("SIG304", Severity.WARNING, 2),
        ("SIG301", Severity.ERROR, 4),
        ("SIG302", Severity.ERROR, 8),
    ]


def test_messages_quote_the_escape() -> None:
    assert _message(rb"a\1", Dialect.HEAD) == r"unknown escape '\1': Nmap refuses it; use \xHH for a byte"
    assert _message(rb"\x4", Dialect.HEAD) == r"bad hex escape '\x4': \x needs exactly two hex digits"
    assert _message(rb"\a", Dialect.HEAD) == r"escape '\a' is accepted by 7.93, rejected by newer Nmap; write '\x07'"


@given(st.binary(max_size=60), st.sampled_from(ALL))
def test_unescape_never_raises_and_uses_known_codes(text: bytes, dialect: Dialect) -> None:
    _, problems = unescape(text, dialect=dialect)
    for p in problems:
        assert p.code in CODES and 0 <= p.offset < len(text)
        assert p.severity is CODES[p.code][0] or (p.code == "SIG304" and dialect is Dialect.HEAD)


# --- escape(), the inverse used by `sigc dump` --------------------------------------------------

def test_escape_is_readable() -> None:
    assert escape(b"GET / HTTP/1.0\r\n\r\n") == rb"GET / HTTP/1.0\r\n\r\n"
    assert escape(b"\x00\x01\t\\|\x7f\xff") == rb"\0\x01\t\\\x7c\x7f\xff"
    assert escape(b"\x009\x00a") == rb"\x009\0a"  # no one reads \09 as octal
    assert escape(b"a/b", delimiter=b"/") == rb"a\x2fb"


@pytest.mark.parametrize("delimiter", [b"x", b"0", b"\\", b"", b"||"])
def test_escape_refuses_a_delimiter_that_escapes_use(delimiter: bytes) -> None:
    with pytest.raises(ValueError, match="delimiter"):
        escape(b"data", delimiter=delimiter)


@given(st.binary(max_size=200))
def test_escape_round_trips_in_every_dialect_without_findings(data: bytes) -> None:
    text = escape(data)
    assert b"|" not in text and b"\n" not in text and b"\r" not in text
    for dialect in ALL:
        assert unescape(text, dialect=dialect) == (data, ())


# --- the real databases --------------------------------------------------------------------------

PROBE = re.compile(rb"^Probe (?:TCP|UDP) \S+ q(.)(.*?)\1", re.MULTILINE)


@pytest.mark.parametrize(("name", "dialect"), [("7.93", Dialect.NMAP_7_93), ("head", Dialect.HEAD)])
def test_real_probe_strings_decode_and_escape_back(name: str, dialect: Dialect) -> None:
    probes = PROBE.findall(real_file(name).read_bytes())
    assert len(probes) > 100
    infos = 0
    for _, raw in probes:
        for d in (dialect, Dialect.ANY):
            payload, problems = unescape(raw, dialect=d)
            assert [p for p in problems if p.severity is not Severity.INFO] == [], raw
            infos += len(problems)
        assert unescape(escape(payload), dialect=Dialect.HEAD) == (payload, ())
    # 7.93 writes `\0` before digits in WMSRequest and oracle-tns; newer Nmap writes `\x00`.
    assert (infos > 0) == (name == "7.93")
