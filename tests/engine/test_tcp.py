"""TCP detection, profile nmap: order, connections, reading, matches, endings (nmap-semantics
§4, §5, §8, §9 and the compatibility cases of §11 that concern the engine).

Servers are scripted (:mod:`sigscan.testing.fake`); the clock is virtual, so Nmap's waits are
checked to the millisecond without waiting.
"""

from __future__ import annotations

import datetime

import pytest

from sigscan.engine.catalog import Catalog
from sigscan.engine.events import Proto
from sigscan.engine.results import Method
from sigscan.testing.fake import Behaviour, Server, close, on, reset, send
from tests.engine.conftest import SmallCatalog
from tests.engine.support import connects, flat_fp, scan, sends

SILENT = Server(Behaviour())  # accepts, never speaks, never closes
SSH = b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n"
UNKNOWN = b"XYZZY unknown banner \x00\x01 [v1.0]\r\n"

NULL_ONLY = b"Probe TCP NULL q||\ntotalwaitms 6000\ntcpwrappedms 3000\n"


# -- order and waits ---------------------------------------------------------------------------


def test_banner_hard_match_ends_the_port_at_once(nmaplike: Catalog) -> None:
    result, fake = scan(nmaplike, Server(Behaviour(banner=(send(SSH),))), 2222)
    svc = result.service
    assert svc is not None
    assert (svc.name, svc.product, svc.version, svc.extrainfo) == (
        "ssh", "OpenSSH", "9.2p1 Debian 2+deb12u3", "protocol 2.0")
    assert (svc.method, svc.conf, svc.tunnel, svc.servicefp) == (Method.PROBED, 10, None, None)
    assert svc.cpe == ("cpe:/a:openbsd:openssh:9.2p1", "cpe:/o:linux:linux_kernel")
    assert result.probes == ("NULL",) and len(connects(fake)) == 1
    assert fake.now < 0.01 and fake.connections[0].closed_by_engine is not None


def test_case_15_port_79_at_intensity_0(nmaplike: Catalog) -> None:
    """NULL, then the probes listing port 79 in file order whatever their rarity; the first one
    reuses the NULL connection; each waits its totalwaitms (NULL 6 s, Help 7.5 s)."""
    result, fake = scan(nmaplike, SILENT, 79, intensity=0, net_rtt=0.0)
    assert result.probes == ("NULL", "GenericLines", "GetRequest", "Help")
    assert [(t, c, n) for t, c, n in sends(fake, nmaplike)] == [
        (6.0, 0, "GenericLines"), (11.0, 1, "GetRequest"), (16.0, 2, "Help")]
    assert [t for t, _, _ in connects(fake)] == [0.0, 11.0, 16.0]
    assert fake.now == pytest.approx(23.5)
    svc = result.service
    assert svc is not None and (svc.name, svc.method, svc.conf) == ("finger", Method.TABLE, 3)


@pytest.mark.parametrize(("intensity", "count"), [(0, 0), (2, 4), (7, 10), (9, 14)])
def test_rarity_filter_on_an_unlisted_port(nmaplike: Catalog, intensity: int, count: int) -> None:
    """nmap-semantics §4: the TCP probes of rarity up to the intensity, in file order: 4, 10 and
    14 at intensity 2, 7 and 9 in tests/data/engine.probes (the 7.93 file has 4, 29 and 99)."""
    result, _ = scan(nmaplike, SILENT, 41000, intensity=intensity, net_rtt=0.0)
    assert result.probes[0] == "NULL" and len(result.probes) == 1 + count
    order = [p.name for p in nmaplike.probes[Proto.TCP]]
    assert list(result.probes[1:]) == sorted(result.probes[1:], key=order.index)


def test_case_15_excluded_port_is_named_from_the_table_without_probing(nmaplike: Catalog) -> None:
    result, fake = scan(nmaplike, SSH_SERVER, 9100)
    svc = result.service
    assert svc is not None and (svc.name, svc.method, svc.conf) == ("jetdirect", Method.TABLE, 3)
    assert result.probes == () and connects(fake) == [] and svc.product is None


SSH_SERVER = Server(Behaviour(banner=(send(SSH),)))


# -- reading and matching -----------------------------------------------------------------------


def test_case_6_softmatch_line_first_wins_and_waits_the_whole_probe(small: SmallCatalog) -> None:
    cat = small(NULL_ONLY + b"softmatch t5 m|^SRV5|\nmatch t5hard m|^SRV5 hard|\n")
    server = Server(Behaviour(banner=(send(b"SRV5 hard\r\n"),)))
    result, fake = scan(cat, server, 4000, net_rtt=0.0)
    svc = result.service
    assert svc is not None and (svc.name, svc.method, svc.conf) == ("t5", Method.PROBED, 10)
    assert fake.now == pytest.approx(6.0)  # a softmatch does not end the probe
    assert '%r(NULL,B,"SRV5\\x20hard\\r\\n")' in flat_fp(result)
    quiet, _ = scan(cat, server, 4000, intensity=6)
    assert quiet.service is not None and quiet.service.servicefp is None  # intensity < 7


CASE_7 = NULL_ONLY + (
    b"softmatch t11 m|^SRV11 soft\\r\\n| i/softinfo/ cpe:/o:softos:softos/\n"
    b"Probe TCP Listed q|LISTED\\r\\n|\nrarity 1\nports 4000-5000\nmatch other m|^nothing|\n"
    b"Probe TCP Common q|COMMON\\r\\n|\nrarity 1\nmatch other m|^nothing|\n"
    b"Probe TCP RARE q|RARE\\r\\n|\nrarity 9\n"
    b"match t11 m|^SRV11 soft\\r\\nHARDREPLY\\r\\n$| p/HardProd/\n"
)
CASE_7_SERVER = Server(Behaviour(banner=(send(b"SRV11 soft\r\n"),),
                                 rules=(on(rb"RARE\r\n", send(b"HARDREPLY\r\n")),)))


def test_case_7_softmatch_narrows_then_hard_match_merges_fields(small: SmallCatalog) -> None:
    """The rarity-9 probe is sent at intensity 7 because it can produce t11; the probes that
    cannot (even one listing the port) are skipped; it reuses the NULL connection, so the banner
    is glued to its reply; the hard match keeps the softmatch's extrainfo and CPE."""
    cat = small(CASE_7)
    result, fake = scan(cat, CASE_7_SERVER, 4242)
    assert result.probes == ("NULL", "RARE") and len(connects(fake)) == 1
    svc = result.service
    assert svc is not None
    assert (svc.name, svc.product, svc.extrainfo, svc.cpe) == (
        "t11", "HardProd", "softinfo", ("cpe:/o:softos:softos",))
    assert (svc.method, svc.conf, svc.servicefp) == (Method.PROBED, 10, None)


def test_intensity_9_ignores_the_softmatch_narrowing(small: SmallCatalog) -> None:
    result, fake = scan(small(CASE_7), CASE_7_SERVER, 4242, intensity=9)
    assert result.probes == ("NULL", "Listed", "Common", "RARE")
    assert [c for _, c, _ in connects(fake)] == [0, 1, 2]  # Listed reused the NULL connection
    assert result.service is not None and result.service.product == "HardProd"


GLUE = NULL_ONLY + (
    b"Probe TCP P1 q|P1\\r\\n|\nrarity 1\n"
    b"match banneronly m|^SRV12 hello\\r\\n$| p/kept banner alone/\n"
    b"match glued m|^SRV12 hello\\r\\nREPLY$| p/glued/\n"
)


def test_kept_banner_is_matched_only_when_new_bytes_arrive(small: SmallCatalog) -> None:
    cat = small(GLUE)
    banner = Behaviour(banner=(send(b"SRV12 hello\r\n"),))
    silent, _ = scan(cat, Server(banner), 4000)
    svc = silent.service
    assert svc is not None and svc.name is None and svc.method is Method.TABLE
    flat = flat_fp(silent)
    assert '%r(NULL,D,"SRV12\\x20hello\\r\\n")%r(P1,D,"SRV12\\x20hello\\r\\n")' in flat
    answered = Server(Behaviour(banner=banner.banner, rules=(on(rb"P1\r\n", send(b"REPLY")),)))
    glued, _ = scan(cat, answered, 4000)
    assert glued.service is not None and glued.service.product == "glued"


def test_doc_sample_banner_glued_to_the_echo_in_the_fingerprint(nmaplike: Catalog) -> None:
    """nmap-semantics §8's verified sample (its first three lines): at intensity 2 an unknown
    banner, then GenericLines echoed on the reused NULL connection, banner in front."""
    server = Server(Behaviour(banner=(send(UNKNOWN),),
                              rules=(on(rb"\r\n\r\n", close(0.0, b"ECHO:\r\n\r\n")),)))
    result, _ = scan(nmaplike, server, 41003, intensity=2, net_rtt=0.0, unix_time=0x6B0277A0,
                     unix_time_clock=6.0, tz=datetime.UTC)
    fp = result.service.servicefp if result.service else None
    assert fp is not None and fp.splitlines()[:3] == [
        "SF-Port41003-TCP:V=7.93%I=2%D=11/22%Time=6B0277A0%P=x86_64-pc-linux-gnu%r(",
        'SF:NULL,20,"XYZZY\\x20unknown\\x20banner\\x20\\0\\x01\\x20\\[v1\\.0\\]\\r\\n")%r(Gene',
        'SF:ricLines,29,"XYZZY\\x20unknown\\x20banner\\x20\\0\\x01\\x20\\[v1\\.0\\]\\r\\nECHO:',
    ]


def test_read_cap_of_4096_bytes(small: SmallCatalog) -> None:
    """Reading stops once the buffer holds 4096 bytes; the NULL probe's 5000 bytes stay in front
    of the next probe's, which stops at its first read."""
    cat = small(NULL_ONLY + b"Probe TCP P1 q|P1|\nrarity 1\nProbe TCP P2 q|P2|\nrarity 1\n")
    chunks = tuple(send(b"A" * 1000, after=0.1 * i) for i in range(1, 11))
    result, fake = scan(cat, Server(Behaviour(banner=chunks)), 4000, net_rtt=0.0)
    assert result.probes == ("NULL", "P1", "P2")
    sent = sends(fake, cat)
    assert [c for _, c, _ in sent] == [0, 1] and [t for t, _, _ in sent] == pytest.approx([0.5, 0.6])
    flat = flat_fp(result)
    assert "%r(NULL,1388," in flat and "%r(P1,1770," in flat  # 5000 and 6000 bytes
    assert fake.now == pytest.approx(1.1)


def test_new_connection_after_eof_and_fingerprint_of_every_probe(nmaplike: Catalog) -> None:
    server = Server(Behaviour(banner=(close(0.0, UNKNOWN),)))
    result, fake = scan(nmaplike, server, 41003, intensity=2)
    assert result.probes == ("NULL", "GenericLines", "GetRequest", "SSLSessionReq", "TLSSessionReq")
    assert [c for _, c, _ in connects(fake)] == [0, 1, 2, 3, 4]
    svc = result.service
    assert svc is not None and flat_fp(result).count(',20,"XYZZY') == 5
    assert (svc.name, svc.method, svc.conf) == (None, Method.TABLE, 3)


def test_fallback_chain_and_file_order(small: SmallCatalog) -> None:
    cat = small(NULL_ONLY + b"match nullsvc m|^NULLLINE|\n"
                b"Probe TCP Base q|BASE|\nrarity 1\nmatch base m|^BASELINE| p/from Base/\n"
                b"Probe TCP Child q|CHILD|\nrarity 1\nports 4000\nfallback Base\n"
                b"match child m|^CHILDLINE|\n")
    for reply, product, name in ((b"BASELINE", "from Base", "base"), (b"NULLLINE", None, "nullsvc")):
        server = Server(Behaviour(rules=(on(rb"CHILD", send(reply)),)))
        result, _ = scan(cat, server, 4000)
        assert result.probes == ("NULL", "Child")
        assert result.service is not None
        assert (result.service.name, result.service.product) == (name, product)


def test_second_softmatch_to_another_name_is_ignored(small: SmallCatalog) -> None:
    cat = small(NULL_ONLY + b"softmatch first m|^ONE| i/one/\n"
                b"Probe TCP P1 q|P1|\nrarity 1\nsoftmatch second m|TWO| i/two/\n"
                b"softmatch first m|ONE|\n")
    server = Server(Behaviour(banner=(send(b"ONE"),), rules=(on(b"P1", send(b"TWO")),)))
    result, _ = scan(cat, server, 4000)
    svc = result.service
    assert svc is not None and (svc.name, svc.extrainfo, svc.conf) == ("first", "one", 10)
    assert any("softmatch second ignored (already softmatched first)" in n for n in result.notes)


# -- tcpwrapped and endings ---------------------------------------------------------------------


def test_case_8_immediate_close_is_tcpwrapped(nmaplike: Catalog) -> None:
    result, fake = scan(nmaplike, Server(Behaviour(banner=(close(0.0),))), 41000)
    svc = result.service
    assert svc is not None and (svc.name, svc.method, svc.conf) == ("tcpwrapped", Method.PROBED, 8)
    assert result.probes == ("NULL",) and len(connects(fake)) == 1 and svc.servicefp is None


@pytest.mark.parametrize("intensity", [0, 2])
def test_case_8_close_after_3_5_s_is_still_tcpwrapped(nmaplike: Catalog, intensity: int) -> None:
    """Past tcpwrappedms the NULL probe's EOF is not the explicit route; every probe then ends
    on EOF with no byte and no timeout, so the port ends tcpwrapped anyway."""
    result, fake = scan(nmaplike, Server(Behaviour(banner=(close(3.5),))), 41000, intensity=intensity)
    assert len(result.probes) == 1 + {0: 0, 2: 4}[intensity]
    assert len(connects(fake)) == len(result.probes)
    assert result.service is not None and result.service.name == "tcpwrapped"


def test_case_8_silent_server_is_unknown(nmaplike: Catalog) -> None:
    result, _ = scan(nmaplike, SILENT, 41000, intensity=2)
    svc = result.service
    assert svc is not None and (svc.name, svc.method, svc.conf, svc.servicefp) == (None, Method.TABLE, 3, None)


def test_case_9_refused_during_version_detection_is_tcpwrapped(nmaplike: Catalog) -> None:
    result, fake = scan(nmaplike, Server(Behaviour(refuse=True)), 80)
    svc = result.service
    assert svc is not None and (svc.name, svc.conf) == ("tcpwrapped", 8)
    assert result.probes == () and len(connects(fake)) == 1


def test_connect_timeout_uses_nmap_s_5_seconds(nmaplike: Catalog) -> None:
    result, fake = scan(nmaplike, Server(Behaviour(connect_delay=9.0)), 80)
    assert fake.now == pytest.approx(5.0)
    assert result.service is not None and result.service.name == "tcpwrapped"


def test_refused_later_after_data_is_incomplete_with_table_name(nmaplike: Catalog) -> None:
    first = Behaviour(banner=(close(0.0, UNKNOWN),))
    server = Server(Behaviour(refuse=True), per_connection=(first,))
    result, _ = scan(nmaplike, server, 80, intensity=2)
    svc = result.service
    assert svc is not None and (svc.name, svc.method, svc.conf) == ("http", Method.TABLE, 3)
    assert svc.servicefp is None  # incomplete: only at intensity 7 and up
    result7, _ = scan(nmaplike, server, 80)
    assert result7.service is not None and result7.service.servicefp is not None


def test_reset_without_data_in_null_is_tcpwrapped(nmaplike: Catalog) -> None:
    """Captured with nmap 7.93 (port 41002 of the fingerprint captures): a server that resets
    0.3 s after accepting, silently, is tcpwrapped."""
    result, _ = scan(nmaplike, Server(Behaviour(banner=(reset(0.3),))), 41002, intensity=0)
    assert result.service is not None and result.service.name == "tcpwrapped"


def test_reset_after_a_banner_is_neither_tcpwrapped_nor_fingerprinted(nmaplike: Catalog) -> None:
    """Captured with nmap 7.93 (port 41001): a banner then a reset during the NULL probe gives
    ``unknown`` with no fingerprint: the reset path adds no entry."""
    server = Server(Behaviour(banner=(send(b"XYZ test banner\r\n"), reset(0.3))))
    result, _ = scan(nmaplike, server, 41001, intensity=0)
    svc = result.service
    assert svc is not None and (svc.name, svc.method, svc.servicefp) == (None, Method.TABLE, None)


def test_eof_without_data_after_tcpwrappedms_goes_on_with_a_new_connection(small: SmallCatalog) -> None:
    cat = small(NULL_ONLY + b"Probe TCP P1 q|P1|\nrarity 1\nmatch p1 m|^HELLO| p/P1 answer/\n")
    server = Server(Behaviour(banner=(close(3.2),)),
                    per_connection=(None, Behaviour(rules=(on(b"P1", send(b"HELLO")),))))
    result, fake = scan(cat, server, 4000)
    assert result.probes == ("NULL", "P1") and [c for _, c, _ in connects(fake)] == [0, 1]
    assert result.service is not None and result.service.product == "P1 answer"


@pytest.mark.parametrize(("error", "probes", "name"), [
    ("EPIPE", ("NULL", "GenericLines"), "tcpwrapped"),  # next probe; no byte ever: tcpwrapped
    ("EHOSTUNREACH", ("NULL",), None),  # incomplete; the flag is cleared
    ("EWEIRD", ("NULL",), "tcpwrapped"),  # incomplete with the flag still set
])
def test_read_error_classes(nmaplike: Catalog, error: str, probes: tuple[str, ...], name: str | None) -> None:
    result, _ = scan(nmaplike, Server(Behaviour(banner=(reset(0.1, error=error),))), 41000, intensity=1)
    assert result.probes[: len(probes)] == probes
    assert result.service is not None and result.service.name == name


def test_incomplete_after_a_softmatch_keeps_its_name_and_fields(small: SmallCatalog) -> None:
    cat = small(NULL_ONLY + b"softmatch soft m|^SOFT| p/Soft Prod/\n"
                b"Probe TCP P1 q|P1|\nrarity 1\nsoftmatch soft m|^x|\n")
    server = Server(Behaviour(refuse=True),
                    per_connection=(Behaviour(banner=(close(0.0, b"SOFT"),)),))
    result, _ = scan(cat, server, 4000)
    svc = result.service
    assert svc is not None
    assert (svc.name, svc.product, svc.method, svc.conf) == ("soft", "Soft Prod", Method.TABLE, 3)
    assert '%r(NULL,4,"SOFT")' in flat_fp(result)


def test_no_match_fingerprint_is_attached_at_any_intensity(nmaplike: Catalog) -> None:
    server = Server(Behaviour(banner=(close(0.0, UNKNOWN),)))
    result, _ = scan(nmaplike, server, 41003, intensity=0)
    assert result.service is not None and result.service.servicefp is not None
    assert result.service.servicefp.startswith("SF-Port41003-TCP:V=7.93%I=0%")


def test_fingerprint_time_and_date_come_from_the_configured_clock(nmaplike: Catalog) -> None:
    server = Server(Behaviour(banner=(close(2.0, UNKNOWN),)))
    result, _ = scan(nmaplike, server, 41003, intensity=0, unix_time=1_763_880_000.0,
                     unix_time_clock=0.0, tz=datetime.UTC, net_rtt=0.0)
    assert "%D=11/23%Time=6922AC42%" in flat_fp(result)  # 1_763_880_002
