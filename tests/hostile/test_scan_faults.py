"""``sigscan scan`` meeting faults of the machine and the network: parallelism far beyond the
ports, too few file descriptors, ports that reset at once, a loaded machine. Every requested port
must appear exactly once in every output, with the verdict Nmap gives, and no traceback."""

from __future__ import annotations

import json
import os
import re
import resource
import select
import shutil
import socket
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter
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
FD_LIMIT = 48
FD_PORTS = 64
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
def bundle_path(nmaplike_built: dict[str, Path]) -> Path:
    """tests/data/engine.probes: an ssh line and ports no probe lists are all these tests need;
    the comparisons with nmap -sT are of port states, which no database changes."""
    return nmaplike_built["db"]


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


def text_ports(text: str) -> Counter[int]:
    return Counter(int(m) for m in re.findall(r"^(\d+)/tcp ", text, re.M))


def scan_with_fd_limit(ports: list[int], limit: int, profile: str, bundle_path: Path,
                       tmp_path: Path) -> tuple[dict[str, Counter[int]], list[dict[str, object]], str]:
    """A scan of PORTS under RLIMIT_NOFILE LIMIT with every output: the ports each output holds,
    the NDJSON records, and stderr."""
    files = {kind: tmp_path / f"out.{kind}" for kind in ("txt", "xml", "ndjson")}
    outcome = run_bounded("sigscan", "scan", "127.0.0.1", "-p", ",".join(map(str, ports)), "-v",
                          "--bundle", str(bundle_path), "--profile", profile,
                          "-oN", str(files["txt"]), "-oX", str(files["xml"]),
                          "-oJ", str(files["ndjson"]), timeout=120, codes={0},
                          rlimits={resource.RLIMIT_NOFILE: limit})
    records = [json.loads(line) for line in files["ndjson"].read_text().splitlines()]
    found = {"stdout": text_ports(outcome.out), "-oN": text_ports(files["txt"].read_text()),
             "-oX": Counter(port for _, port in states(files["xml"].read_text())),
             "-oJ": Counter(int(r["port"]) for r in records)}
    return found, records, outcome.err


@pytest.mark.parametrize("profile", ["nmap", "fast"])
def test_few_file_descriptors_lose_no_port(catalog: Catalog, servers: ServerThread, bundle_path: Path,
                                           tmp_path: Path, profile: str) -> None:
    """64 open ports under a limit of 48 descriptors: the scan used to die with an ExceptionGroup
    and write none. Its parallelism now fits the limit, and -v says so."""
    ports = [servers.serve(banner, unlisted_port(catalog))[0] for _ in range(FD_PORTS)]
    found, records, err = scan_with_fd_limit(ports, FD_LIMIT, profile, bundle_path, tmp_path)
    for output, counted in found.items():
        assert counted == Counter(ports), output
    assert {(r["state"], r["name"]) for r in records} == {("open", "ssh")}
    sized = re.search(rf"RLIMIT_NOFILE {FD_LIMIT} with (\d+) descriptors open: (\d+) connects and "
                      r"(\d+) ports in detection at once", err)
    assert sized is not None, err
    used, connects, detecting = map(int, sized.groups())
    per_port = 2 if profile == "fast" else 1
    assert connects + per_port * detecting <= FD_LIMIT - used


# Runs under a small RLIMIT_NOFILE: fills every free descriptor, frees one 0.3 s later, and
# meanwhile asks discovery, then a detection connection, for a socket to a listening port.
WAIT_FOR_A_SOCKET = """
import asyncio, os, socket
from sigscan.net.discovery import probe_port
from sigscan.engine.events import Proto
from sigscan.net.transport import Endpoint, Network

def fill():
    fillers = []
    while True:
        try:
            fillers.append(os.open(os.devnull, os.O_RDONLY))
        except OSError:  # EMFILE: not one descriptor left
            return fillers

async def main():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    port = listener.getsockname()[1]
    loop = asyncio.get_running_loop()
    loop.call_later(0.3, os.close, fill()[-1])
    status = await probe_port("127.0.0.1", port)
    print("discovery", status.state.value, status.reason)
    loop.call_later(0.3, os.close, fill()[-1])
    events = []
    conn = Network().connection(0, Endpoint("127.0.0.1", port, Proto.TCP), False, events.append)
    await conn.open(loop.time() + 5)
    print("detection", type(events[0]).__name__)
    conn.close()

asyncio.run(main())
"""


def test_a_socket_that_cannot_be_had_now_is_waited_for() -> None:
    """Out of descriptors (EMFILE) while a socket is wanted: discovery used to stop the whole scan
    and a detection connect to fail the port. Both now wait until a descriptor is free."""
    done = subprocess.run([sys.executable, "-c", WAIT_FOR_A_SOCKET], capture_output=True, text=True,
                          timeout=30, check=False, preexec_fn=lambda: resource.setrlimit(
                              resource.RLIMIT_NOFILE, (64, resource.getrlimit(resource.RLIMIT_NOFILE)[1])))
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.splitlines() == ["discovery open syn-ack", "detection Connected"]


def test_a_limit_that_leaves_two_sockets_loses_no_port(catalog: Catalog, servers: ServerThread,
                                                       bundle_path: Path, tmp_path: Path) -> None:
    """Fewer descriptors than discovery and one fast port need at once, so sockets run out again
    and again: no port is lost and no verdict changes."""
    ports = [servers.serve(banner, unlisted_port(catalog))[0] for _ in range(16)]
    (tmp_path / "probe").mkdir()
    _, _, err = scan_with_fd_limit(ports[:1], FD_LIMIT, "fast", bundle_path, tmp_path / "probe")
    used = re.search(r"with (\d+) descriptors open", err)
    assert used is not None, err
    found, records, _ = scan_with_fd_limit(ports, int(used.group(1)) + 2, "fast", bundle_path, tmp_path)
    for output, counted in found.items():
        assert counted == Counter(ports), output
    assert {(r["state"], r["name"]) for r in records} == {("open", "ssh")}


def _closed_udp_ports(count: int) -> list[int]:
    """COUNT loopback UDP ports nothing listens on now (bound, then let go)."""
    found: list[int] = []
    while len(found) < count:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind(("127.0.0.1", 0))
            found.append(probe.getsockname()[1])
    return sorted(set(found))


@pytest.mark.real_nmap
def test_closed_udp_ports_are_closed_port_unreach_as_nmap_says(bundle_path: Path, tmp_path: Path) -> None:
    """ICMP port unreachable (ECONNREFUSED on the connected socket) makes a UDP port closed,
    reason port-unreach, as ``nmap -sU`` says; they used to end open|filtered and tcpwrapped.
    A bound socket that never answers stays open|filtered in both (issue 14, item 1)."""
    if os.geteuid() != 0:
        pytest.skip("nmap -sU needs root for its raw sockets")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        ports = [*_closed_udp_ports(6), silent.getsockname()[1]]
        out = tmp_path / "out.xml"
        run_bounded("sigscan", "scan", "127.0.0.1", "-sU", "-p", ",".join(map(str, ports)),
                    "--bundle", str(bundle_path), "--intensity", "2", "-oX", str(out),
                    timeout=120, codes={0})
        ours = states(out.read_text())
        done = subprocess.run([NMAP, "-sU", "-Pn", "-n", "--reason", "-oX", "-", "-p",
                               ",".join(map(str, ports)), "127.0.0.1"],
                              capture_output=True, timeout=120, check=True)
        theirs = states(done.stdout)
    assert ours == theirs
    assert Counter(ours.values()) == {("closed", "port-unreach"): len(ports) - 1,
                                      ("open|filtered", "no-response"): 1}
