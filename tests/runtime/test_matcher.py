"""identify() on small bundles built from inline probe text: Nmap's matching and template rules
(nmap-semantics §4 and §11), the chain, the prefilter's keys, limits and timeouts.

This module also runs with the standard ``re`` engine (``SIGSCAN_REGEX=re``, see
test_matcher_re.py); tests that need the ``regex`` module's timeout skip themselves there.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sigc.build import build
from sigc.prefilter import assign_keys, index_data
from sigc.sources import resolve
from sigscan.bundle.loader import Bundle, open_bundle
from sigscan.matcher import LIMIT, Matcher, UnknownProbe, identify
from sigscan.matcher.index import ProbeIndex, Subject
from sigscan.matcher.regex_engine import default_engine
from sigscan.matcher.verdict import Verdict
from sigscan.testing.naive import NaiveMatcher

REGEX = default_engine().name == "regex"
needs_timeout = pytest.mark.skipif(not REGEX, reason="the re engine has no timeout")


def small_bundle(folder: Path, text: bytes, name: str = "small", suffix: str = "db") -> Bundle:
    """A bundle built from probe-file text (written to ``folder``)."""
    src = folder / f"{name}.probes"
    src.write_bytes(text)
    out = folder / f"{name}.{suffix}"
    result = build(resolve([str(src)]), out)
    assert result.ok, [str(d) for d in result.diagnostics]
    return open_bundle(out)


def one_line(tmp_path: Path, line: bytes) -> Bundle:
    return small_bundle(tmp_path, b"Probe TCP NULL q||\n" + line + b"\n")


def null(bundle: Bundle, data: bytes) -> Verdict:
    return identify(bundle, "NULL", "tcp", data)


# -- compatibility cases of nmap-semantics §11 ---------------------------------------------------


def test_case_1_every_substitution_kind(tmp_path: Path) -> None:
    b = one_line(tmp_path, rb'match t m|^SRV1 ((?:\w\0)+) (\d_\d_\d) (....) (Foo Bar!)|s p/$P(1)/ '
                           rb'v/$SUBST(2,"_",".")/ i/BE=$I(3,">") LE=$I(3,"<")/ '
                           rb"cpe:/a:Test:Prod Uct:$4/ cpe:/h:Vendor:HW/a")
    v = null(b, b"SRV1 W\0O\0R\0K\0 1_2_3 \x01\x02\x03\x04 Foo Bar!\r\n")
    assert (v.name, v.product, v.version, v.extrainfo) == ("t", "WORK", "1.2.3", "BE=16909060 LE=67305985")
    assert v.cpe == ("cpe:/a:Test:Prod Uct:foo_bar%21", "cpe:/h:Vendor:HW")
    assert v.diagnostics == () and not v.soft and v.probe == "NULL" and v.line == 2


def test_case_2_length_limits_blank_the_whole_field(tmp_path: Path) -> None:
    literal = b"L" * 79
    b = one_line(tmp_path, rb"match t m|^SRV (\w+)$| p/$1/ v/" + literal + b"/")
    fits = null(b, b"SRV " + b"x" * 78)
    assert fits.product == "x" * 78 and fits.version == "L" * 79 and fits.diagnostics == ()
    too_long = null(b, b"SRV " + b"x" * 79)
    assert too_long.product is None and too_long.version == "L" * 79
    assert len(too_long.diagnostics) == 1
    assert too_long.diagnostics[0].startswith("Warning: Servicescan failed to fill product_template "
                                              "(subjectlen: 83, productlen: 80)")
    assert too_long.diagnostics[0].endswith("Match string was line 2: p/$1/")


def test_case_3_unset_group_fails_its_fields_only(tmp_path: Path) -> None:
    b = one_line(tmp_path, rb"match t m|^SRV2 (\w+)(?: (\d+))?| p/Prod $1/ v/$2/ i/x: $1, $2/ h/host-$1/")
    v = null(b, b"SRV2 abc\r\n")
    assert (v.product, v.hostname, v.version, v.extrainfo) == ("Prod abc", "host-abc", None, None)
    assert [d.split(" (")[0] for d in v.diagnostics] == [
        "Warning: Servicescan failed to fill version_template",
        "Warning: Servicescan failed to fill info_template",
    ]


def test_case_4_trailing_whitespace_and_commas_stripped_leading_kept(tmp_path: Path) -> None:
    b = one_line(tmp_path, rb"match t m|^SRV4 (\w+)| i/$1,  ,/ v/  $1  /")
    v = null(b, b"SRV4 val")
    assert (v.extrainfo, v.version) == ("val", "  val")


def test_case_5_cpe_slots(tmp_path: Path) -> None:
    b = small_bundle(tmp_path, b"Probe TCP NULL q||\n"
                     b"match antivir m|^AV| cpe:/a:symantec:antivirus/ cpe:/a:symantec:antivirus_scan_engine/\n"
                     b"match t m|^OHA| cpe:/o:os:os/ cpe:/h:hw:hw/ cpe:/a:app:app/\n")
    assert null(b, b"AV").cpe == ("cpe:/a:symantec:antivirus_scan_engine",)
    assert null(b, b"OHA").cpe == ("cpe:/a:app:app", "cpe:/h:hw:hw", "cpe:/o:os:os")


def test_case_6_softmatch_before_a_matching_hard_line_wins(tmp_path: Path) -> None:
    b = small_bundle(tmp_path, b"Probe TCP NULL q||\nsoftmatch t5 m|^SRV5|\nmatch t5hard m|^SRV5 hard|\n")
    v = null(b, b"SRV5 hard\r\n")
    assert (v.name, v.soft, v.line) == ("t5", True, 2)


def test_case_13_template_arithmetic(tmp_path: Path) -> None:
    b = small_bundle(tmp_path, b"Probe TCP NULL q||\n"
                     b'match t m|^A(\\w+)$| p/$10/ v/$P(0x1)/ i/$SUBST(1,"A","\\x41\\x42")/\n'
                     b'match i m|^I(.*)$|s p/$I(1,">")/\n')
    v = null(b, b"AAB")
    assert (v.product, v.version, v.extrainfo) == ("AB0", "AB", "ABB")
    assert null(b, b"I").product == "0"
    nine = null(b, b"I123456789")
    assert nine.product is None and nine.diagnostics[0].startswith("Warning: Servicescan failed to fill product")


def test_case_14_regex_dialect(tmp_path: Path) -> None:
    b = small_bundle(tmp_path, b"Probe TCP NULL q||\n"
                     b"match tcl m|^\\d+{infopark tcl-Interface-Server} {CM ([\\w._-]+)| v/$1/\n"
                     b"match nuls m|^\\0\\0\\0\\00$|\n"
                     b"match i2p m|^<title>Przegl\xc4\x85d ([\\w.]+)</title>| v/$1/\n")
    assert null(b, b"12{infopark tcl-Interface-Server} {CM 6.7").version == "6.7"
    assert null(b, b"\0\0\0\0").name == "nuls"
    assert null(b, b"\0\0\0\x000").name is None
    assert null(b, b"<title>Przegl\xc4\x85d 0.9.1</title>").version == "0.9.1"


# -- the chain and the order ---------------------------------------------------------------------

CHAIN = (
    b"Probe TCP NULL q||\n"
    b"match null-a m|^A|\n"
    b"match null-b m|^B|\n"
    b"Probe TCP First q|x|\n"
    b"fallback Second\n"
    b"match first-late m|^BB|\n"
    b"Probe TCP Second q|y|\n"
    b"match second m|^B|\n"
    b"match second-c m|^C|\n"
    b"Probe UDP Dgram q|z|\n"
    b"match dgram m|^D|\n"
)


def test_chain_is_probe_then_fallbacks_then_null(tmp_path: Path) -> None:
    b = small_bundle(tmp_path, CHAIN)
    assert identify(b, "First", "tcp", b"BB").name == "first-late"
    second = identify(b, "First", "tcp", b"B")
    assert (second.name, second.probe) == ("second", "Second")
    fallback_null = identify(b, "First", "tcp", b"A")
    assert (fallback_null.name, fallback_null.probe) == ("null-a", "NULL")
    assert identify(b, "NULL", "tcp", b"B").name == "null-b"


def test_udp_chain_has_no_null(tmp_path: Path) -> None:
    b = small_bundle(tmp_path, CHAIN)
    assert identify(b, "Dgram", "udp", b"D").name == "dgram"
    assert identify(b, "Dgram", "udp", b"A") == Verdict()


def test_first_line_in_file_order_wins_even_when_a_later_one_is_longer(tmp_path: Path) -> None:
    b = small_bundle(tmp_path, b"Probe TCP NULL q||\n"
                     b"match generic m|^SSH-([\\d.]+)-| v/$1/\n"
                     b"match openssh m|^SSH-([\\d.]+)-OpenSSH_([\\w.]+)\\r\\n| p/OpenSSH/ v/$2/\n")
    v = null(b, b"SSH-2.0-OpenSSH_9.6\r\n")
    assert (v.name, v.version, v.line) == ("generic", "2.0", 2)


def test_unknown_probe(tmp_path: Path) -> None:
    b = small_bundle(tmp_path, CHAIN)
    with pytest.raises(UnknownProbe, match=r"no TCP probe named 'first'.*did you mean First"):
        identify(b, "first", "tcp", b"")
    with pytest.raises(UnknownProbe, match="no UDP probe named 'First'"):
        identify(b, "First", "udp", b"")


# -- the prefilter's keys ------------------------------------------------------------------------

KEYS = (
    b"Probe TCP NULL q||\n"
    b"match head m|^SSH-([\\d.]+)-| v/$1/\n"
    b"match apache m|^HTTP/1\\.[01] 200 OK\\r\\nServer: Apache/([\\d.]+)| v/$1/\n"
    b"match nginx m|^HTTP/1\\.[01] \\d\\d\\d .*\\r\\nServer: nginx/([\\d.]+)| v/$1/\n"
    b"match caseless m|^hello (\\w+)|i v/$1/\n"
    b"match unanchored m|Welcome to ([\\w]+) server| p/$1/\n"
    b"match first m|^[0-9a-f]{8}$|\n"
    b"match always m|x+$|\n"
)


@pytest.mark.parametrize(("data", "name", "version"), [
    (b"SSH-2.0-OpenSSH_9.6\r\n", "head", "2.0"),
    (b"HTTP/1.1 200 OK\r\nServer: Apache/2.4.1\r\n", "apache", "2.4.1"),
    (b"HTTP/1.0 404 Not Found\r\nServer: nginx/1.2\r\n", "nginx", "1.2"),
    (b"HeLLo World", "caseless", "World"),
    (b"\r\n*** Welcome to Frob server ***", "unanchored", None),
    (b"0badcafe", "first", None),
    (b"xxx", "always", None),
    (b"HTTP/1.1 200 OK\r\nServer: nginx\r\n", None, None),
    (b"", None, None),
])
def test_each_kind_of_key(tmp_path: Path, data: bytes, name: str | None, version: str | None) -> None:
    b = small_bundle(tmp_path, KEYS)
    v = null(b, data)
    assert (v.name, v.version) == (name, version)
    assert v == NaiveMatcher(b).identify("NULL", "tcp", data)


@pytest.mark.parametrize("suffix", ["db", "json"])
@pytest.mark.parametrize(("line", "data"), [
    (b"match svc m=^a|^S= p/x/", b"Sxyz\r\n"),  # the reported case: keyed under "a" alone
    (b"match svc m=^a|^S= p/x/", b"axyz\r\n"),
    (b"match svc m=^HTTP/1\\.1 |^220 = p/x/", b"220 mail\r\n"),
    (b"match svc m=^a|\\AS= p/x/", b"S"),
    (b"match svc m=^(?:a|b)|^(?:c|(d))= p/x/", b"d"),
    (b"match svc m=^s|^(?:)?= p/x/", b"HTTP/1.1 200 OK\r\n"),  # the second alternative takes nothing
    (b"match svc m=^(?:a?)b= p/x/", b"b"),
    (b"match svc m=^a|^k=i p/x/", b"K"),
    (b"match svc m=^(?:\\d+|[^\\x00-\\x7f])$= p/x/", b"\xe9"),
])
def test_every_alternative_of_an_anchored_line_is_keyed(tmp_path: Path, suffix: str, line: bytes,
                                                         data: bytes) -> None:
    """A line whose alternatives all start with ``^`` is a candidate for a response that starts
    like any of them, not just the first (Nmap 7.93 answers ``svc`` for ``S`` and ``a`` on
    ``^a|^S``; tests/hostile/test_prefilter.py checks it against the binary)."""
    b = small_bundle(tmp_path, b"Probe TCP NULL q||\n" + line + b"\n", suffix=suffix)
    v = null(b, data)
    assert (v.name, v.product) == ("svc", "x")
    assert v == NaiveMatcher(b).identify("NULL", "tcp", data)


def test_index_keys(tmp_path: Path) -> None:
    b = small_bundle(tmp_path, KEYS)
    index = Matcher(b).index(0)
    assert [e.key for e in index.entries] == [
        "head b'SSH-'", "head b'HTTP/1.'", "head b'HTTP/1.'", "caseless head b'hello '", "token b'to'",
        "first byte", "always",
    ]
    keys = assign_keys(b.matches(0), small_bucket=1)  # the HTTP bucket is big now
    split = ProbeIndex.from_data(b, 0, index_data(keys, small_bucket=1))
    assert split.candidates(Subject(b"HTTP/1.1 200 OK\r\nServer: nginx/1\r\n")) == [2, 6]  # 6: always
    assert [e.key for e in split.entries][1:3] == [
        "head b'HTTP/1.' and token b'Apache'", "head b'HTTP/1.' and token b'nginx'"]
    assert split.candidates(Subject(b"HTTP/1.1 200 OK\r\n")) == [6]


def test_explain_says_what_was_kept_and_why(tmp_path: Path) -> None:
    b = small_bundle(tmp_path, KEYS)
    data = b"HTTP/1.0 404 Not Found\r\nServer: nginx/1.2 (Apache compatible)\r\n"
    verdict, trace = Matcher(b).explain("NULL", "tcp", data)
    assert verdict.name == "nginx"
    (member,) = trace["chain"]
    assert member["probe"] == "NULL" and member["lines"] == 7
    assert member["candidates"] == [
        {"line": 3, "kept_by": "head b'HTTP/1.'", "result": "skipped: lacks b' 200 OK\\r\\nServer: Apache/'"},
        {"line": 4, "kept_by": "head b'HTTP/1.'", "result": "match"},
    ]
    assert trace["winner"]["line"] == 4 and "first line of NULL in file order" in trace["winner"]["why"]


# -- limits ------------------------------------------------------------------------------------


def test_long_input_is_cut_to_the_limit_and_said_so(tmp_path: Path) -> None:
    b = small_bundle(tmp_path, b"Probe TCP NULL q||\nmatch end m|^A.*Z$|s\nmatch start m|^A|\n")
    long = b"A" + b"." * LIMIT + b"Z"
    v = null(b, long)
    assert v.name == "start"
    assert v.diagnostics == (f"response is {LIMIT + 2} bytes; matched its first {LIMIT}",)
    assert Matcher(b, limit=None).identify("NULL", "tcp", long).name == "end"


@needs_timeout
def test_catastrophic_backtracking_times_out_and_is_reported(tmp_path: Path) -> None:
    b = small_bundle(tmp_path, b"Probe TCP NULL q||\nmatch evil m=^(a|aa)+$=\nmatch fine m|^a|\n")
    v = Matcher(b, timeout=0.05).identify("NULL", "tcp", b"a" * 60 + b"!")
    assert v.name == "fine"
    assert v.diagnostics == ("line 2: regex timed out after 0.05 s; counted as no match",)


FREELANCER = (  # Nmap 7.93 line 16194 (HEAD 16552), verbatim: (.*) then (?:.*?:){5} backtracks
    b"Probe UDP FreelancerStatus q|\\x00\\x02\\xf1\\x26|\n"
    b"match freelancer m|^\\x00\\x03\\xf1\\x26.{88}(.*)\\0\\0(?:.*?:){5}(.*)\\0\\0$|s p/Freelancer/ "
    b"i/name: $P(1); description: $P(2)/\n"
)


@needs_timeout
def test_a_real_pattern_that_backtracks_catastrophically(tmp_path: Path) -> None:
    b = small_bundle(tmp_path, FREELANCER)
    hostile = b"\x00\x03\xf1&" + b"a" * 88 + b"\x00\x00:::" * 60  # minutes without a timeout
    start = time.perf_counter()
    v = Matcher(b, timeout=0.05).identify("FreelancerStatus", "udp", hostile)
    assert time.perf_counter() - start < 1
    assert v.name is None and v.diagnostics == ("line 2: regex timed out after 0.05 s; counted as no match",)
    fine = b"\x00\x03\xf1&" + b"a" * 88 + b"srv\x00\x001:2:3:4:5:desc\x00\x00"
    assert identify(b, "FreelancerStatus", "udp", fine).extrainfo == "name: srv; description: desc"


def test_max_compiled_bounds_the_compiled_patterns(tmp_path: Path) -> None:
    b = small_bundle(tmp_path, b"Probe TCP NULL q||\n" + b"".join(b"match s%d m|^S%d$|\n" % (i, i) for i in range(6)))
    matcher = Matcher(b, max_compiled=2)
    for i in (0, 1, 2, 3, 0):
        assert matcher.identify("NULL", "tcp", b"S%d" % i).name == f"s{i}"
    assert [e.compiled is not None for e in matcher.index(0).entries] == [True, False, False, True, False, False]


@pytest.mark.parametrize("suffix", ["db", "json"])
def test_a_literal_head_is_checked_by_the_prefix_and_not_compiled(tmp_path: Path, suffix: str) -> None:
    """``^SRV-1\\.0 `` is what ``prefix`` proves: only the rest is compiled, matched at offset 8,
    looking behind across the cut; the verdicts are those of the whole pattern (naive)."""
    b = small_bundle(tmp_path, b"Probe TCP NULL q||\nmatch t m|^SRV-1\\.0 (?<=0 )(\\w+)\\b(?: (\\d))?| p/$1/ v/$2/\n"
                     b"match u m|^srv-(\\d)|i p/U $1/\nmatch evil m=^EV (a|aa)+$=\n", suffix=suffix)
    matcher, naive = Matcher(b), NaiveMatcher(b)
    for data in (b"SRV-1.0 abc 7", b"SRV-1.0 abc", b"SRV-1.0 ", b"SRV-1.0", b"SRV-1.1 abc", b"srv-1.0 abc", b"xSRV-1.0 abc",
                 b"EV aaa", b"EV ", b"ev aa"):
        assert matcher.identify("NULL", "tcp", data) == naive.identify("NULL", "tcp", data), data
    assert matcher.identify("NULL", "tcp", b"SRV-1.0 abc 7").version == "7"
    assert matcher.identify("NULL", "tcp", b"sRv-9").product == "U 9"
    t, u, evil = matcher.index(0).entries
    assert (t.skip, u.skip, evil.skip) == (8, 4, 3)
    assert t.compiled.pattern == b"(?<=0 )(\\w+)\\b(?: (\\d))?" and u.compiled.pattern == b"(\\d)"  # type: ignore[attr-defined]
    # (a|aa)+ is unbounded: with regex, searched with the budget, on the rest too
    assert (matcher._timed[evil] if REGEX else evil.compiled).pattern == b"(a|aa)+$"  # type: ignore[attr-defined]
    assert t.regex.startswith(b"^SRV-1\\.0 ") and t.record.head_length == 8


@needs_timeout
def test_max_timed_bounds_the_patterns_compiled_with_the_budget(tmp_path: Path) -> None:
    b = small_bundle(tmp_path, b"Probe TCP NULL q||\nmatch a m=^A(a|aa)+$=\nmatch b m=^B(a|aa)+$=\n")
    matcher = Matcher(b, max_timed=1)
    assert [matcher.identify("NULL", "tcp", data).name for data in (b"Aaa", b"Baa", b"Aaaa")] == ["a", "b", "a"]
    a, _ = matcher.index(0).entries
    assert list(matcher._timed) == [a]  # b's was dropped when a's came back


def test_a_short_subject_of_a_bounded_pattern_skips_the_timeout(tmp_path: Path) -> None:
    b = small_bundle(tmp_path, b"Probe TCP NULL q||\nmatch ok m|^SSH-([\\d.]+)-([\\w.]+)\\r?\\n|\n"
                     b"match evil m=^(a|aa)+$=\n")
    matcher = Matcher(b)
    assert matcher.identify("NULL", "tcp", b"SSH-2.0-x\r\n").name == "ok"
    assert matcher.identify("NULL", "tcp", b"aaaa").name == "evil"
    ok, evil = matcher.index(0).entries
    assert ok.untimed > 100 and evil.untimed == -1


@needs_timeout
def test_a_subject_with_few_literals_skips_the_timeout_at_any_length(tmp_path: Path) -> None:
    """``.*<b>bold.*<i>`` with dotall has two degrees; counted in the subject, each ``.*`` has as
    many ways on as its literal occurs: a long page with one of each needs no budget, a page
    full of them still gets it (and the same verdict)."""
    b = small_bundle(tmp_path, b"Probe TCP NULL q||\nmatch page m|^HTTP/1\\.1 .*<b>bold.*<i>(x)|s\n")
    page = b"HTTP/1.1 200 OK\r\n" + b"." * 4000 + b"<b>bold" + b"." * 4000 + b"<i>x"
    crowded = b"HTTP/1.1 200 OK\r\n" + b"<b>bold<i>y" * 800 + b"<i>x"
    matcher = Matcher(b)
    (entry,) = matcher.index(0).entries
    assert entry.untimed < len(page) and entry.literal_cost is True  # in the bundle, not read yet
    assert matcher.identify("NULL", "tcp", b"HTTP/1.1 200 OK\r\n<b>bold<i>x").name == "page"
    assert entry.literal_cost is True  # short enough for the static bound: still not read
    assert matcher.identify("NULL", "tcp", page).name == "page"
    assert entry.literal_cost == entry.record.literal_cost and entry.literal_cost is not None
    assert entry.compiled is not None and entry not in matcher._timed  # re, without the budget
    assert matcher.identify("NULL", "tcp", crowded).name == "page"
    assert entry in matcher._timed  # regex, with it


# -- any input -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def keys_bundle(tmp_path_factory: pytest.TempPathFactory) -> Bundle:
    return small_bundle(tmp_path_factory.mktemp("keys"), KEYS + CHAIN.split(b"\n", 3)[3])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=300), probe=st.sampled_from(["NULL", "First", "Second"]))
def test_any_bytes_give_a_verdict_equal_to_naive(keys_bundle: Bundle, data: bytes, probe: str) -> None:
    v = identify(keys_bundle, probe, "tcp", data)
    assert isinstance(v, Verdict)
    assert v == NaiveMatcher(keys_bundle, engine=default_engine()).identify(probe, "tcp", data)


def test_json_and_sqlite_bundles_give_the_same_verdicts(tmp_path: Path) -> None:
    db = small_bundle(tmp_path, KEYS, suffix="db")
    js = small_bundle(tmp_path, KEYS, suffix="json")
    for data in (b"HTTP/1.1 200 OK\r\nServer: Apache/2.4.1\r\n", b"0badcafe", b"nothing"):
        assert null(db, data).to_dict() == null(js, data).to_dict()


def test_explain_through_the_chain_and_without_a_winner(tmp_path: Path) -> None:
    b = small_bundle(tmp_path, CHAIN)
    verdict, trace = Matcher(b).explain("First", "tcp", b"A")
    assert verdict.name == "null-a"
    assert [m["probe"] for m in trace["chain"]] == ["First", "Second", "NULL"]
    assert trace["winner"]["why"].startswith("no line of First, Second matched (earlier in the chain)")
    verdict, trace = Matcher(b).explain("Dgram", "udp", b"?")
    assert verdict == Verdict() and trace["winner"] is None
