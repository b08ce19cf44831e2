"""Nmap's options of a ``-sV`` run, through ``sigscan-nmap``, against the real ``nmap`` run at the
same time on the same loopback servers and the same probe database (``--datadir``): grepable
output, ``-oA``, ``--append-output``, ``--reason``, ``--open``, ``--exclude``/``--excludefile``,
``--host-timeout``, ``-R``, ``-6``, ``-F``, ``-T`` and the refusal of options.

Servers on 127.0.0.1 (127.0.0.2 and 127.0.0.3 have nothing listening: loopback answers with
resets): an SSH banner (matched by the NULL probe), a port that closes at once (tcpwrapped), a
silent one (no match: its ``nmap-services`` name with ``?``), and closed ports, one of them named
in ``nmap-services``."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.output.support import free_ports
from tests.scan.nmapcli import (
    Database,
    blocks,
    both,
    comment_lines,
    console_script,
    database,
    host_lines,
    nmap,
    run,
)
from tests.scan.servers import ServerThread, Stats, banner, ipv6_loopback, server_thread, silent

pytestmark = pytest.mark.real_nmap


async def close_at_once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, stats: Stats) -> None:
    """Accept and close: the NULL probe gets EOF with no byte (tcpwrapped)."""


@dataclass(frozen=True, slots=True)
class Lab:
    db: Database
    script: Path
    ssh: int
    wrapped: int
    quiet: int
    closed: list[int]
    folder: Path

    @property
    def fast_ports(self) -> str:
        """The ports that finish at once (no wait for a silent server)."""
        return ",".join(map(str, sorted([self.ssh, self.wrapped, *self.closed])))


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    nmap()
    folder = tmp_path_factory.mktemp("nmapflags")
    with server_thread() as servers:
        ssh = _serve(servers, banner)
        wrapped = _serve(servers, close_at_once)
        quiet = _serve(servers, silent)
        closed = free_ports(3)
        services = (f"fooserv\t{quiet}/tcp\t0.001\n" f"closedsvc\t{closed[0]}/tcp\t0.001\n")
        db = database(folder, services)
        yield Lab(db, console_script(folder), ssh, wrapped, quiet, closed, folder)


def _serve(servers: ServerThread, handler: object) -> int:
    port, _ = servers.serve(handler)  # type: ignore[arg-type]
    return port


def test_grepable_normal_and_reason_as_nmap(lab: Lab) -> None:
    """One scan with every kind of port: -oG and -oN (with --reason) line for line."""
    ports = f"{lab.fast_ports},{lab.quiet}"
    theirs, ours = both(lab.db, lab.script, ["-sV", "--version-intensity", "0", "-Pn", "-n",
                                             "--reason", "-p", ports, "-oG", "-", "127.0.0.1"])
    assert theirs.returncode == 0 and ours.returncode == 0, ours.stderr
    assert host_lines(ours.stdout) == host_lines(theirs.stdout)
    assert comment_lines(ours.stdout) == comment_lines(theirs.stdout)
    assert f"{lab.quiet}/open/tcp//fooserv?///" in ours.stdout  # a table name, doubtful
    assert f"{lab.wrapped}/open/tcp//tcpwrapped///" in ours.stdout
    normal = lab.folder / "reason"
    theirs, ours = both(lab.db, lab.script, ["-sV", "--version-intensity", "0", "-Pn", "-n",
                                             "--reason", "-p", lab.fast_ports, "127.0.0.1"],
                        ours=["-oN", f"{normal}.ours"], theirs=["-oN", f"{normal}.theirs"])
    assert theirs.returncode == 0 and ours.returncode == 0, ours.stderr
    mine = blocks(Path(f"{normal}.ours").read_text())
    assert mine == blocks(Path(f"{normal}.theirs").read_text())
    assert "REASON" in mine[0][3] and mine[0][1].startswith("Host is up, received user-set")


def test_open_shows_open_ports_and_hosts_that_have_them(lab: Lab) -> None:
    base = lab.folder / "open"
    theirs, ours = both(lab.db, lab.script,
                        ["-sV", "-Pn", "-n", "--open", "-p", lab.fast_ports, "127.0.0.1", "127.0.0.2"],
                        ours=["-oA", f"{base}.ours", "-oJ", f"{base}.ndjson"],
                        theirs=["-oA", f"{base}.theirs"])
    assert theirs.returncode == 0 and ours.returncode == 0, ours.stderr
    records = [json.loads(line) for line in Path(f"{base}.ndjson").read_text().splitlines()]
    assert sorted((r["host"], r["port"], r["state"]) for r in records) == sorted([
        ("127.0.0.1", lab.ssh, "open"), ("127.0.0.1", lab.wrapped, "open")])  # NDJSON: --open too
    for kind in ("nmap", "gnmap", "xml"):
        assert Path(f"{base}.ours.{kind}").is_file()  # -oA: Nmap's three names
    assert blocks(Path(f"{base}.ours.nmap").read_text()) == blocks(Path(f"{base}.theirs.nmap").read_text())
    assert host_lines(Path(f"{base}.ours.gnmap").read_text()) == host_lines(Path(f"{base}.theirs.gnmap").read_text())
    assert _xml_hosts(Path(f"{base}.ours.xml")) == _xml_hosts(Path(f"{base}.theirs.xml"))
    assert "127.0.0.2" not in ours.stdout and "Not shown: 3 closed tcp ports" in ours.stdout


def _xml_hosts(path: Path) -> list[tuple[str, list[tuple[str, str, str]], list[tuple[str, str]]]]:
    """Per host: its address, its listed ports (id, state, service name), its extraports."""
    root = ET.parse(path).getroot()
    out = []
    for host in root.iter("host"):
        address = host.find("address")
        assert address is not None
        ports = [(p.get("portid", ""), _attr(p, "state", "state"), _attr(p, "service", "name"))
                 for p in host.iter("port")]
        extra = [(e.get("state", ""), e.get("count", "")) for e in host.iter("extraports")]
        out.append((address.get("addr", ""), ports, extra))
    hosts = root.find("runstats/hosts")
    assert hosts is not None
    out.append(("runstats", [], [(hosts.get("up", ""), hosts.get("total", ""))]))
    return out


def _attr(element: ET.Element, child: str, name: str) -> str:
    found = element.find(child)
    return "" if found is None else found.get(name, "")


def test_append_output_adds_a_scan_to_each_file(lab: Lab) -> None:
    base = lab.folder / "append"
    for _ in range(2):
        theirs, ours = both(lab.db, lab.script, ["-Pn", "-n", "--append-output", "-p", str(lab.closed[1]),
                                                 "127.0.0.1"],
                            ours=["-oA", f"{base}.ours"], theirs=["-oA", f"{base}.theirs"])
        assert theirs.returncode == 0 and ours.returncode == 0, ours.stderr
    for kind, mark in (("nmap", "scan initiated"), ("gnmap", "scan initiated"), ("xml", "<?xml ")):
        mine, nmaps = (Path(f"{base}.{who}.{kind}").read_text() for who in ("ours", "theirs"))
        assert mine.count(mark) == nmaps.count(mark) == 2, kind  # XML: two documents, as Nmap
    assert sorted(p.name for p in lab.folder.glob("append.ours*")) == [
        "append.ours.gnmap", "append.ours.nmap", "append.ours.xml"]  # no temporary file left


def test_exclude_and_excludefile(lab: Lab) -> None:
    excluded = lab.folder / "exclude.txt"
    excluded.write_text("# not this one\n127.0.0.3  # nor this\n")
    args = ["-Pn", "-n", "-p", str(lab.closed[1]), "--exclude", "127.0.0.2,127.0.0.9",
            "--excludefile", excluded, "-oG", "-", "127.0.0.1-3"]
    theirs, ours = both(lab.db, lab.script, args)
    assert theirs.returncode == 0 and ours.returncode == 0, ours.stderr
    assert host_lines(ours.stdout) == host_lines(theirs.stdout)
    assert [line.split()[1] for line in host_lines(ours.stdout)] == ["127.0.0.1", "127.0.0.1"]


def test_every_target_excluded_and_fast_ports(lab: Lab, tmp_path: Path) -> None:
    """-F against the real nmap-services (no host is scanned: every target is excluded, and
    both say so and still write the ports they would have scanned)."""
    real = database(tmp_path, Path("/usr/share/nmap/nmap-services").read_text())
    theirs, ours = both(real, lab.script, ["-sU", "-sV", "-Pn", "-n", "-F", "--exclude", "127.0.0.1",
                                          "-oX", "-", "127.0.0.1"])
    assert theirs.returncode == 0 and ours.returncode == 0, ours.stderr
    assert _scaninfo(ours.stdout) == _scaninfo(theirs.stdout)
    assert [len(ports.split(",")) > 1 for _, ports in _scaninfo(ours.stdout)] == [True, True]
    warning = "WARNING: No targets were specified, so 0 hosts scanned."
    assert warning in theirs.stdout + theirs.stderr and ours.stderr.strip() == warning
    assert _xml_hosts_total(ours.stdout) == "0"


def _scaninfo(xml: str) -> list[tuple[str, str]]:
    root = ET.fromstring(xml[:xml.index("<verbose")] + "</nmaprun>")
    return [(s.get("protocol", ""), s.get("services", "")) for s in root.iter("scaninfo")]


def _xml_hosts_total(xml: str) -> str:
    hosts = ET.fromstring(xml).find("runstats/hosts")
    assert hosts is not None
    return hosts.get("total", "")


def test_host_timeout_reports_the_host_as_nmap(lab: Lab) -> None:
    base = lab.folder / "timeout"
    args = ["-sV", "-Pn", "-n", "--host-timeout", "2s", "-p", f"{lab.ssh},{lab.quiet}", "127.0.0.1"]
    theirs, ours = both(lab.db, lab.script, args, ours=["-oA", f"{base}.ours"],
                        theirs=["-oA", f"{base}.theirs"])
    assert theirs.returncode == 0 and ours.returncode == 0, ours.stderr
    mine = blocks(Path(f"{base}.ours.nmap").read_text())
    assert mine == blocks(Path(f"{base}.theirs.nmap").read_text())
    assert mine[0][-1] == "Skipping host 127.0.0.1 due to host timeout"
    assert host_lines(Path(f"{base}.ours.gnmap").read_text()) == host_lines(Path(f"{base}.theirs.gnmap").read_text())
    for who in ("ours", "theirs"):
        host = ET.parse(f"{base}.{who}.xml").getroot().find("host")
        assert host is not None and host.get("timedout") == "true" and host.find("ports") is None


def test_reverse_dns_for_all(lab: Lab) -> None:
    """-R: the name of 127.0.0.1 (/etc/hosts), in the report line and the grepable output;
    Nmap is pointed at 127.0.0.1 for DNS so that nothing leaves the machine."""
    args = ["-Pn", "-R", "-p", str(lab.closed[1]), "-oG", "-", "127.0.0.1"]
    theirs, ours = both(lab.db, lab.script, args, theirs=["--dns-servers", "127.0.0.1"])
    assert theirs.returncode == 0 and ours.returncode == 0, ours.stderr
    assert host_lines(ours.stdout) == host_lines(theirs.stdout)
    assert host_lines(ours.stdout)[0].startswith("Host: 127.0.0.1 (localhost)")


def test_ipv6(lab: Lab) -> None:
    if not ipv6_loopback():
        pytest.skip("this machine has no IPv6 loopback (::1 cannot be bound)")
    with server_thread() as servers:
        port, _ = servers.serve(banner, host="::1")
        closed = _free_v6_port()
        args = ["-6", "-sV", "-Pn", "-n", "-p", f"{port},{closed}", "-oG", "-", "::1"]
        theirs, ours = both(lab.db, lab.script, args)
    assert theirs.returncode == 0 and ours.returncode == 0, ours.stderr
    assert host_lines(ours.stdout) == host_lines(theirs.stdout)
    refused = run([lab.script, "-6", "-p", "80", "--bundle", lab.db.bundle, "127.0.0.1"])
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1
    assert "127.0.0.1 is an IPv4 address" in refused.stderr


def _free_v6_port() -> int:
    with socket.socket(socket.AF_INET6) as sock:
        sock.bind(("::1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("template", [["-T4"], ["-T5"], ["-Taggressive"], ["-T", "insane"], ["-T2"]])
def test_timing_templates_are_taken_as_nmap_takes_them(lab: Lab, template: list[str]) -> None:
    ports = lab.fast_ports if template != ["-T2"] else str(lab.closed[1])  # -T2: 0.4 s apart
    theirs, ours = both(lab.db, lab.script, ["-sV", "-Pn", "-n", *template, "-p", ports,
                                             "-oG", "-", "127.0.0.1"])
    assert theirs.returncode == 0 and ours.returncode == 0, ours.stderr
    assert host_lines(ours.stdout) == host_lines(theirs.stdout)


@pytest.mark.parametrize(("args", "named"), [
    (["--foo"], "--foo"),
    (["-T9"], "-T"),
    (["--min-rate", "0"], "--min-rate"),
    (["--host-timeout", "soon"], "--host-timeout"),
])
def test_bad_options_are_refused_by_both(lab: Lab, args: list[str], named: str) -> None:
    theirs, ours = both(lab.db, lab.script, ["-Pn", "-n", "-p", str(lab.closed[1]), *args, "127.0.0.1"])
    assert theirs.returncode != 0 and named in theirs.stdout + theirs.stderr
    assert ours.returncode == 2 and ours.stdout == "" and named in ours.stderr
    assert "Traceback" not in ours.stderr


@pytest.mark.parametrize(("args", "named"), [
    (["-sS"], "-sS"), (["-sSV"], "-sS"), (["-O"], "-O"), (["-A"], "-A"),
    (["--script", "http-title"], "--script"), (["--script=banner"], "--script"), (["-sC"], "-sC"),
    (["-PS22,80"], "-PS"), (["--datadir", "/tmp"], "--datadir"),
])
def test_options_sigscan_does_not_implement_are_refused_in_one_line(
        lab: Lab, args: list[str], named: str) -> None:
    ours = run([lab.script, "-p", "80", "--bundle", lab.db.bundle, *args, "127.0.0.1"])
    assert ours.returncode == 2 and ours.stdout == ""
    assert ours.stderr.count("\n") == 1 and re.match(rf"sigscan: error: {re.escape(named)}: ", ours.stderr)


def test_usage_errors_print_the_scan_usage(lab: Lab) -> None:
    ours = run([lab.script, "127.0.0.1", "-p"])
    assert ours.returncode == 2 and ours.stderr.startswith("usage: sigscan scan ")
    assert "-p: expected one argument" in ours.stderr


def test_combined_scan_types_and_host_port_targets(lab: Lab) -> None:
    """``-sTV`` as Nmap reads it; ``host:port`` on the command line scans that port only."""
    ours = run([lab.script, "-sTV", "-Pn", "--bundle", lab.db.bundle, "-oG", "-",
                f"127.0.0.1:{lab.ssh}", f"127.0.0.1:{lab.closed[1]}"])
    assert ours.returncode == 0, ours.stderr
    [_status, ports] = host_lines(ours.stdout)
    entries = {lab.ssh: f"{lab.ssh}/open/tcp//ssh//OpenSSH 9.2p1 Debian 2+deb12u2 (protocol 2.0)/",
               lab.closed[1]: f"{lab.closed[1]}/closed/tcp/////"}
    assert ports.split("\t")[1] == "Ports: " + ", ".join(entries[p] for p in sorted(entries))


def test_the_address_limit_names_the_option_that_lifts_it(lab: Lab) -> None:
    refused = run([lab.script, "-p", "80", "--bundle", lab.db.bundle, "127.0.0.0/15"])
    assert refused.returncode == 2 and "--max-addresses" in refused.stderr
    lifted = run([lab.script, "-p", "80", "--bundle", lab.db.bundle, "--max-addresses", "131072",
                  "--exclude", "127.0.0.0/8", "127.0.0.0/15"])  # every address excluded: no traffic
    assert lifted.returncode == 0, lifted.stderr
    assert "0 IP addresses (0 hosts up)" in lifted.stdout
