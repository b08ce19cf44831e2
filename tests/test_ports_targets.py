"""Port specifications (``-p``, ``--top-ports``) and targets (addresses, names, blocks, ``-iL``
files with masscan and naabu lines). Pure parsing: the addresses are documentation ranges
(192.0.2.0/24, 2001:db8::/32) and loopback, and no traffic is sent, except the
``--top-ports`` comparison, which runs the real ``nmap`` against 127.0.0.1."""

from __future__ import annotations

import re
import socket
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from sigscan.bundle.loader import open_bundle
from sigscan.bundle.records import ServiceRecord
from sigscan.scanning.ports import (
    PortSpec,
    PortSpecError,
    ServiceTable,
    compact,
    frequency,
    parse_ports,
    top_ports,
)
from sigscan.scanning.targets import (
    Target,
    TargetError,
    parse_target,
    parse_targets,
    read_target_file,
    read_targets,
    resolve,
    resolve_target,
)
from tests.output.support import nmap_path

BOTH = ("tcp", "udp")


def table(*rows: tuple[str, int, str, str]) -> ServiceTable:
    return ServiceTable(ServiceRecord(proto, port, name, freq, seq)
                        for seq, (name, port, proto, freq) in enumerate(rows))


SMALL = table(("http", 80, "tcp", "0.484143"), ("http", 80, "udp", "0.000100"),
              ("http-alt", 8080, "tcp", "0.020000"), ("https", 443, "tcp", "0.208669"),
              ("ssh", 22, "tcp", "0.182286"), ("unknown", 1, "tcp", "0.000100"),
              ("ssh-dup", 22, "tcp", "0.9"),  # a later duplicate: the first entry wins
              ("domain", 53, "udp", "0.213496"), ("domain", 53, "tcp", "0.048463"),
              ("tie-b", 9, "tcp", "0.020000"), ("tie-a", 7, "tcp", "0.020000"))


# --------------------------------------------------------------------------------------------
# -p


@pytest.mark.parametrize(("spec", "protocols", "tcp", "udp"), [
    ("22", ("tcp",), (22,), ()),
    ("22,80,1000-1003", ("tcp",), (22, 80, 1000, 1001, 1002, 1003), ()),
    (" 22 , 80 ,", ("tcp",), (22, 80), ()),  # spaces and a trailing comma
    ("80,22,80,21-23", ("tcp",), (21, 22, 23, 80), ()),  # duplicates merged, sorted
    ("-3", ("tcp",), (1, 2, 3), ()),  # open start: from 1
    ("65533-", ("tcp",), (65533, 65534, 65535), ()),  # open end: to 65535
    ("0", ("tcp",), (0,), ()),  # port 0 only when asked for
    ("53", BOTH, (53,), (53,)),  # unprefixed: every protocol of the scan
    ("T:22,80,U:53,161", BOTH, (22, 80), (53, 161)),  # a prefix lasts until the next
    ("u:53,t:22", BOTH, (22,), (53,)),  # naabu writes them lower-case
    ("22,U:53", ("udp",), (), (22, 53)),
])
def test_port_specs(spec: str, protocols: tuple[str, ...], tcp: tuple[int, ...],
                    udp: tuple[int, ...]) -> None:
    assert parse_ports(spec, protocols=protocols) == PortSpec(tcp=tcp, udp=udp)


def test_all_ports() -> None:
    spec = parse_ports("-", protocols=BOTH)
    assert spec.tcp == tuple(range(1, 65536)) and spec.udp == spec.tcp
    assert len(spec) == 2 * 65535 and list(spec.pairs())[:2] == [("tcp", 1), ("tcp", 2)]


def test_service_names_and_brackets() -> None:
    assert parse_ports("http", table=SMALL) == PortSpec(tcp=(80,))
    assert parse_ports("http*", protocols=BOTH, table=SMALL) == PortSpec(tcp=(80, 443, 8080),
                                                                         udp=(80,))
    assert parse_ports("ssh,U:domain", protocols=BOTH, table=SMALL) == PortSpec(tcp=(22,),
                                                                               udp=(53,))
    with pytest.raises(PortSpecError, match="no udp port is named 'ssh'"):  # U: still applies
        parse_ports("U:domain,ssh", protocols=BOTH, table=SMALL)
    assert parse_ports("unknown,htt?", table=SMALL) == PortSpec(tcp=(1, 80))
    assert parse_ports("[1-100],443", table=SMALL) == PortSpec(tcp=(1, 7, 9, 22, 53, 80, 443))
    assert parse_ports("[T:1-60],U:[1-60]", protocols=BOTH, table=SMALL) == PortSpec(
        tcp=(1, 7, 9, 22, 53), udp=(53,))
    # a prefix inside brackets ends with them
    assert parse_ports("[U:1-60],80", protocols=BOTH, table=SMALL) == PortSpec(tcp=(80,),
                                                                              udp=(53, 80))


@pytest.mark.parametrize(("spec", "message"), [
    ("", "empty port specification"),
    ("80-22", "port range 80-22 is backwards; did you mean 22-80?"),
    ("70000", "port 70000 is out of range"),
    ("1-70000", "port 70000 is out of range"),
    ("22,,80", "at character 4: expected a port, a range or a service name"),
    ("22;80", "at character 3: expected ',' between items"),
    ("22 80", "at character 4: expected ',' between items"),
    ("U:53", "'U:' ports need -sU"),
    ("S:1", "SCTP ports (S:) are not supported"),
    ("1-5]", "unexpected ']'"),
    ("[1-5", "missing ']'"),
    ("[[1]]", "brackets cannot be nested"),
    ("nosuchservice", "no tcp port is named 'nosuchservice'"),
])
def test_bad_port_specs(spec: str, message: str) -> None:
    with pytest.raises(PortSpecError) as caught:
        parse_ports(spec, table=SMALL)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_names_need_the_table() -> None:
    with pytest.raises(PortSpecError, match="needs the nmap-services table"):
        parse_ports("http")


def test_compact_and_frequency() -> None:
    assert compact([80, 22, 23, 24, 1000, 81, 22]) == "22-24,80-81,1000"
    assert compact([]) == ""
    assert [frequency(t) for t in ("0.484143", "1/2", "0/0", "x/y", "1.0", "")] == [
        0.484143, 0.5, 0.0, 0.0, 0.0, 0.0]


def test_service_table_lookups() -> None:
    assert SMALL.name(22, "tcp") == "ssh"  # first entry wins
    assert SMALL.name(1, "tcp") == "unknown" and SMALL.listed(1, "tcp")  # Nmap writes it as a name
    assert SMALL.name(9999, "tcp") is None and not SMALL.listed(9999, "tcp")


# --------------------------------------------------------------------------------------------
# --top-ports


def test_top_ports_order_and_ties() -> None:
    assert top_ports(SMALL, 2) == PortSpec(tcp=(80, 443))
    # ties of frequency keep file order: http-alt (8080), then tie-b (9), then tie-a (7)
    assert top_ports(SMALL, 6) == PortSpec(tcp=(9, 22, 53, 80, 443, 8080))
    assert top_ports(SMALL, 7).tcp == (7, 9, 22, 53, 80, 443, 8080)
    assert top_ports(SMALL, 2, protocols=BOTH) == PortSpec(tcp=(80, 443), udp=(53, 80))
    assert top_ports(SMALL, 100, protocols=("udp",)) == PortSpec(udp=(53, 80))
    within = parse_ports("1-100")
    assert top_ports(SMALL, 2, within=within) == PortSpec(tcp=(22, 80))


@pytest.mark.parametrize("count", [0, -1, 65537])
def test_bad_top_ports(count: int) -> None:
    with pytest.raises(PortSpecError, match="--top-ports"):
        top_ports(SMALL, count)


@pytest.mark.real_nmap
def test_top_ports_equal_nmaps(built: dict[tuple[str, str], Path]) -> None:
    """``--top-ports`` from the bundle's nmap-services equals the installed Nmap's choice (read
    from its ``<scaninfo>``; Nmap port-scans 127.0.0.1 to write it)."""
    nmap = nmap_path()
    if nmap is None:
        pytest.skip("nmap is not installed (apt-get install nmap)")
    with open_bundle(built[("7.93", "db")]) as bundle:
        services = ServiceTable.from_bundle(bundle)
    for count, extra in ((1000, ()), (100, ("-sU",)), (10, ("-p", "1-1000"))):
        done = subprocess.run([nmap, "-sT", *extra, "-Pn", "-n", "--top-ports", str(count),
                               "-oX", "-", "127.0.0.1"],
                              capture_output=True, text=True, timeout=120, check=True)
        scaninfo = {s.attrib["protocol"]: s.attrib["services"]
                    for s in ET.fromstring(done.stdout).iter("scaninfo")}
        protocols = ("tcp", "udp") if "-sU" in extra else ("tcp",)
        within = parse_ports(extra[1]) if "-p" in extra else None
        ours = top_ports(services, count, protocols=protocols, within=within)
        assert {p: compact(ours.of(p)) for p in protocols} == scaninfo


# --------------------------------------------------------------------------------------------
# Targets


@pytest.mark.parametrize(("spec", "addresses"), [
    ("192.0.2.7", ["192.0.2.7"]),
    (" 192.0.2.7 ", ["192.0.2.7"]),
    ("2001:db8::1", ["2001:db8::1"]),
    ("2001:DB8:0::1", ["2001:db8::1"]),  # normalised
    ("[::1]", ["::1"]),
    ("192.0.2.0/30", ["192.0.2.0", "192.0.2.1", "192.0.2.2", "192.0.2.3"]),  # all, as Nmap
    ("192.0.2.5/30", ["192.0.2.4", "192.0.2.5", "192.0.2.6", "192.0.2.7"]),
    ("192.0.2.9/32", ["192.0.2.9"]),
    ("2001:db8::/127", ["2001:db8::", "2001:db8::1"]),
    ("192.0.2.1-3", ["192.0.2.1", "192.0.2.2", "192.0.2.3"]),
    ("192.0.2.1,5,3", ["192.0.2.1", "192.0.2.5", "192.0.2.3"]),
    ("192.0.2.254-", ["192.0.2.254", "192.0.2.255"]),
    ("192.0.2-3.1", ["192.0.2.1", "192.0.3.1"]),
])
def test_address_targets(spec: str, addresses: list[str]) -> None:
    targets = parse_target(spec)
    assert [t.address for t in targets] == addresses
    assert all(t.hostname is None and t.ports is None for t in targets)


def test_wildcards_and_blocks_count() -> None:
    assert len(parse_target("192.0.2.*")) == 256
    assert len(parse_target("2001:db8::/112")) == 65536  # the default bound, reached exactly


@pytest.mark.parametrize("name", ["localhost", "www.example.org", "host_1.example.", "xn--bcher-kva.example", "bücher.example"])
def test_names_stay_names(name: str) -> None:
    assert parse_target(name) == [Target(None, name)]


@pytest.mark.parametrize(("spec", "message"), [
    ("", "empty target"),
    ("192.0.2.300", "'192.0.2.300' is not a valid IPv4 address"),
    ("192.0.2.0/33", "is not a valid address block"),
    ("192.0.2.5-1", "is not a valid address range"),
    ("192.0.2.1-300", "is not a valid address range"),
    ("foo bar", "is not a valid address, address block or host name"),
    ("http://192.0.2.1/", "is not a valid address, address block or host name"),
    ("-bad-.example", "is not a valid address, address block or host name"),
    ("a" * 64 + ".example", "is not a valid address, address block or host name"),
    ("www.example.org/24", "a host name with a prefix length is not supported"),
    ("10.0.0.0/8", "'10.0.0.0/8' gives 16,777,216 addresses, more than the 65,536 allowed"),
    ("2001:db8::/64", "gives 18,446,744,073,709,551,616 addresses"),
    ("192.*.*.*", "gives 16,777,216 addresses"),
])
def test_bad_targets(spec: str, message: str) -> None:
    with pytest.raises(TargetError) as caught:
        parse_target(spec)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_limits() -> None:
    assert len(parse_target("192.0.2.0/24", limit=256)) == 256
    with pytest.raises(TargetError, match="more than the 255 allowed"):
        parse_target("192.0.2.0/24", limit=255)
    assert len(parse_target("198.51.100.0/15", limit=None)) == 131072  # explicitly allowed
    with pytest.raises(TargetError, match="over the 300 allowed in all"):
        parse_targets(["192.0.2.0/24", "198.51.100.0/24"], limit=300)
    assert len(parse_targets(["192.0.2.0/24", "198.51.100.0/24"], limit=512)) == 512


MASSCAN = """#masscan
open tcp 80 192.0.2.7 1690000000
open tcp 22 192.0.2.7 1690000001
banner tcp 80 192.0.2.7 1690000002 http HTTP/1.0 200 OK
closed tcp 23 192.0.2.7 1690000003
open udp 53 192.0.2.8 1690000004
open tcp 443 2001:db8::7 1690000005
# end
"""
NAABU = """{"host":"www.example.org","ip":"192.0.2.9","timestamp":"2024-01-01T00:00:00Z","port":443,"protocol":"tcp","tls":true}
{"ip":"192.0.2.9","port":80,"protocol":"tcp"}
{"ip":"192.0.2.10","port":{"Port":8080,"Protocol":0,"TLS":false}}
{"host":"192.0.2.11","port":53,"protocol":"udp"}
"""


def test_masscan_list_lines() -> None:
    assert read_targets(MASSCAN.splitlines()) == [
        Target("192.0.2.7", ports=PortSpec(tcp=(22, 80))),
        Target("192.0.2.8", ports=PortSpec(udp=(53,))),
        Target("2001:db8::7", ports=PortSpec(tcp=(443,))),
    ]


def test_naabu_json_lines() -> None:
    assert read_targets(NAABU.splitlines()) == [
        Target("192.0.2.9", "www.example.org", PortSpec(tcp=(443,))),
        Target("192.0.2.9", ports=PortSpec(tcp=(80,))),
        Target("192.0.2.10", ports=PortSpec(tcp=(8080,))),
        Target("192.0.2.11", ports=PortSpec(udp=(53,))),
    ]


def test_plain_lines_and_naabu_host_port() -> None:
    lines = ["# targets", "192.0.2.1 192.0.2.2  # two on a line", "", "  localhost",
             "192.0.2.3:8080", "[2001:db8::3]:443", "www.example.org:80", "192.0.2.3:22",
             "2001:db8::4", "192.0.2.12/31"]
    assert read_targets(lines) == [
        Target("192.0.2.1"), Target("192.0.2.2"), Target(None, "localhost"),
        Target("192.0.2.3", ports=PortSpec(tcp=(22, 8080))),
        Target("2001:db8::3", ports=PortSpec(tcp=(443,))),
        Target(None, "www.example.org", PortSpec(tcp=(80,))),
        Target("2001:db8::4"), Target("192.0.2.12"), Target("192.0.2.13"),
    ]


@pytest.mark.parametrize(("line", "message"), [
    ("open tcp 80 not-an-ip 1", "'not-an-ip' is not a valid IP address"),
    ("open tcp 70000 192.0.2.1 1", "port 70000 is out of range"),
    ('{"ip": "192.0.2.1"}', "without a numeric 'port'"),
    ('{"port": 80}', "without 'ip' or 'host'"),
    ('{"ip": "192.0.2.1", "port": 80, "protocol": "sctp"}', "unsupported protocol 'sctp'"),
    ("{not json", "not a JSON line"),
    ("192.0.2.999", "is not a valid IPv4 address"),
])
def test_bad_file_lines(line: str, message: str) -> None:
    with pytest.raises(TargetError) as caught:
        read_targets(["192.0.2.1", line], source="scan.txt")
    assert str(caught.value).startswith("scan.txt:2: ") and message in str(caught.value)


def test_file_limits_count_merged_targets() -> None:
    lines = [f"open tcp 80 192.0.2.{i} 1" for i in range(1, 11)]
    assert len(read_targets(lines, limit=10)) == 10
    with pytest.raises(TargetError, match="more than the 9 targets allowed"):
        read_targets(lines, limit=9)
    with pytest.raises(TargetError, match="over the 300 allowed in all"):
        read_targets(["192.0.2.0/24", "198.51.100.0/24"], limit=300)


def test_target_files(tmp_path: Path) -> None:
    path = tmp_path / "masscan.txt"
    path.write_text(MASSCAN)
    assert len(read_target_file(path)) == 3
    with pytest.raises(TargetError, match=r"cannot read target file .*missing\.txt"):
        read_target_file(tmp_path / "missing.txt")


def test_resolution_of_loopback_names() -> None:
    assert "127.0.0.1" in resolve("localhost")  # /etc/hosts: no query leaves the machine
    target = resolve_target(Target(None, "localhost", PortSpec(tcp=(22,))))
    assert target.address == "127.0.0.1" and target.hostname == "localhost"
    assert target.ports == PortSpec(tcp=(22,)) and target.label == "localhost (127.0.0.1)"
    literal = Target("192.0.2.1")
    assert resolve_target(literal) is literal
    with pytest.raises(TargetError, match=re.escape('Failed to resolve "127.0.0.1"')):
        resolve("127.0.0.1", family=socket.AF_INET6)  # refused locally, no lookup


def test_host_port_targets_on_the_command_line() -> None:
    """``host:port`` as in a target file: the port is scanned on that host only, and the
    specifications of one host merge."""
    from sigscan.scanning.targets import parse_targets

    targets = parse_targets(["192.0.2.7:80", "192.0.2.8", "[2001:db8::1]:443", "192.0.2.7:22",
                             "2001:db8::2"])
    assert [(t.address, t.ports and t.ports.tcp) for t in targets] == [
        ("192.0.2.7", (22, 80)), ("192.0.2.8", None), ("2001:db8::1", (443,)), ("2001:db8::2", None)]
    with pytest.raises(TargetError, match="port 70000 is out of range"):
        parse_targets(["192.0.2.7:70000"])
    with pytest.raises(TargetError, match="--max-addresses"):
        parse_targets(["192.0.2.0/24"], limit=10)


def test_exclusions_are_never_expanded() -> None:
    from sigscan.scanning.targets import Target, exclusion_specs, parse_exclusions

    excluded = parse_exclusions(exclusion_specs("10.0.0.0/8,192.0.2.1-5,198.51.100.*,2001:db8::/32,[::1]"))
    assert "10.200.3.4" in excluded and "192.0.2.5" in excluded and "198.51.100.77" in excluded
    assert "2001:db8:1::9" in excluded and "::1" in excluded
    assert "192.0.2.6" not in excluded and "11.0.0.1" not in excluded and "2001:db9::" not in excluded
    kept = excluded.apply([Target("192.0.2.3"), Target("192.0.2.9"), Target("::1")])
    assert [t.address for t in kept] == ["192.0.2.9"]
    assert "127.0.0.1" in parse_exclusions(["localhost"])  # a name: every address it has
    for bad in ("", "300.1.2.3/8", "192.0.2.0/33"):
        with pytest.raises(TargetError):
            parse_exclusions(exclusion_specs(bad) if bad else [bad])


def test_exclude_file(tmp_path: Path) -> None:
    from sigscan.scanning.targets import read_exclusion_file

    path = tmp_path / "exclude.txt"
    path.write_text("# office\n192.0.2.1 192.0.2.2\t# printers\n\n10.0.0.0/8\n")
    assert read_exclusion_file(path) == ["192.0.2.1", "192.0.2.2", "10.0.0.0/8"]
    with pytest.raises(TargetError, match="cannot read exclude file"):
        read_exclusion_file(tmp_path / "missing")
