"""The service harness itself: every daemon up, bound on loopback only, in a namespace with no
other interface; and the real ``nmap -sV`` names each service as these daemons are known to it."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from tests.services.daemons import ENDPOINTS, Endpoint, package_version
from tests.services.harness import Harness, RunInHarness
from tests.services.netns import host_listeners
from tests.services.nmap_reference import Reference


def upstream_version(package: str) -> str:
    """The installed package's upstream version: ``1:9.2p1-2+deb12u10`` -> ``9.2p1``."""
    full = debian_version(package)
    return full.rpartition("-")[0] if "-" in full else full


def debian_version(package: str) -> str:
    """The version of the package the harness runs (the machine's or the privately unpacked
    one) without its epoch: ``9.2p1-2+deb12u10``."""
    full = package_version(package)
    return full.partition(":")[2] or full


def openssh_version() -> str:
    """OpenSSH's banner ``OpenSSH_9.2p1 Debian-2+deb12u10`` as Nmap reports its version."""
    upstream, _, revision = debian_version("openssh-server").rpartition("-")
    return f"{upstream} Debian {revision}"


@dataclass(frozen=True)
class Expected:
    """What Nmap is known to say about the daemon: its service name and tunnel exactly; product,
    version and extrainfo as regular expressions where they are stable."""

    daemon: str
    name: str
    tunnel: str = ""
    product: str | None = None
    version_of: str | None = None  # a Debian package whose upstream version Nmap must report
    extrainfo: str | None = None
    method: str = "probed"  # "table": no probe line knows the daemon (name from nmap-services)
    name_version_of: str | None = None  # a package whose upstream version ends the name


def expected_name(expected: Expected) -> str:
    """The service name Nmap must give: mqtt-subscribe makes it the broker's version string."""
    if expected.name_version_of is None:
        return expected.name
    return f"{expected.name} {upstream_version(expected.name_version_of)}"


EXPECTED: dict[str, Expected] = {
    "ssh": Expected("sshd", "ssh", product=r"OpenSSH", extrainfo=r"protocol 2\.0"),
    "http": Expected("nginx", "http", product=r"nginx", version_of="nginx"),
    "https": Expected("nginx", "http", tunnel="ssl", product=r"nginx", version_of="nginx"),
    "smtp": Expected("postfix", "smtp", product=r"Postfix smtpd"),
    "smtps-stunnel": Expected("stunnel", "smtp", tunnel="ssl", product=r"Postfix smtpd"),
    "ftp": Expected("vsftpd", "ftp", product=r"vsftpd", version_of="vsftpd"),
    "redis": Expected("redis", "redis", product=r"Redis", version_of="redis-server"),
    "dns-tcp": Expected("dnsmasq", "domain", product=r"dnsmasq", version_of="dnsmasq-base"),
    "dns-udp": Expected("dnsmasq", "domain", product=r"dnsmasq", version_of="dnsmasq-base"),
    "memcached": Expected("memcached", "memcached", product=r"Memcached", version_of="memcached"),
    "rpcbind-tcp": Expected("rpcbind", "rpcbind", extrainfo=r"RPC #100000"),
    "rpcbind-udp": Expected("rpcbind", "rpcbind", extrainfo=r"RPC #100000"),
    "snmp": Expected("snmpd", "snmp", product=r"net-snmp"),
    "stun": Expected("coturn", "stun", product=r"^Coturn-"),
    "ike": Expected("charon", "isakmp", product=r"^strongSwan$"),
    "pptp": Expected("pptpd", "pptp", product=r"^linux$"),
    "murmur-tcp": Expected("murmurd", "murmur", product=r"^Murmur$", version_of="mumble-server",
                           extrainfo=r"^control port; users: \d+"),
    "murmur-udp": Expected("murmurd", "murmur", product=r"^Murmur$", version_of="mumble-server",
                           extrainfo=r"^voice port; users: \d+"),
    "https-redirect": Expected("nginx", "http", tunnel="ssl", product=r"nginx", version_of="nginx"),
    "mqtt": Expected("mosquitto", "mosquitto version", name_version_of="mosquitto"),
    "amqp": Expected("rabbitmq", "amqp", product=r"^RabbitMQ$", version_of="rabbitmq-server",
                     extrainfo=r"^0-9$"),
    "xmpp-client": Expected("prosody", "xmpp-client", method="table"),
    "xmpp-server": Expected("prosody", "xmpp-server", method="table"),
    "time-tcp": Expected("xinetd", "time", extrainfo=r"^32 bits$"),
    "time-udp": Expected("xinetd", "time", extrainfo=r"^32 bits$"),
}


def key(endpoint: Endpoint) -> str:
    return endpoint.key


def test_every_endpoint_has_an_expectation() -> None:
    assert sorted(EXPECTED) == sorted(e.key for e in ENDPOINTS)


def test_every_daemon_runs(harness: Harness) -> None:
    assert sorted(harness.running) == sorted({x.daemon for x in EXPECTED.values()})
    assert harness.dead() == {}


def test_each_endpoint_is_bound_by_its_daemon(harness: Harness) -> None:
    listeners = harness.listeners()
    owners = {e.key: harness.owner(e, listeners) for e in ENDPOINTS}
    assert owners == {k: x.daemon for k, x in EXPECTED.items()}


def test_nothing_listens_off_loopback(harness: Harness) -> None:
    listeners = harness.listeners()
    assert {(x.proto, x.port) for x in listeners} >= {(e.proto, e.port) for e in ENDPOINTS}
    assert [x for x in listeners if not x.loopback] == []
    assert harness.namespace.interfaces() == ["lo"]
    # and none of the daemons' processes has a socket bound in the machine's own namespace
    ours = harness.daemon_pids()
    assert [x for x in host_listeners() if x.pids & ours] == []


def test_run_in_harness_reaches_the_daemons(run_in_harness: RunInHarness) -> None:
    result = run_in_harness(["ss", "-ltnH", "sport = :2222"], timeout=10)
    assert result.returncode == 0
    assert b"127.0.0.1:2222" in result.stdout


# endpoint key -> the version-category NSE script that rewrites Nmap's probe-and-match verdict
NSE_REWRITES = {"rpcbind-tcp": "rpcinfo", "rpcbind-udp": "rpcinfo", "snmp": "snmp-info",
                "stun": "stun-version", "ike": "ike-version", "pptp": "pptp-version",
                "murmur-tcp": "murmur-version", "murmur-udp": "murmur-version",
                "https-redirect": "https-redirect",
                "mqtt": "mqtt-subscribe", "amqp": "amqp-info"}


def test_nmap_ran_once_per_protocol_with_and_without_version_scripts(nmap_reference: Reference) -> None:
    """Per protocol: with the version scripts (their outputs printed), and without."""
    assert sorted(("-sU" in run.argv, run.scripts, run.outputs) for run in nmap_reference.runs) == [
        (False, False, False), (False, True, True), (True, False, False), (True, True, True)]
    assert all(("--script" in run.argv) == run.outputs for run in nmap_reference.runs)
    every = {(e.proto, e.port) for e in ENDPOINTS}
    assert every <= set(nmap_reference.verdicts)
    assert every <= set(nmap_reference.probe_verdicts)
    assert every <= set(nmap_reference.outputs)


def test_version_scripts_rewrite_only_the_known_ports(nmap_reference: Reference) -> None:
    rewritten = {e.key for e in ENDPOINTS
                 if nmap_reference.verdicts[(e.proto, e.port)].normalized()
                 != nmap_reference.probe_verdicts[(e.proto, e.port)].normalized()}
    assert rewritten == set(NSE_REWRITES)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=key)
def test_nmap_identifies(endpoint: Endpoint, nmap_reference: Reference) -> None:
    verdict = nmap_reference.verdicts[(endpoint.proto, endpoint.port)]
    expected = EXPECTED[endpoint.key]
    assert verdict.state == "open"
    assert (verdict.name, verdict.tunnel) == (expected_name(expected), expected.tunnel), verdict.summary()
    assert verdict.method == expected.method, verdict.summary()
    if expected.product is not None:
        assert re.search(expected.product, verdict.product), verdict.summary()
    if expected.extrainfo is not None:
        assert re.search(expected.extrainfo, verdict.extrainfo), verdict.summary()
    if expected.version_of is not None:
        assert verdict.version == upstream_version(expected.version_of), verdict.summary()
    if endpoint.key == "ssh":
        assert verdict.version == openssh_version(), verdict.summary()

