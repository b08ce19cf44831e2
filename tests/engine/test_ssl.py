"""SSL/TLS: detection by an ``ssl`` hard match, the restart through TLS with ``sslports``, the
``ssl/NAME`` shortcut, and how tunnelled ports are reported (nmap-semantics §6, §11 case 15)."""

from __future__ import annotations

import pytest

from sigscan.engine.catalog import Catalog
from sigscan.engine.events import Proto
from sigscan.engine.results import Method
from sigscan.testing.fake import Behaviour, Server, close, on, send
from tests.engine.conftest import SmallCatalog
from tests.engine.support import connects, flat_fp, scan

ALERT = b"\x15\x03\x01\x00\x02\x02\x28"  # a TLS alert record: what a TLS server says to SSLv3
NGINX = b"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nContent-Length: 0\r\n\r\n"
PLAIN_TLS_SERVER = Behaviour(rules=(on(rb"^\x16\x03", close(0.0, ALERT)),))
HTTPS = Server(plain=PLAIN_TLS_SERVER,
               tls=Behaviour(rules=(on(rb"^GET / HTTP/1\.0\r\n\r\n", close(0.0, NGINX)),)))
NULL_ONLY = b"Probe TCP NULL q||\ntotalwaitms 6000\ntcpwrappedms 3000\n"


def test_case_15_alert_restarts_detection_through_tls(nmaplike: Catalog) -> None:
    result, fake = scan(nmaplike, HTTPS, 41443)
    svc = result.service
    assert svc is not None
    assert (svc.name, svc.product, svc.version, svc.tunnel) == ("http", "nginx", "1.22.1", "ssl")
    assert (svc.method, svc.conf, svc.servicefp) == (Method.PROBED, 10, None)
    restart = result.probes.index("SSLSessionReq") + 1
    assert result.probes[restart:] == ("NULL", "GenericLines", "GetRequest")
    opened = connects(fake)
    tls = [c for c in opened if c[2]]
    assert [c for _, c, t in opened if not t] == list(range(len(opened) - len(tls)))
    assert len(tls) == 2  # NULL (GenericLines reused it), then GetRequest
    first_tls = next(a for a in fake.opened() if a.tls)
    assert first_tls.deadline == pytest.approx(tls[0][0] + 8.0)  # SSL connect budget


def test_sslports_replace_ports_in_the_tunnel(nmaplike: Catalog) -> None:
    result, _ = scan(nmaplike, HTTPS, 443)
    assert result.probes == ("NULL", "SSLSessionReq", "NULL", "GetRequest")
    assert result.service is not None and result.service.name == "http"
    assert result.service.tunnel == "ssl"


def test_nothing_found_in_the_tunnel_keeps_the_tunnel_and_the_table_name(nmaplike: Catalog) -> None:
    server = Server(plain=PLAIN_TLS_SERVER, tls=Behaviour())
    result, _ = scan(nmaplike, server, 443)
    svc = result.service
    assert svc is not None
    assert (svc.name, svc.method, svc.conf, svc.tunnel, svc.servicefp) == (
        "https", Method.TABLE, 3, "ssl", None)


def test_tunnel_fingerprint_says_ssl_and_forgets_the_plain_phase(small: SmallCatalog) -> None:
    """A softmatch and a fingerprint entry of the plain phase are wiped by the restart."""
    cat = small(NULL_ONLY + b"softmatch soft m|^SOFT| p/Soft Prod/ i/plain/\n"
                b"Probe TCP SSLP q|\\x16\\x03HELLO|\nrarity 1\nports 4000\n"
                b"match ssl m|^\\x15\\x03| p/TLS/\nsoftmatch soft m|^never|\n")
    server = Server(plain=Behaviour(rules=(on(rb"\x16\x03HELLO", close(0.0, ALERT)),)),
                    tls=Behaviour(banner=(close(0.0, b"inside the tunnel"),)),
                    per_connection=(Behaviour(banner=(close(0.0, b"SOFT banner\r\n"),)),))
    result, _ = scan(cat, server, 4000)
    svc = result.service
    assert svc is not None
    assert (svc.name, svc.product, svc.extrainfo, svc.tunnel) == (None, None, None, "ssl")
    assert (svc.method, svc.conf) == (Method.TABLE, 3)
    flat = flat_fp(result)
    assert flat.startswith("SF-Port4000-TCP:V=7.93%T=SSL%I=7%")
    assert '%r(NULL,11,"inside\\x20the\\x20tunnel")' in flat and "SOFT" not in flat
    assert result.probes == ("NULL", "SSLP", "NULL", "SSLP")


def test_ssl_slash_name_sets_the_tunnel_without_a_restart(small: SmallCatalog) -> None:
    cat = small(NULL_ONLY + b"match ssl/foo m|^FOO (\\d+)| p/Foo server/ v/$1/\n")
    result, fake = scan(cat, Server(Behaviour(banner=(send(b"FOO 12\r\n"),))), 4000)
    svc = result.service
    assert svc is not None
    assert (svc.name, svc.product, svc.version, svc.tunnel) == ("foo", "Foo server", "12", "ssl")
    assert [tls for _, _, tls in connects(fake)] == [False]


def test_ssl_match_inside_the_tunnel_is_final(small: SmallCatalog) -> None:
    cat = small(NULL_ONLY + b"match ssl m|^SSLB| p/Some TLS/\n")
    server = Server(plain=Behaviour(banner=(send(b"SSLB"),)), tls=Behaviour(banner=(send(b"SSLB"),)))
    result, fake = scan(cat, server, 4000)
    svc = result.service
    assert svc is not None and (svc.name, svc.product, svc.tunnel, svc.conf) == ("ssl", "Some TLS", "ssl", 10)
    assert [tls for _, _, tls in connects(fake)] == [False, True]


def test_failed_handshake_after_the_restart_is_incomplete(nmaplike: Catalog) -> None:
    server = Server(plain=PLAIN_TLS_SERVER, tls=None)
    result, _ = scan(nmaplike, server, 443)
    svc = result.service
    assert svc is not None
    assert (svc.name, svc.method, svc.conf, svc.tunnel) == ("https", Method.TABLE, 3, "ssl")
    assert any("connection failed (handshake failed)" in n for n in result.notes)


def test_udp_ssl_match_does_not_restart(small: SmallCatalog) -> None:
    """7.93 tunnels TCP only."""
    cat = small(b"Probe UDP U1 q|U1|\nrarity 1\nmatch ssl m|^DTLSISH| p/x/\n")
    server = Server(Behaviour(rules=(on(b"U1", send(b"DTLSISH")),)))
    result, fake = scan(cat, server, 4000, Proto.UDP)
    assert result.service is not None and (result.service.name, result.service.tunnel) == ("ssl", None)
    assert len(connects(fake)) == 1


def test_certificate_subject_is_noted(nmaplike: Catalog) -> None:
    result, _ = scan(nmaplike, HTTPS, 443)
    assert "TLS certificate subject: CN=fake" in result.notes
