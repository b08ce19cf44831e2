"""``sigscan scan`` meeting faults of the machine and the network: parallelism far beyond the
ports, too few file descriptors, ports that reset at once, a loaded machine. Every requested port
must appear exactly once in every output, with the verdict Nmap gives, and no traceback."""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sigscan.bundle.loader import open_bundle
from sigscan.engine import Catalog
from tests.hostile.icmp_answers import ANSWERS
from tests.hostile.support import run_bounded
from tests.scan.servers import ResetListeners, ServerThread, banner, server_thread, unlisted_port
from tests.services.netns import IP, Namespace, NamespaceError

HUGE_PARALLEL = 100_000
NMAP = "/usr/bin/nmap"
RESET_PORTS = 100
ROOT = Path(__file__).resolve().parents[2]
# Inside the test's own namespace: ICMP_TARGET is routed to the TUN device of icmp_answers, the
# others to a route type whose connect fails at once with the errno in the comment.
ICMP_TARGET = "10.6.0.1"
ROUTES = {"10.7.0.1": "blackhole",  # EINVAL: no errno Nmap knows
          "10.8.0.1": "prohibit",  # EACCES
          "10.9.0.1": "unreachable"}  # EHOSTUNREACH
# Nmap 7.93 logs a "strange read error" for these ICMP answers, then reports open/syn-ack for a
# port that never answered; sigscan says what the ICMP message said (docs/scan.md).
NMAP_QUIRKS = {1006: ("filtered", "dest-unreach"),  # source route failed: EOPNOTSUPP
               1021: ("filtered", "param-problem")}  # parameter problem: EPROTO


@pytest.fixture(scope="module")
def bundle_path(built: dict[tuple[str, str], Path]) -> Path:
    return built[("7.93", "db")]


@pytest.fixture(scope="module")
def catalog(bundle_path: Path) -> Iterator[Catalog]:
    with open_bundle(bundle_path) as bundle:
        yield Catalog.from_bundle(bundle)


@pytest.fixture
def servers() -> Iterator[ServerThread]:
    with server_thread() as running:
        yield running


Verdicts = dict[tuple[str, int], tuple[str, str]]


def states(xml: bytes | str) -> Verdicts:
    """(address, port) → (state, reason) of an Nmap or sigscan XML document: every ``<port>``,
    and the ports ``<extraports>`` groups by reason."""
    found = {}
    for host in ET.fromstring(xml).iter("host"):
        address = host.find("address")
        assert address is not None
        where = address.attrib["addr"]
        for port in host.iter("port"):
            state = port.find("state")
            assert state is not None
            found[where, int(port.attrib["portid"])] = (state.attrib["state"], state.attrib["reason"])
        for extra in host.iter("extraports"):
            for reasons in extra.iter("extrareasons"):
                for part in reasons.attrib["ports"].split(","):
                    low, _, high = part.partition("-")
                    for port_id in range(int(low), int(high or low) + 1):
                        found[where, port_id] = (extra.attrib["state"], reasons.attrib["reason"])
    return found


@pytest.fixture
def icmp_namespace() -> Iterator[Namespace]:
    """A namespace of our own where ICMP_TARGET answers SYNs with ICMP errors (icmp_answers) and
    the ROUTES fail connects at once."""
    if os.geteuid() != 0:
        pytest.skip("needs root: network namespaces and a TUN device")
    if not os.path.exists("/dev/net/tun") or not os.path.exists(IP):
        pytest.skip("needs /dev/net/tun and iproute2")
    try:
        namespace = Namespace.create("sigscan-icmp")
    except NamespaceError as error:
        pytest.skip(f"no network namespace: {error}")
    argv = namespace.argv([sys.executable, "-m", "tests.hostile.icmp_answers", "tun0", "120"])
    try:
        with subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE) as router:
            try:
                assert router.stdout is not None
                assert select.select([router.stdout], [], [], 10)[0], "the ICMP router did not start"
                assert router.stdout.readline() == b"ready\n"
                for command in (["addr", "add", "10.6.0.2/24", "dev", "tun0"],
                                ["link", "set", "tun0", "up"],
                                *(["route", "add", kind, f"{target}/32"]
                                  for target, kind in ROUTES.items())):
                    subprocess.run([IP, "-n", namespace.name, *command], check=True, timeout=10)
                yield namespace
            finally:
                router.kill()
    finally:
        namespace.delete()


def nmap_connect_scan(ports: list[int], targets: list[str],
                      wrap: Callable[[list[str]], list[str]] = list) -> Verdicts:
    """What ``nmap -sT --reason`` says of PORTS on TARGETS (WRAP puts the command where they are)."""
    if shutil.which(NMAP) is None:
        pytest.skip(f"{NMAP} is missing (apt-get install nmap)")
    argv = wrap([NMAP, "-sT", "-Pn", "-n", "--reason", "-oX", "-",
                 "-p", ",".join(map(str, ports)), *targets])
    done = subprocess.run(argv, capture_output=True, timeout=120, check=True)
    return states(done.stdout)


def test_max_parallel_far_beyond_the_ports_costs_nothing(
        catalog: Catalog, servers: ServerThread, bundle_path: Path, tmp_path: Path) -> None:
    """Every queue event used to wake every worker: 100,000 workers over one port did not end
    in a minute. Now tasks follow the ports in flight."""
    port, _ = servers.serve(banner, unlisted_port(catalog))
    out = tmp_path / "out.ndjson"
    run_bounded("sigscan", "scan", "127.0.0.1", "-p", str(port), "--bundle", str(bundle_path),
                "--max-parallel", str(HUGE_PARALLEL), "-oJ", str(out), timeout=30, codes={0})
    (line,) = out.read_text().splitlines()
    assert json.loads(line)["name"] == "ssh"


@pytest.mark.real_nmap
def test_ports_that_reset_at_once_are_open_as_nmap_says(bundle_path: Path, tmp_path: Path) -> None:
    """A server that accepts and resets at once: the reset often reaches the client before its
    event loop looks at the connect, which then fails with ECONNRESET. The handshake did complete;
    Nmap reports such ports open/syn-ack. They used to become filtered/no-response."""
    listeners = ResetListeners(RESET_PORTS)
    try:
        out = tmp_path / "out.xml"
        run_bounded("sigscan", "scan", "127.0.0.1", "-p", ",".join(map(str, listeners.ports)),
                    "--bundle", str(bundle_path), "--intensity", "0", "-oX", str(out),
                    timeout=60, codes={0})
        ours = states(out.read_text())
        theirs = nmap_connect_scan(listeners.ports, ["127.0.0.1"])
    finally:
        listeners.close()
    assert set(ours) == set(theirs) == {("127.0.0.1", port) for port in listeners.ports}
    assert ours == theirs
    assert set(ours.values()) == {("open", "syn-ack")}


@pytest.mark.real_nmap
def test_every_connect_errno_gives_nmaps_state_and_reason(
        icmp_namespace: Namespace, bundle_path: Path, tmp_path: Path) -> None:
    """Each ICMP error a router can send, and each route type, against nmap -sT on the same
    ports: the same state and reason, except the two documented NMAP_QUIRKS. An errno Nmap
    does not know (EINVAL) is filtered/no-response after retries, and -v says it."""
    ports = sorted(ANSWERS)
    targets = [ICMP_TARGET, *ROUTES]
    out = tmp_path / "out.xml"
    done = icmp_namespace.run([sys.executable, "-m", "sigscan", "scan", "-v", "-p",
                               ",".join(map(str, ports)), *targets, "--bundle", str(bundle_path),
                               "-oX", str(out)], timeout=60)
    assert done.returncode == 0 and b"Traceback" not in done.stderr, done.stderr.decode()[-2000:]
    ours = states(out.read_text())
    theirs = nmap_connect_scan(ports, targets, icmp_namespace.argv)
    assert set(ours) == set(theirs) == {(t, p) for t in targets for p in ports}
    for (target, port), verdict in theirs.items():
        if target == ICMP_TARGET and port in NMAP_QUIRKS:
            assert verdict == ("open", "syn-ack")
            assert ours[target, port] == NMAP_QUIRKS[port]
        else:
            assert ours[target, port] == verdict, (target, port)
    notes = [line for line in done.stderr.decode().splitlines() if "connect failed 3 times" in line]
    assert len(notes) == len(ports) and all("10.7.0.1" in n and "EINVAL" in n for n in notes)
