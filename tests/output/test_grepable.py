"""Grepable output (``-oG``) rule by rule (Nmap 7.93's output.cc ``printportoutput`` and
``write_host_status``). Whole hosts are compared with the real ``nmap -oG`` in
tests/scan/test_nmap_flags.py."""

from __future__ import annotations

import io

from sigscan.engine.results import HostResult, Method, PortResult, PortState, ScanInfo, Service
from sigscan.output import grepable

OPEN, CLOSED, FILTERED = PortState.OPEN, PortState.CLOSED, PortState.FILTERED
OPEN_FILTERED = PortState.OPEN_FILTERED


def port(number: int, state: PortState = OPEN, service: Service | None = None,
         proto: str = "tcp", reason: str = "syn-ack") -> PortResult:
    return PortResult("192.0.2.1", number, proto, state, reason, service)


def test_port_entries() -> None:
    https = Service("https", Method.PROBED, 10, product="nginx", version="1.22/b", tunnel="ssl")
    assert grepable.port_entry(port(443, service=https)) == "443/open/tcp//ssl|https//nginx 1.22|b/"
    assert grepable.port_entry(port(80, service=Service("http", Method.TABLE, 3))) == "80/open/tcp//http?///"
    closed = Service("tcpmux", Method.TABLE, 3)
    assert grepable.port_entry(port(1, CLOSED, closed, reason="conn-refused")) == "1/closed/tcp//tcpmux///"
    assert grepable.port_entry(port(9, CLOSED, None)) == "9/closed/tcp/////"
    unknown = Service(None, Method.TABLE, 3, servicefp="SF-Port9-TCP:V=7.93;")
    assert grepable.port_entry(port(9, service=unknown)) == "9/open/tcp//unknown///"
    assert grepable.port_entry(port(53, OPEN_FILTERED, None, "udp")) == "53/open|filtered/udp/////"


def test_host_lines_and_the_one_ignored_state() -> None:
    ports = (port(22, service=Service("ssh", Method.PROBED, 10)),
             *(port(n, CLOSED, reason="conn-refused") for n in range(1000, 1030)))
    host = HostResult("192.0.2.1", ports=ports, ptr_name="gw.example")
    assert grepable.host_lines(host) == (
        "Host: 192.0.2.1 (gw.example)\tStatus: Up\n"
        "Host: 192.0.2.1 (gw.example)\tPorts: 22/open/tcp//ssh///\tIgnored State: closed (30)\n")
    two = HostResult("192.0.2.1", ports=(*ports, *(port(n, FILTERED, reason="no-response")
                                                  for n in range(2000, 2030))))
    assert grepable.host_lines(two).endswith("\tPorts: 22/open/tcp//ssh///\n")  # room for one only
    everything = HostResult("192.0.2.1", ports=ports[1:])
    assert grepable.host_lines(everything).endswith("\tPorts: \tIgnored State: closed (30)\n")


def test_open_only_and_verbosity() -> None:
    ports = (port(22, service=Service("ssh", Method.PROBED, 10)), port(23, CLOSED, reason="conn-refused"))
    host = HostResult("192.0.2.1", ports=ports)
    assert grepable.host_lines(host, open_only=True).endswith(
        "\tPorts: 22/open/tcp//ssh///\tIgnored State: closed (1)\n")
    udp = HostResult("192.0.2.1", ports=tuple(port(n, OPEN_FILTERED, None, "udp", "no-response")
                                             for n in range(100, 130)))
    assert "Ignored State: open|filtered (30)" in grepable.host_lines(udp)
    assert "Ignored State" not in grepable.host_lines(udp, verbose=3)  # -vvv lists them all


def test_timed_out_host() -> None:
    host = HostResult("192.0.2.1", timed_out=True)
    assert grepable.host_lines(host) == ("Host: 192.0.2.1 ()\tStatus: Up\n"
                                         "Host: 192.0.2.1 ()\tStatus: Timeout\n")


def test_writer() -> None:
    info = ScanInfo(args="sigscan scan -oG - 192.0.2.1", start=0.0, tcp_ports=(22, 23, 24),
                    verbose=1, open_only=True)
    out = io.StringIO()
    writer = grepable.GrepableWriter(out, info)
    writer.start()
    writer.host(HostResult("192.0.2.1", ports=(port(23, CLOSED, reason="conn-refused"),)))  # --open: left out
    writer.host(HostResult("192.0.2.2", ports=(port(22),)))
    writer.finish(ScanInfo(args=info.args, start=0.0, end=1.5, open_only=True))
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("# sigscan ") and lines[0].endswith(" as: sigscan scan -oG - 192.0.2.1")
    assert lines[1] == "# Ports scanned: TCP(3;22-24) UDP(0;) SCTP(0;) PROTOCOLS(0;)"
    assert [line.split("\t")[0] for line in lines[2:4]] == ["Host: 192.0.2.2 ()"] * 2
    assert lines[4].endswith(" -- 2 IP addresses (2 hosts up) scanned in 1.50 seconds")
