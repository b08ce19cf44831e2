"""UDP: no NULL probe, one socket, no retransmission, replies turn open|filtered into open, and
ports with no applicable probe are tcpwrapped (nmap-semantics §4, §5, §11 case 9)."""

from __future__ import annotations

import pytest

from sigscan.engine.catalog import Catalog, wait_seconds
from sigscan.engine.events import Proto
from sigscan.engine.results import Method, PortState
from sigscan.testing.fake import Behaviour, Server, on, send
from tests.engine.conftest import SmallCatalog
from tests.engine.support import connects, scan, sends

DNSMASQ_VERSION = bytes.fromhex(
    "0006850000010001000000000776657273696f6e0462696e640000100003c00c0010000300000000000d0c"
) + b"dnsmasq-2.89"
SILENT = Server(Behaviour())


def test_dns_version_query_on_53(nmaplike: Catalog) -> None:
    server = Server(Behaviour(rules=(on(rb"\x07version\x04bind", send(DNSMASQ_VERSION)),)))
    result, fake = scan(nmaplike, server, 53, Proto.UDP, state=PortState.OPEN_FILTERED)
    svc = result.service
    assert svc is not None
    assert (svc.name, svc.product, svc.version) == ("domain", "dnsmasq", "2.89")
    assert svc.cpe == ("cpe:/a:thekelleys:dnsmasq:2.89",)
    assert result.probes == ("DNSVersionBindReq",) and len(connects(fake)) == 1
    assert (result.state, result.reason, result.proto) == (PortState.OPEN, "udp-response", "udp")


@pytest.mark.parametrize(("intensity", "count"), [(2, 2), (7, 6), (9, 8)])
def test_probes_on_one_socket_each_sent_once(nmaplike: Catalog, intensity: int, count: int) -> None:
    """nmap-semantics §4: 2, 6 and 8 UDP probes at intensity 2, 7 and 9 in
    tests/data/engine.probes (the 7.93 file has 2, 19 and 48)."""
    result, fake = scan(nmaplike, SILENT, 41999, Proto.UDP, state=PortState.OPEN_FILTERED,
                        intensity=intensity, net_rtt=0.0)
    assert "NULL" not in result.probes and len(result.probes) == count
    assert len(set(result.probes)) == count and len(connects(fake)) == 1
    assert [c for _, c, _ in sends(fake, nmaplike, Proto.UDP)] == [0] * count
    by_name = {p.name: p for p in nmaplike.probes[Proto.UDP]}
    assert fake.now == pytest.approx(sum(wait_seconds(by_name[n]) for n in result.probes))
    assert result.state is PortState.OPEN_FILTERED and result.reason == "no-response"
    svc = result.service
    assert svc is not None and (svc.name, svc.method, svc.conf) == (None, Method.TABLE, 3)


@pytest.mark.parametrize("state", [PortState.OPEN, PortState.OPEN_FILTERED])
def test_case_9_no_applicable_probe_is_tcpwrapped(nmaplike: Catalog, state: PortState) -> None:
    result, fake = scan(nmaplike, SILENT, 41999, Proto.UDP, state=state, intensity=0)
    svc = result.service
    assert svc is not None and (svc.name, svc.method, svc.conf) == ("tcpwrapped", Method.PROBED, 8)
    assert result.probes == () and connects(fake) == [] and result.state is state


def test_icmp_unreachable_before_any_reply_is_closed(nmaplike: Catalog) -> None:
    """ECONNREFUSED on a UDP socket that never got a reply is ICMP port unreachable: the port
    is closed (port-unreach), as Nmap's UDP scan says, after one probe and no wait; not
    tcpwrapped, not open|filtered (issue 14, item 1)."""
    result, fake = scan(nmaplike, Server(Behaviour(refuse=True)), 7, Proto.UDP, intensity=7,
                        state=PortState.OPEN_FILTERED)
    assert (result.state, result.reason) == (PortState.CLOSED, "port-unreach")
    assert len(result.probes) == 1 and fake.now < 1.0
    svc = result.service
    assert svc is not None and (svc.method, svc.conf) == (Method.TABLE, 3)
    assert svc.name == nmaplike.table_name(7, Proto.UDP)


def test_icmp_unreachable_after_a_reply_moves_on(nmaplike: Catalog) -> None:
    """A port that answered is open; an ICMP error later is handled like EOF (next probe,
    same socket, no wait), as Nmap's service scan does."""
    result, fake = scan(nmaplike, Server(Behaviour(refuse=True)), 41999, Proto.UDP, intensity=7,
                        state=PortState.OPEN)
    assert len(result.probes) == 6 and fake.now < 1.0  # every UDP probe of rarity <= 7
    assert result.state is PortState.OPEN
    assert result.service is not None and result.service.name == "tcpwrapped"


def test_a_reply_without_match_opens_the_port_and_is_fingerprinted(nmaplike: Catalog) -> None:
    server = Server(Behaviour(rules=(on(b".", send(b"\x01\x02what?")),)))
    result, _ = scan(nmaplike, server, 41006, Proto.UDP, state=PortState.OPEN_FILTERED, intensity=2)
    assert result.state is PortState.OPEN
    svc = result.service
    assert svc is not None and svc.servicefp is not None
    assert svc.servicefp.startswith("SF-Port41006-UDP:V=7.93%I=2%")


def test_several_datagrams_are_joined(small_udp: Catalog) -> None:
    server = Server(Behaviour(rules=(on(b"ASK", send(b"PART1 "), send(b"PART2", after=0.5)),)))
    result, _ = scan(small_udp, server, 4000, Proto.UDP)
    assert result.service is not None and result.service.product == "joined"


@pytest.fixture
def small_udp(small: SmallCatalog) -> Catalog:
    return small(b"Probe UDP Ask q|ASK|\nrarity 1\nmatch two m|^PART1 PART2$| p/joined/\n")
