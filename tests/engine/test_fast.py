"""Profile FAST: the same verdicts as profile NMAP on ordinary services, in a fraction of the time.

FAST starts the NULL probe and the probe Nmap sends next on two connections at once, uses the
second one's outcome only where Nmap would have seen the same thing, and caps every wait to
``max(fast_min_wait, fast_rtt_factor * rtt)`` (see :mod:`sigscan.engine.port`).
"""

from __future__ import annotations

from dataclasses import astuple

import pytest

from sigscan.engine.catalog import Catalog
from sigscan.engine.config import Profile
from sigscan.engine.events import Proto
from sigscan.engine.results import PortResult, PortState, Service
from sigscan.testing.fake import Behaviour, Server, close, on, send
from tests.engine.support import connects, scan, sends

ALERT = b"\x15\x03\x01\x00\x02\x02\x28"
NGINX_200 = b"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nContent-Type: text/html\r\n\r\n"
NGINX_400 = b"HTTP/1.1 400 Bad Request\r\nServer: nginx/1.22.1\r\nContent-Type: text/html\r\n\r\n"
HTTP = Behaviour(rules=(on(rb"^GET / HTTP/1\.0\r\n\r\n", close(0.002, NGINX_200)),
                        on(rb"^(?:OPTIONS|\r\n\r\n)", close(0.002, NGINX_400))))
DNSMASQ = bytes.fromhex(
    "0006850000010001000000000776657273696f6e0462696e640000100003c00c0010000300000000000d0c"
) + b"dnsmasq-2.89"

SERVICES: dict[str, tuple[Server, int, Proto]] = {
    "openssh": (Server(Behaviour(banner=(send(b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n"),))),
                2222, Proto.TCP),
    "postfix": (Server(Behaviour(banner=(send(b"220 mail.example.test ESMTP Postfix (Debian/GNU)\r\n",
                                              after=0.05),))), 2525, Proto.TCP),
    "vsftpd": (Server(Behaviour(banner=(send(b"220 (vsFTPd 3.0.3)\r\n", after=0.2),))), 2121, Proto.TCP),
    "nginx": (Server(HTTP), 8080, Proto.TCP),
    "nginx-unlisted": (Server(HTTP), 41080, Proto.TCP),
    "redis": (Server(Behaviour(rules=(
        on(rb"^\*1\r\n\$4\r\ninfo\r\n", send(b"$40\r\n# Server\r\nredis_version:7.0.15\r\nx:1\r\n")),
        on(rb"^GET ", send(b"-ERR wrong number of arguments for 'get' command\r\n"))))),
        6379, Proto.TCP),
    "memcached": (Server(Behaviour(rules=(on(rb"^stats\r\n", send(
        b"STAT pid 7\r\nSTAT uptime 12\r\nSTAT time 1700000000\r\nSTAT version 1.6.18\r\n")),)))
        , 11211, Proto.TCP),
    "tcpwrapped": (Server(Behaviour(banner=(close(0.0),))), 41001, Proto.TCP),
    "unknown-banner": (Server(Behaviour(banner=(send(b"XYZZY unknown banner\r\n"),),
                                        rules=(on(rb"\r\n", close(0.0, b"what?\r\n")),))),
                       41002, Proto.TCP),
    "silent": (Server(Behaviour()), 41003, Proto.TCP),
    "https": (Server(plain=Behaviour(rules=(on(rb"^\x16\x03", close(0.0, ALERT)),)), tls=HTTP),
              443, Proto.TCP),
    "dns-udp": (Server(Behaviour(rules=(on(rb"\x07version\x04bind", send(DNSMASQ)),))), 53, Proto.UDP),
    "silent-udp": (Server(Behaviour()), 41004, Proto.UDP),
}


def verdict(result: PortResult) -> tuple[object, ...]:
    svc = result.service
    assert svc is not None
    return astuple(Service(svc.name, svc.method, svc.conf, svc.product, svc.version, svc.extrainfo,
                           svc.hostname, svc.ostype, svc.devicetype, svc.cpe, svc.tunnel))


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_same_verdict_as_nmap_profile_and_faster(nmaplike: Catalog, name: str) -> None:
    server, port, proto = SERVICES[name]
    state = PortState.OPEN_FILTERED if proto is Proto.UDP else PortState.OPEN
    nmap, nmap_fake = scan(nmaplike, server, port, proto, state=state, intensity=7)
    fast, fast_fake = scan(nmaplike, server, port, proto, state=state, intensity=7, profile=Profile.FAST)
    assert verdict(fast) == verdict(nmap)
    assert (fast.state, fast.reason) == (nmap.state, nmap.reason)
    assert (fast.service and fast.service.servicefp is not None) == (
        nmap.service and nmap.service.servicefp is not None)
    if nmap_fake.now >= 1.0:
        assert fast_fake.now <= 0.25 * nmap_fake.now, (fast_fake.now, nmap_fake.now)
    else:
        assert fast_fake.now <= nmap_fake.now + 0.01


def test_the_next_probe_starts_soon_after_a_silent_null(nmaplike: Catalog) -> None:
    """NULL connects after one round trip (1 ms); no banner in max(10 ms, 2 x rtt): the probe
    Nmap sends next goes out on a second connection while NULL keeps waiting."""
    result, fake = scan(nmaplike, Server(HTTP), 8080, profile=Profile.FAST)
    assert connects(fake)[:2] == [(0.0, 0, False), (pytest.approx(0.001 + 0.01), 1, False)]
    assert [(c, n) for _, c, n in sends(fake, nmaplike)] == [(1, "GetRequest")]  # not sent twice
    assert result.probes == ("NULL", "GetRequest")
    assert any("used (profile fast)" in note for note in result.notes)


def test_a_prompt_banner_opens_no_second_connection(nmaplike: Catalog) -> None:
    """A banner within the delay: the second connection would be wasted, so it never opens."""
    server, port, _ = SERVICES["openssh"]
    result, fake = scan(nmaplike, server, port, profile=Profile.FAST)
    assert [c for _, c, _ in connects(fake)] == [0]
    assert result.service is not None and result.service.name == "ssh"


def test_the_delay_scales_with_the_round_trip(nmaplike: Catalog) -> None:
    _, fake = scan(nmaplike, Server(HTTP), 8080, profile=Profile.FAST, net_rtt=0.1)
    assert connects(fake)[:2] == [(0.0, 0, False), (pytest.approx(0.1 + 2 * 0.1), 1, False)]


def test_a_banner_that_does_not_match_drops_the_speculation(nmaplike: Catalog) -> None:
    """Nmap glues an unmatched NULL banner in front of the next reply on the same connection:
    the probe is sent again there, as Nmap does, and the parallel reply is not used."""
    banner = Behaviour(banner=(send(b"XYZZY unknown\r\n", after=0.05),),  # after the second connect
                       rules=(on(rb"\r\n\r\n", send(b"ANSWER\r\n")),))
    result, fake = scan(nmaplike, Server(banner), 79, intensity=0, profile=Profile.FAST)
    assert [(c, n) for _, c, n in sends(fake, nmaplike)][:2] == [(1, "GenericLines"), (0, "GenericLines")]
    assert fake.connections[1].closed_by_engine is not None
    flat = (result.service.servicefp or "") if result.service else ""
    assert "GenericLines,17,\"XYZZY\\x20unknown\\r\\nANSWER\\r\\n\"" in flat.replace("\nSF:", "")


def test_the_null_verdict_comes_first(nmaplike: Catalog) -> None:
    """The banner says SSH; the other connection's HTTP reply (which also matches) loses."""
    server = Server(Behaviour(banner=(send(b"SSH-2.0-OpenSSH_9.2p1\r\n", after=0.1),),
                              rules=(on(rb"GET", close(0.0, NGINX_200)),)))
    result, _ = scan(nmaplike, server, 80, profile=Profile.FAST)
    assert result.service is not None and result.service.name == "ssh"


def test_waits_scale_with_the_round_trip_and_nmap_s_are_the_ceiling(nmaplike: Catalog) -> None:
    """Port 79 at intensity 0: NULL and GenericLines in parallel (GenericLines opened
    max(10 ms, 2 x rtt) after NULL connected), then GetRequest, then Help; each connect takes one
    network round trip, which is also the measured rtt."""
    silent = Server(Behaviour())
    _, slow = scan(nmaplike, silent, 79, intensity=0, profile=Profile.FAST, net_rtt=0.2)
    assert slow.now == pytest.approx(0.2 + 2 * 0.2 + 3 * (0.2 + 8 * 0.2))  # every wait 8 x rtt
    _, capped = scan(nmaplike, silent, 79, intensity=0, profile=Profile.FAST, net_rtt=2.0)
    # Nmap's waits: GenericLines (5 s) starts 2 + 4 s in, so it ends after NULL (2 + 6 s)
    assert capped.now == pytest.approx(2.0 + 4.0 + 2.0 + 5.0 + 2.0 + 5.0 + 2.0 + 7.5)
    _, floor = scan(nmaplike, silent, 79, intensity=0, profile=Profile.FAST, net_rtt=0.001,
                    fast_min_wait=0.25)
    assert floor.now == pytest.approx(0.001 + 0.01 + 3 * (0.001 + 0.25))


def test_configured_rtt_wins_over_the_measured_one(nmaplike: Catalog) -> None:
    _, fake = scan(nmaplike, Server(Behaviour()), 79, intensity=0, profile=Profile.FAST,
                   net_rtt=0.001, rtt=0.5)
    assert fake.now == pytest.approx(0.001 + 2 * 0.5 + 3 * (0.001 + 4.0))  # waits and delay from rtt 0.5


def test_known_difference_slow_silent_close(nmaplike: Catalog) -> None:
    """Nmap calls a port tcpwrapped when the NULL probe sees EOF within tcpwrappedms (3 s);
    FAST stops waiting for the NULL probe before that, so a server that closes silently after
    1 s is not tcpwrapped under FAST. Documented in sigscan.engine.port."""
    server = Server(Behaviour(banner=(close(1.0),)))
    nmap, _ = scan(nmaplike, server, 41000, intensity=2)
    fast, _ = scan(nmaplike, server, 41000, intensity=2, profile=Profile.FAST)
    assert nmap.service is not None and nmap.service.name == "tcpwrapped"
    assert fast.service is not None and fast.service.name is None
