"""sigscan's XML read by the tools that read Nmap's: ``xmllint`` against ``nmap.dtd``,
``ndiff`` against the real ``nmap -sV`` XML of the same loopback scan, and python-libnmap.

The scan: banners of OpenSSH, vsftpd and Postfix, an unrecognized banner and a closed port on
127.0.0.1, scanned by the installed Nmap 7.93 with its own database. The expected results are
built by hand from the banners (what the 7.93 database makes of them); only the unrecognized
port's fingerprint, which carries Nmap's clock, is taken from Nmap's XML.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from sigscan.bundle.records import ServiceRecord
from sigscan.engine.results import HostResult, Method, PortResult, PortState, ScanInfo, Service
from sigscan.output import xml
from sigscan.output.common import with_table_names
from sigscan.scanning.ports import ServiceTable
from tests.conftest import real_file
from tests.corpus.banner_server import BannerServer
from tests.corpus.banner_server import Service as Play
from tests.output.support import NmapOutput, free_ports, nmap_path, run_nmap, tool, xml_fingerprints

pytestmark = pytest.mark.real_nmap

DTD = Path("/usr/share/nmap/nmap.dtd")
SERVICES = DTD.parent / "nmap-services"
BANNERS: list[tuple[bytes, Service | None]] = [
    (b"SSH-2.0-OpenSSH_8.4p1 Debian-5+deb11u1\r\n",
     Service("ssh", Method.PROBED, 10, product="OpenSSH", version="8.4p1 Debian 5+deb11u1",
             extrainfo="protocol 2.0", ostype="Linux",
             cpe=("cpe:/a:openbsd:openssh:8.4p1", "cpe:/o:linux:linux_kernel"))),
    (b"220 (vsFTPd 3.0.3)\r\n",
     Service("ftp", Method.PROBED, 10, product="vsftpd", version="3.0.3", ostype="Unix",
             cpe=("cpe:/a:vsftpd:vsftpd:3.0.3",))),
    (b"220 mail.example.org ESMTP Postfix (Debian/GNU)\r\n",
     Service("smtp", Method.PROBED, 10, product="Postfix smtpd", hostname=" mail.example.org",
             cpe=("cpe:/a:postfix:postfix",))),
    (b"XYZZY unknown banner \x00\x01 [v1.0]\r\n", None),  # unrecognized: fingerprint only
]


def services_table() -> ServiceTable:
    """The installed ``nmap-services``, read as the bundle stores it."""
    records = []
    for seq, line in enumerate(SERVICES.read_text().splitlines()):
        fields = line.split("#")[0].split()
        if len(fields) >= 3:
            port, _, proto = fields[1].partition("/")
            records.append(ServiceRecord(proto, int(port), fields[0], fields[2], seq))
    return ServiceTable(records)


@pytest.fixture(scope="module")
def scan() -> Iterator[tuple[NmapOutput, ScanInfo, HostResult]]:
    if nmap_path() is None:
        pytest.skip("nmap is not installed (apt-get install nmap)")
    real_file("7.93")  # nmap -sV reads its installed database: skip where it is missing or hidden
    with BannerServer([Play(data) for data, _ in BANNERS], hold=0.5, lifetime=120) as server:
        closed = free_ports(1)  # while the server holds its ports: the kernel cannot hand one out
        out = run_nmap([*server.ports, *closed], ["--version-intensity", "2"])
        ports = server.ports
    unknown = xml_fingerprints(out.xml)[ports[-1]]
    results = [PortResult("127.0.0.1", port, "tcp", PortState.OPEN, "syn-ack",
                          service or Service(None, Method.TABLE, 3, servicefp=unknown))
               for port, (_, service) in zip(ports, BANNERS, strict=True)]
    results.append(PortResult("127.0.0.1", closed[0], "tcp", PortState.CLOSED, "conn-refused",
                              None))
    table = services_table()
    host = with_table_names(HostResult("127.0.0.1", ports=tuple(results), start=1e9,
                                       end=1e9 + 2), table.name)
    info = ScanInfo(args="sigscan scan -p ... 127.0.0.1", start=1e9, end=1e9 + 2,
                    tcp_ports=tuple(sorted(p.port for p in results)))
    yield out, info, host


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_nmap_xml_validates_too(scan: tuple[NmapOutput, ScanInfo, HostResult],
                                tmp_path: Path) -> None:
    """The check itself: xmllint accepts Nmap's XML and refuses a broken one."""
    xmllint = tool("xmllint")
    good = write(tmp_path, "nmap.xml", scan[0].xml)
    bad = write(tmp_path, "bad.xml", scan[0].xml.replace('scanner="nmap"', 'scanner="sigscan"'))
    command = [xmllint, "--noout", "--dtdvalid", str(DTD)]
    assert subprocess.run([*command, str(good)], capture_output=True).returncode == 0
    assert subprocess.run([*command, str(bad)], capture_output=True).returncode != 0


def test_our_xml_validates(scan: tuple[NmapOutput, ScanInfo, HostResult], tmp_path: Path) -> None:
    xmllint = tool("xmllint")
    _, info, host = scan
    ours = write(tmp_path, "ours.xml", xml.render(info, [host]))
    done = subprocess.run([xmllint, "--noout", "--dtdvalid", str(DTD), str(ours)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def ndiff(tmp_path: Path, ours: str, theirs: str) -> list[str]:
    """The changed lines (``+``/``-``) of ``ndiff`` between two documents."""
    a, b = write(tmp_path, "a.xml", ours), write(tmp_path, "b.xml", theirs)
    done = subprocess.run([tool("ndiff"), str(a), str(b)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode in (0, 1), done.stderr  # 1: differences
    return [line for line in done.stdout.splitlines() if line[:1] in {"+", "-"}]


def test_ndiff_sees_no_service_difference(scan: tuple[NmapOutput, ScanInfo, HostResult],
                                          tmp_path: Path) -> None:
    out, info, host = scan
    changed = ndiff(tmp_path, xml.render(info, [host]), out.xml)
    assert [line.split(" scan initiated ")[0] for line in changed] == [
        f"-Nmap {info.version}", "+Nmap 7.93"]


def test_ndiff_sees_a_wrong_version(scan: tuple[NmapOutput, ScanInfo, HostResult],
                                    tmp_path: Path) -> None:
    """The comparison above can fail: one wrong version shows up as a port difference."""
    out, info, host = scan
    ssh = next(p for p in host.ports if p.service is not None and p.service.name == "ssh")
    assert ssh.service is not None
    wrong = replace(host, ports=tuple(
        replace(p, service=replace(ssh.service, version="9.9")) if p is ssh else p
        for p in host.ports))
    changed = ndiff(tmp_path, xml.render(info, [wrong]), out.xml)
    assert any(f"{ssh.port}/tcp" in line and "9.9" in line for line in changed), changed


def test_libnmap_reads_what_it_reads_from_nmap(
        scan: tuple[NmapOutput, ScanInfo, HostResult]) -> None:
    from libnmap.parser import NmapParser

    out, info, host = scan
    ours = NmapParser.parse_fromstring(xml.render(info, [host]))
    theirs = NmapParser.parse_fromstring(out.xml)
    assert ours.hosts_total == theirs.hosts_total == 1
    assert ours.hosts[0].address == theirs.hosts[0].address == "127.0.0.1"
    assert ours.hosts[0].is_up() and ours.elapsed == 2.0
    assert ours.hosts[0].get_ports() == theirs.hosts[0].get_ports()
    for mine, nmaps in zip(ours.hosts[0].services, theirs.hosts[0].services, strict=True):
        assert (mine.port, mine.protocol, mine.state, mine.reason) == (
            nmaps.port, nmaps.protocol, nmaps.state, nmaps.reason)
        assert mine.service_dict == nmaps.service_dict
        assert [c.cpestring for c in mine.cpelist] == [c.cpestring for c in nmaps.cpelist]
