"""The text and XML host output against the real ``nmap -sV`` on the same loopback scan.

One scan of 127.0.0.1 under the name ``localhost`` (reverse DNS from /etc/hosts), with a small
probe file and ``nmap-services`` of our own (``--datadir``), so every layout rule shows up at once: the VERSION buffer's skip and
``...`` cut of extrainfo and the exact fit of 159 characters, ``tcpwrapped``, a softmatch, a table name with ``?``, eleven unrecognized services
(Nmap prints nine), Service Info limits (five values per category, the target's reverse-DNS name left
out case-blind, no ``cpe:/a``), and 30 closed ports summarised as ``Not shown``/``<extraports>``.

The expected :class:`HostResult` is built by hand from what each port's server sends and what
the probe file says; only the fingerprints (they carry Nmap's clock), the latency and the PTR name
are read from Nmap's output. The host block of ``-oN`` and the ``<address>`` … ``</ports>`` part of
``-oX`` must then be identical to Nmap's.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sigscan.engine.results import HostResult, Method, PortResult, PortState, ScanInfo, Service
from sigscan.output import text, xml
from sigscan.output.common import with_table_names
from tests.corpus.banner_server import BannerServer
from tests.corpus.banner_server import Service as Play
from tests.output.support import (
    NmapOutput,
    fingerprints,
    free_ports,
    host_block,
    latency,
    nmap_path,
    ptr_name,
    relabelled,
    run_nmap,
    xml_between,
    xml_fingerprints,
)

pytestmark = pytest.mark.real_nmap

P78, V79 = "P" * 78, "V" * 79
B79, C79 = "B" * 79, "C" * 79  # Nmap fills at most 79 characters per field
E200 = "E" * 200
PROBES = rf"""Probe TCP NULL q||
totalwaitms 3000
tcpwrappedms 3000
match longa m|^LONGA\r\n| p/{P78}/ v/{V79}/ i/extra/
match longb m|^LONGB\r\n| p/{B79}/ v/{C79}/ i/xx/
match longc m|^LONGC\r\n| p/prod/ v/1.0/ i/{E200}/
match hosty m|^HOSTY (\S+) (\S+) (\S+)\r\n| p/hosty/ h/$1/ o/$2/ d/$3/ cpe:/a:hosty:hosty/ cpe:/o:$2:$2/ cpe:/h:$3:$3/
softmatch softy m|^SOFTY\r\n|
"""
HOSTY = [("localhost", "Linux", "router"), ("LOCALHOST", "OS2", "dev2"), ("h3", "OS3", "dev3"),
         ("h4", "OS4", "dev4"), ("h5", "OS5", "dev5"), ("h6", "OS6", "dev6"),
         ("h7", "OS7", "dev7"), ("H3", "OS3", "dev3")]
JUNK = 9


def hosty(h: str, o: str, d: str) -> Service:
    return Service("hosty", Method.PROBED, 10, product="hosty", hostname=h, ostype=o,
                   devicetype=d, cpe=("cpe:/a:hosty:hosty", f"cpe:/h:{d.lower()}:{d.lower()}",
                                      f"cpe:/o:{o.lower()}:{o.lower()}"))


def plays() -> list[tuple[bytes, Service | None]]:
    """(what the port sends, the service Nmap makes of it; fingerprint filled in later)."""
    table = Method.TABLE
    out: list[tuple[bytes, Service | None]] = [
        (b"LONGA\r\n", Service("longa", Method.PROBED, 10, product=P78, version=V79,
                               extrainfo="extra")),
        (b"LONGB\r\n", Service("longb", Method.PROBED, 10, product=B79, version=C79,
                               extrainfo="xx")),
        (b"LONGC\r\n", Service("longc", Method.PROBED, 10, product="prod", version="1.0",
                               extrainfo=E200)),
        *((f"HOSTY {h} {o} {d}\r\n".encode(), hosty(h, o, d)) for h, o, d in HOSTY),
        (b"SOFTY\r\n", Service("softy", Method.PROBED, 10)),
        (b"", Service("tcpwrapped", Method.PROBED, 8)),
        (b'odd & <junk> "q" \'a\' -- x\r\n' * 3, Service("fooserv", table, 3)),
        *((f"JUNK {i} \x00\x01\r\n".encode(), Service(None, table, 3)) for i in range(JUNK)),
    ]
    return out


@pytest.fixture(scope="module")
def scan(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[NmapOutput, HostResult]]:
    if nmap_path() is None:
        pytest.skip("nmap is not installed (apt-get install nmap)")
    played = plays()
    datadir = tmp_path_factory.mktemp("nmapdir")
    (datadir / "nmap-service-probes").write_text(PROBES)
    with BannerServer([Play(data) for data, _ in played], hold=0.5, lifetime=120) as server:
        closed = free_ports(30)  # while the server holds its ports: the kernel cannot hand one out
        fooserv = server.ports[[s.name if s else None for _, s in played].index("fooserv")]
        (datadir / "nmap-services").write_text(
            f"fooserv\t{fooserv}/tcp\t0.001000\n"
            + "".join(f"closedsvc\t{port}/tcp\t0.000100\n" for port in closed[:2]))
        out = run_nmap([*server.ports, *closed], target="localhost", datadir=datadir,
                       reverse_dns=True)
        ports = server.ports
    prints = xml_fingerprints(out.xml) | fingerprints(out.normal)  # text: with line breaks
    results = [PortResult("127.0.0.1", port, "tcp", PortState.OPEN, "syn-ack",
                          _with_fp(service, prints.get(port)))
               for port, (_, service) in zip(ports, played, strict=True)]
    results += [PortResult("127.0.0.1", port, "tcp", PortState.CLOSED, "conn-refused", None)
                for port in closed]
    names = {(p, "tcp"): "closedsvc" for p in closed[:2]} | {(fooserv, "tcp"): "fooserv"}
    host = HostResult("127.0.0.1", "localhost", tuple(results), latency=latency(out.normal),
                      ptr_name=ptr_name(out.xml))
    yield out, with_table_names(host, lambda port, proto: names.get((port, proto)))


def _with_fp(service: Service | None, fingerprint: str | None) -> Service | None:
    if service is None or fingerprint is None or service.name in {"longa", "longb", "longc",
                                                                    "hosty", "tcpwrapped"}:
        return service
    return Service(service.name, service.method, service.conf, servicefp=fingerprint)


def test_the_scan_exercises_every_rule(scan: tuple[NmapOutput, HostResult]) -> None:
    out, host = scan
    assert host.ptr_name == "localhost", "/etc/hosts should map 127.0.0.1 to localhost"
    info_line = next(line for line in out.normal.splitlines() if line.startswith("Service Info"))
    assert "Hosts: " in info_line and "localhost" not in info_line.lower()
    assert len(xml_fingerprints(out.xml)) == JUNK + 2  # softy, fooserv and the junk ports
    assert len(fingerprints(out.normal)) == 9
    assert "9 services unrecognized" in out.normal
    assert "Not shown: 30 closed tcp ports (conn-refused)" in out.normal


def test_host_block_is_nmaps(scan: tuple[NmapOutput, HostResult]) -> None:
    """Line for line, but for the fingerprints' labels (sigscan's, not a request to submit them
    to nmap.org): the count line and the nine banners."""
    out, host = scan
    ours, nmaps = text.host_report(host).splitlines(), host_block(out.normal)
    assert ours == relabelled(nmaps)
    assert sum(a != b for a, b in zip(ours, nmaps, strict=True)) == 1 + 9


def test_xml_ports_are_nmaps(scan: tuple[NmapOutput, HostResult]) -> None:
    out, host = scan
    ours = xml.host_element(host)
    assert xml_between(ours, "<address", "</ports>") == xml_between(out.xml, "<address", "</ports>")


def test_file_header_and_footer_have_nmaps_shape(scan: tuple[NmapOutput, HostResult]) -> None:
    out, _ = scan
    lines = out.normal.splitlines()
    ours = text.render(_info(), [])
    assert lines[0].split(" scan initiated ")[0] == "# Nmap 7.93"
    assert ours.splitlines()[0].split(" scan initiated ")[0] == "# sigscan 0.1.0"
    nmap_done = lines[-1].split(" -- ")[1].split(" scanned in ")[0]
    assert nmap_done == "1 IP address (1 host up)"
    assert text.scan_footer(_info(), 1, 1).splitlines()[-1].split(" -- ")[1].split(" scanned")[0] \
        == nmap_done


def _info() -> ScanInfo:
    return ScanInfo(args="sigscan scan localhost", start=1_700_000_000.0, end=1_700_000_001.5)
