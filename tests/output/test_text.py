"""Normal output rules, unit by unit (nmap-semantics §8; Nmap's output.cc, portlist.cc,
NmapOutputTable.cc). The whole host block is compared with the real Nmap in
test_layout_vs_nmap.py."""

from __future__ import annotations

import io

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
from sigscan.output import text
from sigscan.output.common import ignored_states, with_table_names

OPEN, CLOSED = PortState.OPEN, PortState.CLOSED
FILTERED, OPEN_FILTERED = PortState.FILTERED, PortState.OPEN_FILTERED


def svc(name: str | None = "http", conf: int = 10, **fields: object) -> Service:
    method = Method.TABLE if conf == 3 else Method.PROBED
    return Service(name, method, conf, **fields)  # type: ignore[arg-type]


def port(number: int, state: PortState = OPEN, service: Service | None = None,
         proto: str = "tcp", reason: str = "syn-ack") -> PortResult:
    return PortResult("192.0.2.1", number, proto, state, reason, service)


# --------------------------------------------------------------------------------------------
# Table


def test_table_widths_and_no_trailing_spaces() -> None:
    rows = [["PORT", "STATE", "SERVICE", "VERSION"],
            ["22/tcp", "open", "ssh", "OpenSSH 9"],
            ["65000/tcp", "closed", "unknown", ""],
            ["80/tcp", "open", "http", ""]]
    assert text.table(rows) == [
        "PORT      STATE  SERVICE VERSION",
        "22/tcp    open   ssh     OpenSSH 9",
        "65000/tcp closed unknown",
        "80/tcp    open   http",
    ]


def test_port_table_columns_follow_the_widest_cell() -> None:
    lines = text.port_table([port(7, OPEN, svc("echo")),
                             port(161, OPEN_FILTERED, svc("snmp", 3), proto="udp")])
    assert lines == ["PORT    STATE         SERVICE VERSION",
                     "7/tcp   open          echo",
                     "161/udp open|filtered snmp"]


# --------------------------------------------------------------------------------------------
# Not shown


def many(state: PortState, proto: str, reason: str, start: int, count: int) -> list[PortResult]:
    return [port(start + i, state, None, proto, reason) for i in range(count)]


def test_not_shown_ties_put_the_later_group_first() -> None:
    """Verified with Nmap: '31 closed udp ports (port-unreach), 31 closed tcp ports (…)'."""
    ports = many(CLOSED, "tcp", "conn-refused", 100, 31) + many(CLOSED, "udp", "port-unreach",
                                                               100, 31)
    assert text.not_shown(ignored_states(ports)) == (
        "Not shown: 31 closed udp ports (port-unreach), 31 closed tcp ports (conn-refused)")


def test_not_shown_orders_groups_and_states_by_count() -> None:
    ports = (many(CLOSED, "tcp", "conn-refused", 1000, 40) + many(CLOSED, "udp", "port-unreach",
                                                                   1000, 27)
             + many(FILTERED, "tcp", "no-response", 2000, 30)
             + many(FILTERED, "tcp", "host-unreach", 3000, 1))
    assert text.not_shown(ignored_states(ports)) == (
        "Not shown: 40 closed tcp ports (conn-refused), 27 closed udp ports (port-unreach), "
        "30 filtered tcp ports (no-response), 1 filtered tcp port (host-unreach)")


def test_state_ties_follow_nmaps_state_numbers() -> None:
    ports = many(FILTERED, "tcp", "no-response", 1, 30) + many(CLOSED, "tcp", "conn-refused",
                                                              100, 30)
    assert [i.state for i in ignored_states(ports)] == [CLOSED, FILTERED]


def test_threshold_and_verbosity() -> None:
    ports = many(CLOSED, "tcp", "conn-refused", 1, 26) + many(OPEN_FILTERED, "udp",
                                                             "no-response", 1, 25)
    assert [i.state for i in ignored_states(ports)] == [CLOSED]  # more than 25
    assert ignored_states(ports, verbose=1) == []  # -v: more than 50
    assert ignored_states(many(OPEN, "tcp", "syn-ack", 1, 100)) == []  # never open ports


# --------------------------------------------------------------------------------------------
# Service Info and fingerprints


def test_service_info_rules() -> None:
    ports = [port(1, OPEN, svc(hostname="web1", ostype="Linux", devicetype="router",
                               cpe=("cpe:/a:x:y", "cpe:/h:v:hw", "cpe:/o:linux:linux_kernel"))),
             port(2, OPEN, svc(hostname="WEB1", ostype="Linux")),  # duplicates (host: any case)
             port(3, OPEN, svc(hostname="Target.example")),  # the target's own name
             port(4, CLOSED, svc(hostname="closed-host", ostype="Closed OS")),  # not open
             port(5, OPEN_FILTERED, svc(hostname="udp-host"))]  # not open either
    assert text.service_info(ports, "target.example") == (
        "Service Info: Host: web1; OS: Linux; Device: router; "
        "CPE: cpe:/h:v:hw, cpe:/o:linux:linux_kernel")


def test_service_info_keeps_five_values_and_uses_plurals() -> None:
    ports = [port(i, OPEN, svc(hostname=f"h{i}", ostype=f"OS{i}", cpe=(f"cpe:/o:v{i}:os{i}",)))
             for i in range(1, 8)]
    assert text.service_info(ports, None) == (
        "Service Info: Hosts: h1, h2, h3, h4, h5; OSs: OS1, OS2, OS3, OS4, OS5; "
        "CPE: cpe:/o:v1:os1, cpe:/o:v2:os2, cpe:/o:v3:os3, cpe:/o:v4:os4, cpe:/o:v5:os5")


def test_no_service_info_without_values() -> None:
    assert text.service_info([port(1, OPEN, svc(cpe=("cpe:/a:only:app",)))], None) == ""


def fp(n: int) -> str:
    return f"SF-Port{n}-TCP:V=7.93%I=7%D=1/1%Time=0%P=x%r(NULL,1,\"x\");"


def test_fingerprint_block() -> None:
    assert text.fingerprint_block([port(1, OPEN, svc())]) == []
    one = text.fingerprint_block([port(1, OPEN, svc(None, 3, servicefp=fp(1)))])
    assert one == ["1 service unrecognized despite returning data. The following fingerprint "
                   "was made by sigscan, not Nmap: do not submit it to nmap.org.", fp(1)]
    ten = text.fingerprint_block([port(n, OPEN, svc(None, 3, servicefp=fp(n)))
                                  for n in range(1, 11)])
    assert ten[0] == ("9 services unrecognized despite returning data. The following fingerprints "
                      "were made by sigscan, not Nmap: do not submit them to nmap.org.")
    assert ten[1:] == [line for n in range(1, 10) for line in (text.FP_BANNER, fp(n))]
    assert text.FP_BANNER == ("==============NEXT SERVICE FINGERPRINT (MADE BY SIGSCAN)"
                              "==============")


# --------------------------------------------------------------------------------------------
# Host block and document


def test_host_header_lines() -> None:
    host = HostResult("192.0.2.1", "www.example", (port(80, OPEN, svc()),), latency=0.0014,
                      other_addresses=("192.0.2.2", "2001:db8::2"), ptr_name="web.example")
    lines = text.host_report(host).splitlines()
    assert lines[:5] == ["Nmap scan report for web.example (192.0.2.1)",
                         "Host is up (0.0014s latency).",
                         "Other addresses for www.example (not scanned): 192.0.2.2 2001:db8::2",
                         "rDNS record for 192.0.2.1: web.example",
                         ""]
    assert lines[-1] == ""


@pytest.mark.parametrize(("seconds", "shown"), [
    (0.000042, "0.000042"), (0.0014, "0.0014"), (0.00052, "0.00052"), (0.019, "0.019"),
    (0.17, "0.17"), (1.5, "1.5"), (12.3, "12"), (0.0, "0.00")])
def test_latency_has_two_significant_digits(seconds: float, shown: str) -> None:
    assert text.sig_digits(seconds, 2) == shown


def test_all_ports_ignored() -> None:
    host = HostResult("192.0.2.1", groups=(PortGroup("tcp", CLOSED, "conn-refused",
                                                     tuple(range(1, 31))),))
    assert text.host_report(host).splitlines() == [
        "Nmap scan report for 192.0.2.1", "Host is up.",
        "All 30 scanned ports on 192.0.2.1 are in ignored states.",
        "Not shown: 30 closed tcp ports (conn-refused)", ""]


def test_groups_that_stay_listed_get_table_names() -> None:
    host = HostResult("192.0.2.1", ports=(port(22, OPEN, svc("ssh")),),
                      groups=(PortGroup("tcp", CLOSED, "conn-refused", (23, 25)),))
    named = with_table_names(host, lambda number, proto: {(23, "tcp"): "telnet"}.get(
        (number, proto)))
    lines = text.host_report(named).splitlines()
    assert lines[2:6] == ["", "PORT   STATE  SERVICE VERSION", "22/tcp open   ssh",
                          "23/tcp closed telnet"]
    assert lines[6] == "25/tcp closed unknown"


def info(**fields: object) -> ScanInfo:
    base: dict[str, object] = {"args": "sigscan scan -p 22 192.0.2.1", "start": 1_700_000_000.0,
                               "end": 1_700_000_012.345, "tcp_ports": (22,)}
    return ScanInfo(**(base | fields))  # type: ignore[arg-type]


def test_document_and_writer_agree() -> None:
    hosts = [HostResult("192.0.2.1", ports=(port(22, OPEN, svc("ssh")),)),
             HostResult("2001:db8::1", ports=(port(22, CLOSED, None),))]
    whole = text.render(info(), hosts)
    stream = io.StringIO()
    writer = text.TextWriter(stream, info(end=None))
    writer.start()
    for host in hosts:
        writer.host(host)
    writer.finish(info())
    assert stream.getvalue() == whole
    lines = whole.splitlines()
    assert lines[0].startswith("# sigscan 0.1.0 scan initiated ")
    assert lines[0].endswith(" as: sigscan scan -p 22 192.0.2.1")
    assert lines[-2:] == ["Service detection performed.",
                          lines[-1].split(" -- ")[0] + " -- 2 IP addresses (2 hosts up) "
                          "scanned in 12.35 seconds"]
    assert lines[-1].startswith("# sigscan done at ")


def test_stdout_form() -> None:
    whole = text.render(info(), [], file=False)
    assert whole.startswith("Starting sigscan 0.1.0 at ")
    assert whole.endswith("\nsigscan done: 0 IP addresses (0 hosts up) scanned in 12.35 seconds\n")
    assert "Service detection performed." not in whole


# --------------------------------------------------------------------------------------------
# -v: notes; the screen: status reports


def test_notes_follow_their_port_as_nmap_lays_out_script_output() -> None:
    """Nmap's formatScriptOutput: ``| id: `` (with its space), ``|   note``, ``|_  last``;
    bytes outside printable ASCII as \\xHH; the rows take no part in the column widths."""
    noted = PortResult("192.0.2.1", 443, "tcp", OPEN, "syn-ack", svc("http", tunnel="ssl"),
                       notes=("final state: hardmatched", "TLS certificate subject: commonName=h\u00e9"))
    host = HostResult("192.0.2.1", ports=(noted, port(80, OPEN, svc("http"))))
    quiet = text.host_report(host)
    assert "sigscan-notes" not in quiet
    lines = text.host_report(host, verbose=1).splitlines()
    assert lines[3:8] == ["PORT    STATE SERVICE  VERSION",
                          "80/tcp  open  http",
                          "443/tcp open  ssl/http",
                          "| sigscan-notes: ",
                          "|   final state: hardmatched"]
    assert lines[8] == "|_  TLS certificate subject: commonName=h\\xC3\\xA9"
    one = PortResult("192.0.2.1", 22, "tcp", OPEN, "syn-ack", svc("ssh"), notes=("only",))
    assert text.port_table([one], notes=True)[1:] == ["22/tcp open  ssh", "| sigscan-notes: ",
                                                      "|_  only"]


def test_status_reports_go_to_the_screen_only() -> None:
    from sigscan.output.progress import Status

    report = Status(1_700_000_001.0, 61.0, 0, 1, 1, "Service scan", 0.0, None)
    for file, expected in ((False, "Stats: 0:01:01 elapsed; 0 hosts completed (1 up), 1 undergoing "
                                   "Service Scan\nService scan Timing: About 0.00% done\n"),
                           (True, "")):
        stream = io.StringIO()
        text.TextWriter(stream, info(), file=file).status(report)
        assert stream.getvalue() == expected
