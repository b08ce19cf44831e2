"""The grammar and the parser on hand-written lines: values, locations and every error."""

from __future__ import annotations

import pytest

from sigc.diagnostics import Severity
from sigc.syntax.model import MatchKind, PortRange, Protocol
from sigc.syntax.parser import parse_bytes
from sigc.syntax.values import parse_port_list
from sigscan.bundle.fields import Field


def findings(text: bytes) -> list[tuple[str, int, int]]:
    return [(d.code, d.location.line, d.location.col) for d in parse_bytes(text, "t.probes").diagnostics]


def test_probe_and_directives() -> None:
    src = parse_bytes(
        b"Exclude T:9100-9107\n"
        b"Probe TCP GetRequest q|GET / HTTP/1.0\\r\\n\\r\\n|\n"
        b"rarity 1\nports 80,8000-8010\nsslports 443\nports 81\n"
        b"totalwaitms 7500\ntcpwrappedms 3000\nfallback NULL,Foo Bar\n"
        b"match http m|^HTTP/1\\.[01] \\d\\d\\d (.*)\\r\\n|s p/Apache/ v/$1/ cpe:/a:apache:http_server:$1/a\n"
        b"softmatch http m=^HTTP/=i\n"
    )
    assert src.diagnostics == ()
    assert src.exclude is not None and src.exclude.items[0].ports == PortRange(9100, 9107)
    (probe,) = src.probes
    assert probe.protocol is Protocol.TCP and probe.name == "GetRequest"
    assert probe.payload == b"GET / HTTP/1.0\r\n\r\n"
    assert probe.rarity == 1 and probe.totalwaitms == 7500 and probe.tcpwrappedms == 3000
    assert list(probe.ports) == [80, *range(8000, 8011), 81]
    assert list(probe.sslports) == [443]
    assert probe.fallback == ("NULL", "Foo", "Bar")
    hard, soft = probe.matches
    assert hard.kind is MatchKind.MATCH and hard.service == "http" and hard.flags == "s"
    assert hard.pattern == rb"^HTTP/1\.[01] \d\d\d (.*)\r\n"
    assert [f.key for f in hard.fields] == [Field.PRODUCT, Field.VERSION, Field.CPE]
    cpe = hard.fields[2]
    assert cpe.text == b"a:apache:http_server:$1" and cpe.flags == "a"
    assert soft.kind is MatchKind.SOFTMATCH and soft.delimiter == b"=" and soft.caseless
    assert hard.location.line == 10 and hard.pattern_location.col == len("match http m|") + 1


def test_service_names_and_delimiters() -> None:
    src = parse_bytes(b"Probe TCP NULL q||\nmatch ssl/http m%^x% p|a/b| i/x/ cpe:|a:b:c|\n")
    m = src.probes[0].matches[0]
    assert m.service == "ssl/http"
    assert m.field(Field.PRODUCT) is not None
    assert [d.code for d in src.diagnostics] == ["SIG121"]  # cpe:|…| is 7.93-only
    assert src.diagnostics[0].severity is Severity.WARNING


def test_null_probe_by_empty_string_and_options() -> None:
    src = parse_bytes(b"Probe TCP Anything q||\nProbe UDP IKE q|\\x01| no-payload source=500\n")
    null, ike = src.probes
    assert null.is_null and not ike.is_null
    assert ike.options == ("no-payload", "source=500") and ike.no_payload


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # compatibility case 12: fatal in Nmap, errors here, with the offending column
        (b"Probe TCP X q|a|\nports 80 - 82\n", [("SIG110", 2, 10)]),
        (b"Probe TCP X q|a|\nports 80,,81\n", [("SIG110", 2, 10)]),
        (b"Probe TCP X q|a|\nports 82-80\n", [("SIG110", 2, 7)]),
        (b"Probe TCP X q|a|\nports 70000\n", [("SIG110", 2, 7)]),
        (b"Probe TCP X q|a|\nrarity 0\n", [("SIG111", 2, 8)]),
        (b"Probe TCP X q|a|\n  # indented\n", [("SIG101", 2, 1)]),
        (b"Probe TCP X q|a|\n\r\n", [("SIG101", 2, 1)]),
        (b"Probe TCP X q||\nProbe TCP Y q||\n", [("SIG114", 2, 1)]),
        (b"Probe TCP X q|a|\nmatch  t m|x|\n", [("SIG107", 2, 7)]),
        # as in Nmap, "v" is read as p's flags and "/y/" is the unknown field
        (b"Probe TCP X q|a|\nmatch t m|x| p/x/v/y/\n", [("SIG109", 2, 19)]),
        (b"Probe TCP X q|a|\nmatch t m|x|x\n", [("SIG108", 2, 13)]),
        (b"Probe TCP X q|a|\nmatch t m|x| z/a/\n", [("SIG109", 2, 14)]),
        (b"Probe TCP X q|a|\nmatch t m|x\n", [("SIG100", 2, 9)]),
        (b"Probe TCP X q|a|\nmatch t m|x| p/abc\n", [("SIG100", 2, 14)]),
        (b"match t m|x|\n", [("SIG103", 1, 1)]),
        (b"Probe TCP X q|a|\nExclude T:1\n", [("SIG104", 2, 1)]),
        (b"Exclude T:1\nExclude T:2\n", [("SIG104", 2, 1)]),
        (b"Probe tcp X q|a|\n", [("SIG105", 1, 7)]),
        (b"Probe TCP _x q|a|\n", [("SIG106", 1, 11)]),
        (b"Probe TCP X q|a|\ntotalwaitms 99\n", [("SIG112", 2, 13)]),
        (b"Probe TCP X q|a|\nfallback " + b",".join(b"P%d" % i for i in range(18)) + b"\n", [("SIG113", 2, 10)]),
        (b"Probe TCP X q|a|\nbogus 1\n", [("SIG102", 2, 1)]),
        (b"Probe TCP X q|a|\nmatch\n", [("SIG100", 2, 6)]),
        # a Probe line that fails owns the lines after it: one error, not one per line
        (b"Probe TCP X a|a|\nrarity 3\nmatch t m|^x|\n", [("SIG100", 1, 13)]),
        # ... and they are still checked
        (b"Probe TCP X a|a|\nrarity 0\n", [("SIG100", 1, 13), ("SIG111", 2, 8)]),
        # text after the probe string: Nmap 7.93 loads the line and ignores it
        (b"Probe TCP X q|a|x y\n", [("SIG122", 1, 17), ("SIG122", 1, 19)]),
    ],
)
def test_errors_have_code_line_and_column(text: bytes, expected: list[tuple[str, int, int]]) -> None:
    assert findings(text) == expected


def test_messages_never_name_grammar_terminals() -> None:
    """Every terminal a syntax error can list as expected has words for it (keywords start a
    line, and an unknown first word is SIG102 before the grammar's view is used)."""
    from sigc.syntax.parser import _EXPECTED, _lark

    keywords = {t.name for t in _lark().terminals if t.name.startswith("__ANON")}
    assert {t.name for t in _lark().terminals} - keywords <= set(_EXPECTED)


def test_rarity_reads_like_atoi_and_last_one_wins() -> None:
    src = parse_bytes(b"Probe TCP X q|a|\nrarity 5x\nrarity 7\n")
    assert src.probes[0].rarity == 7
    assert [d.code for d in src.diagnostics] == ["SIG119"]  # repeated directive: a warning


def test_all_errors_in_one_run_and_broken_probe_keeps_checking_its_lines() -> None:
    text = b"Probe tcp X q|a|\nrarity 0\nmatch t m|x|q\nProbe TCP Y q|b|\nrarity 3\n"
    src = parse_bytes(text)
    assert [(d.code, d.location.line) for d in src.diagnostics] == [
        ("SIG105", 1), ("SIG111", 2), ("SIG108", 3),
    ]
    assert [p.name for p in src.probes] == ["Y"]


def test_long_lines() -> None:
    """Nmap 7.93 reads 2047 bytes of a line at a time and parses what is left as a new line, which
    it refuses (or, by chance, takes for something else): a line of 2048 bytes or more is an error."""
    def match_line(length: int) -> bytes:
        return b"match t m|" + b"a" * (length - 11) + b"|"

    assert len(match_line(2047)) == 2047
    assert parse_bytes(b"Probe TCP X q|a|\n" + match_line(2047) + b"\n").diagnostics == ()
    for length in (2048, 3000, 9000):
        found = parse_bytes(b"Probe TCP X q|a|\n" + match_line(length) + b"\n").diagnostics
        assert [(d.code, d.severity, d.location.line) for d in found] == [("SIG115", Severity.ERROR, 2)]


def test_port_list_whitespace_rules() -> None:
    ports, problem = parse_port_list(" 1 , 2-3,4 ")
    assert problem is None and list(ports) == [1, 2, 3, 4]


def test_crlf_file_without_blank_lines_parses() -> None:
    src = parse_bytes(b"Probe TCP X q|a|\r\nrarity 3\r\nports 80\r\nmatch t m|x|s p/y/\r\n")
    assert src.diagnostics == ()
    assert src.probes[0].rarity == 3 and src.probes[0].matches[0].flags == "s"


def test_bytes_are_kept_exactly() -> None:
    src = parse_bytes(b"Probe TCP X q|a|\nmatch t m|^\xc5\xbc\xff\\x00| p/\xe9t\xe9/\n")
    m = src.probes[0].matches[0]
    assert m.pattern == b"^\xc5\xbc\xff\\x00"
    assert m.fields[0].text == b"\xe9t\xe9"
