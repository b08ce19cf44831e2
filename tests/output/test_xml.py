"""XML output rules (nmap-semantics §8, Nmap's output.cc and xml.cc), and every document shape
validated by ``xmllint`` against Nmap's DTD. ndiff and python-libnmap on a real scan:
test_xml_tools.py; the ``<ports>`` layout against the real Nmap: test_layout_vs_nmap.py."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import pytest

from sigscan.engine.results import (
    HostResult,
    Method,
    PortGroup,
    PortResult,
    PortState,
    ScanInfo,
    Service,
)
from sigscan.output import xml
from sigscan.output.common import all_ports
from sigscan.output.service import view

DTD = Path("/usr/share/nmap/nmap.dtd")
FP = 'SF-Port8-TCP:V=7.93%I=7%D=1/1%Time=0%P=x%r(NULL,3F,"abcdefghijklmnopqrstuvwxyz0123456789\nSF:ABCDEFGHIJ&<>\'");'


def port(number: int, state: PortState = PortState.OPEN, service: Service | None = None,
         proto: str = "tcp", reason: str = "syn-ack") -> PortResult:
    return PortResult("192.0.2.1", number, proto, state, reason, service)


def info(**fields: object) -> ScanInfo:
    base: dict[str, object] = {"args": "sigscan scan --version-all -p T:22,U:53 192.0.2.1",
                               "start": 1_700_000_000.0, "end": 1_700_000_003.0,
                               "tcp_ports": (22, 80, 81, 82), "udp_ports": (53,)}
    return ScanInfo(**(base | fields))  # type: ignore[arg-type]


@pytest.mark.parametrize(("raw", "escaped"), [
    ("a<b>&\"c'", "a&lt;b&gt;&amp;&quot;c&apos;"),
    ("--version-all", "-&#45;version-all"),
    ("---", "-&#45;&#45;"),
    ("é\n\t", "&#xe9;&#xa;&#x9;"),
    ("\x01\udc80", "&#xfffd;&#xfffd;"),  # what XML 1.0 cannot carry
])
def test_escape(raw: str, escaped: str) -> None:
    assert xml.escape(raw) == escaped


def test_service_attribute_order_and_cpe() -> None:
    service = Service("http", Method.PROBED, 10, product="nginx", version="1.22.1",
                      extrainfo="Debian", hostname="web", ostype="Linux", devicetype="proxy",
                      cpe=("cpe:/a:igor_sysoev:nginx:1.22.1", "cpe:/o:linux:linux_kernel"),
                      tunnel="ssl", servicefp=FP)
    element = xml.service_element(view(port(443, service=service)))
    head, _, children = element.partition(">")
    assert re.findall(r' (\w+)="', head) == ["name", "product", "version", "extrainfo",
                                             "hostname", "ostype", "devicetype", "servicefp",
                                             "tunnel", "method", "conf"]
    assert children == ("<cpe>cpe:/a:igor_sysoev:nginx:1.22.1</cpe>"
                        "<cpe>cpe:/o:linux:linux_kernel</cpe></service>")
    parsed = ET.fromstring(element)
    assert parsed.attrib["servicefp"] == FP.replace("\nSF:", "")
    assert parsed.attrib["tunnel"] == "ssl"


@pytest.mark.parametrize(("service", "expected"), [
    (None, ""),
    (Service(None, Method.TABLE, 3), ""),  # no name, fingerprint or tunnel: no element
    (Service(None, Method.TABLE, 3, tunnel="ssl"),
     '<service name="unknown" tunnel="ssl" method="table" conf="3"/>'),
    (Service("ssh", Method.TABLE, 3), '<service name="ssh" method="table" conf="3"/>'),
    (Service("tcpwrapped", Method.PROBED, 8),
     '<service name="tcpwrapped" method="probed" conf="8"/>'),
])
def test_when_there_is_a_service_element(service: Service | None, expected: str) -> None:
    assert xml.service_element(view(port(22, service=service))) == expected


def test_fingerprint_alone_is_named_unknown() -> None:
    unknown = port(8, service=Service(None, Method.TABLE, 3, servicefp=FP))
    element = ET.fromstring(xml.service_element(view(unknown)))
    assert element.attrib == {"name": "unknown", "servicefp": FP.replace("\nSF:", ""),
                              "method": "table", "conf": "3"}


def closed(proto: str, start: int, count: int, reason: str) -> PortGroup:
    return PortGroup(proto, PortState.CLOSED, reason, tuple(range(start, start + count)))


def test_ports_layout() -> None:
    host = HostResult("192.0.2.1", ports=(port(22, service=Service("ssh", Method.PROBED, 10)),
                                          port(53, PortState.OPEN_FILTERED, None, "udp",
                                               "no-response")),
                      groups=(closed("tcp", 1000, 30, "conn-refused"),
                              closed("udp", 1000, 30, "port-unreach")))
    assert xml.ports_element(all_ports(host)) == (
        '<ports><extraports state="closed" count="60">\n'
        '<extrareasons reason="port-unreach" count="30" proto="udp" ports="1000-1029"/>\n'
        '<extrareasons reason="conn-refused" count="30" proto="tcp" ports="1000-1029"/>\n'
        '</extraports>\n'
        '<port protocol="tcp" portid="22"><state state="open" reason="syn-ack" reason_ttl="0"/>'
        '<service name="ssh" method="probed" conf="10"/></port>\n'
        '<port protocol="udp" portid="53"><state state="open|filtered" reason="no-response" '
        'reason_ttl="0"/></port>\n'
        '</ports>\n')


def test_host_element() -> None:
    host = HostResult("2001:db8::1", "www.example", start=1_700_000_001.7, end=1_700_000_002.2,
                      ptr_name="web.example")
    assert xml.host_element(host) == (
        '<host starttime="1700000001" endtime="1700000002"><status state="up" reason="user-set" '
        'reason_ttl="0"/>\n'
        '<address addr="2001:db8::1" addrtype="ipv6"/>\n'
        '<hostnames>\n<hostname name="www.example" type="user"/>\n'
        '<hostname name="web.example" type="PTR"/>\n</hostnames>\n'
        '<ports></ports>\n</host>\n')


def test_document_head_and_runstats() -> None:
    document = xml.render(info(), [HostResult("192.0.2.1")])
    root = ET.fromstring(document)
    assert root.attrib == {"scanner": "nmap", "args": info().args, "start": "1700000000",
                           "startstr": root.attrib["startstr"], "version": "0.1.0",
                           "xmloutputversion": "1.05"}
    assert [s.attrib for s in root.iter("scaninfo")] == [
        {"type": "connect", "protocol": "tcp", "numservices": "4", "services": "22,80-82"},
        {"type": "udp", "protocol": "udp", "numservices": "1", "services": "53"}]
    finished = root.find("runstats/finished")
    assert finished is not None
    assert finished.attrib["elapsed"] == "3.00" and finished.attrib["exit"] == "success"
    assert finished.attrib["summary"].endswith("; 1 IP address (1 host up) scanned in 3.00 seconds")
    hosts = root.find("runstats/hosts")
    assert hosts is not None and hosts.attrib == {"up": "1", "down": "0", "total": "1"}
    assert "<!-- sigscan 0.1.0 scan initiated " in document
    assert "as: sigscan scan -&#45;version-all -p" in document  # '--' cannot be in a comment


def test_writer_writes_a_whole_document_even_when_interrupted() -> None:
    stream = io.StringIO()
    writer = xml.XmlWriter(stream, info(end=None))
    writer.start()
    writer.host(HostResult("192.0.2.1", ports=(port(22),)))
    writer.finish(info(errormsg="Interrupted by the user (Ctrl-C)"))
    root = ET.fromstring(stream.getvalue())
    finished = root.find("runstats/finished")
    assert finished is not None
    assert (finished.attrib["exit"], finished.attrib["errormsg"]) == (
        "error", "Interrupted by the user (Ctrl-C)")
    assert stream.getvalue() == xml.render(info(errormsg="Interrupted by the user (Ctrl-C)"),
                                           [HostResult("192.0.2.1", ports=(port(22),))])


NOTES = ("final state: hardmatched", "TLS certificate subject: commonName=h\u00e9 <x>")


def test_notes_with_verbose_only() -> None:
    """-v: a port's notes as Nmap writes a script's output (id, output, one elem each)."""
    noted = PortResult("192.0.2.1", 443, "tcp", PortState.OPEN, "syn-ack",
                       Service("http", Method.PROBED, 10, tunnel="ssl"), notes=NOTES)
    assert xml.port_element(noted) == (
        '<port protocol="tcp" portid="443"><state state="open" reason="syn-ack" reason_ttl="0"/>'
        '<service name="http" tunnel="ssl" method="probed" conf="10"/></port>\n')
    assert xml.port_element(noted, notes=True) == (
        '<port protocol="tcp" portid="443"><state state="open" reason="syn-ack" reason_ttl="0"/>'
        '<service name="http" tunnel="ssl" method="probed" conf="10"/>'
        '<script id="sigscan-notes" output="&#xa;  final state: hardmatched&#xa;  TLS certificate '
        'subject: commonName=h&#xe9; &lt;x&gt;"><elem>final state: hardmatched</elem>\n'
        '<elem>TLS certificate subject: commonName=h&#xe9; &lt;x&gt;</elem>\n</script></port>\n')
    assert "sigscan-notes" in xml.host_element(HostResult("192.0.2.1", ports=(noted,)), verbose=1)
    assert "sigscan-notes" not in xml.host_element(HostResult("192.0.2.1", ports=(noted,)))


def with_reports() -> str:
    """A document as the writer makes it with status reports between hosts, at debug level 2."""
    from sigscan.output.progress import Status

    stream = io.StringIO()
    writer = xml.XmlWriter(stream, info(debugging=2, verbose=2))
    writer.start()
    writer.status(Status(1_700_000_001.0, 1.0, 0, 1, 1, "Service scan", 0.0, None))
    writer.host(HostResult("192.0.2.1", ports=(replace(port(22), notes=NOTES),)))
    writer.status(Status(1_700_000_002.0, 2.0, 1, 2, 1, "Service scan", 50.0, 2.5))
    writer.host(HostResult("192.0.2.2"))
    writer.finish()
    return stream.getvalue()


def test_reports_and_debugging_level_in_the_document() -> None:
    document = with_reports()
    assert '<debugging level="2"/>' in document
    assert re.findall(r"<taskprogress [^>]*/>", document) == [
        '<taskprogress task="Service scan" time="1700000001" percent="0.00"/>',
        '<taskprogress task="Service scan" time="1700000002" percent="50.00" remaining="2" '
        'etc="1700000004"/>']


def shapes() -> dict[str, str]:
    full = Service("http", Method.PROBED, 10, product='a "quoted" <product>', version="1.0",
                   extrainfo="x -- y", hostname="h", ostype="Linux", devicetype="router",
                   cpe=("cpe:/a:v:p:1.0", "cpe:/h:v:hw", "cpe:/o:v:os"), tunnel="ssl",
                   servicefp=FP)
    busy = HostResult("192.0.2.7", "www.example", (
        port(22, service=full), port(80, service=Service(None, Method.TABLE, 3, servicefp=FP)),
        port(81, PortState.FILTERED, None, reason="no-response"),
        port(53, PortState.OPEN_FILTERED, Service("domain", Method.TABLE, 3), "udp",
             "no-response")),
        groups=(closed("tcp", 1000, 40, "conn-refused"),
                PortGroup("udp", PortState.OPEN_FILTERED, "no-response", tuple(range(60, 90)))),
        start=1_700_000_000, end=1_700_000_003, latency=0.001, ptr_name="web.example")
    return {
        "empty": xml.render(info(), []),
        "busy": xml.render(info(), [busy, HostResult("2001:db8::5"), HostResult("::1")]),
        "interrupted": xml.render(info(errormsg="Interrupted"), [busy]),
        "no-stylesheet": xml.render(info(tcp_ports=(), udp_ports=()), [], stylesheet=None),
        "verbose-reports": with_reports(),
    }


def test_every_shape_validates_against_nmaps_dtd(tmp_path: Path) -> None:
    xmllint = shutil.which("xmllint")
    if xmllint is None:
        pytest.skip("xmllint is not installed (scripts/setup.sh --dev installs libxml2-utils)")
    paths = []
    for name, document in shapes().items():
        paths.append(tmp_path / f"{name}.xml")
        paths[-1].write_text(document)
        ET.fromstring(document)  # well-formed for Python too
    done = subprocess.run([xmllint, "--noout", "--dtdvalid", str(DTD), *map(str, paths)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
