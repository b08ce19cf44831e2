"""Issue 4, acceptance 2: on each real daemon of the harness, ``sigscan scan`` (profiles ``nmap``
and ``fast``) gives the same ``name``, ``product``, ``version``, ``extrainfo`` and ``tunnel`` as
the real ``nmap -sV`` run in the same session.

Where one of Nmap's version-category NSE scripts rewrites the verdict of the probes file and
sigscan does not do what that script does, the comparison is with Nmap's probe-and-match verdict
(the same scan with those scripts off) and the script is named in ``WITHOUT_NSE``, as
nmap-semantics.md §12 asks. rpcbind, coturn, strongSwan, murmurd, Mosquitto, RabbitMQ,
Prosody, xinetd's Time and snmpd are not there: sigscan's plugins (``rpc-grind``, ``rpcinfo``,
``stun-version``, ``ike-version``, ``murmur-version``, ``mqtt-subscribe``, ``amqp-info``,
``xmpp-info``, ``rfc868-time``, ``snmp-info``) do what those scripts do, so they are compared
with plain ``nmap -sV``.

The plugins' output is compared too: on every port, each script a sigscan plugin mirrors prints
in ``sigscan scan --plugin-output`` what it prints in ``nmap -sV --script version``.

The scans are run by :mod:`tests.services.sigscan_runs`, in the background from the start of
the session; each test compares one of them with Nmap's verdict for the same port.
"""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from sigscan.plugins import names as plugin_names
from tests.services.daemons import ENDPOINTS, Endpoint
from tests.services.nmap_reference import Reference, parse_xml
from tests.services.sigscan_runs import PROFILES, SCAN_TIMEOUT, Background, ScanRun

# endpoint key -> the NSE script whose rewrite of Nmap's verdict sigscan does not reproduce
WITHOUT_NSE: dict[str, str] = {}


@pytest.fixture(scope="session")
def sigscan_runs(sigscan_background: Background) -> dict[tuple[str, str], ScanRun]:
    """Every (profile, endpoint key) scan, run once per session."""
    return sigscan_background.results()


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.key)
def test_scan_matches_nmap(endpoint: Endpoint, profile: str, nmap_reference: Reference,
                           sigscan_runs: dict[tuple[str, str], ScanRun]) -> None:
    verdicts = nmap_reference.probe_verdicts if endpoint.key in WITHOUT_NSE else nmap_reference.verdicts
    reference = verdicts[(endpoint.proto, endpoint.port)]
    assert reference.state == "open" and reference.name, f"nmap itself did not identify {endpoint}"
    run = sigscan_runs[(profile, endpoint.key)]
    command = " ".join(run.argv)
    assert run.returncode is not None, f"{command} took more than {SCAN_TIMEOUT} s"
    assert run.returncode == 0, f"{command} exited {run.returncode}: {run.stderr.decode(errors='replace')}"
    scanned = parse_xml(run.stdout)
    assert list(scanned) == [(endpoint.proto, endpoint.port)], command
    got = scanned[(endpoint.proto, endpoint.port)]
    assert got.state == "open", command
    assert got.normalized() == reference.normalized(), (
        f"{command}: sigscan says {got.summary()!r}, nmap says {reference.summary()!r}")


# Scripts whose output Nmap lays out in a Lua hash order, which changes from run to run: their
# lines are compared as a tree whose siblings are sorted (the plugins sort or keep the order the
# script writes). Every other output is compared as it is.
UNORDERED = frozenset({"mqtt-subscribe", "xmpp-info"})
# What changes between two scans of the same daemon: an SNMP engine's uptime, an XMPP stream
# ID, and which of Mosquitto's $SYS topics a subscriber gets: each statistic is published
# (retained) when it changes and expires 60 s later, so the set depends on the moment; only the
# static one, the broker's version, is always there.
OUTPUT_VOLATILE = ((re.compile(r"(?m)^(  snmpEngineTime: ).+$"), r"\1T"),
                   (re.compile(r"stream_id: [0-9a-f-]{36}$", re.MULTILINE), "stream_id: ID"),
                   (re.compile(r"\n    \$SYS/broker/(?!version:).*"), ""))
# rfc868-time prints the server's clock: the two scans' times must be this close (seconds)
CLOCK_SLACK = 600
TIMESTAMP = "%Y-%m-%dT%H:%M:%S"


Node = tuple[str, list["Node"]]


def tree(text: str) -> list[Node]:
    """Output lines as a tree by indentation, each level's lines sorted."""
    root: list[Node] = []
    stack: list[tuple[int, list[Node]]] = [(-1, root)]
    for line in text.split("\n"):
        depth = len(line) - len(line.lstrip(" "))
        while stack[-1][0] >= depth:
            stack.pop()
        children: list[Node] = []
        stack[-1][1].append((line.lstrip(" "), children))
        stack.append((depth, children))

    def ordered(level: list[Node]) -> list[Node]:
        return sorted((line, ordered(kids)) for line, kids in level)

    return ordered(root)


def comparable(script: str, text: str) -> object:
    for pattern, replacement in OUTPUT_VOLATILE:
        text = pattern.sub(replacement, text)
    return tree(text) if script in UNORDERED else text


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.key)
def test_plugin_outputs_match_nmap(endpoint: Endpoint, profile: str, nmap_reference: Reference,
                                   sigscan_runs: dict[tuple[str, str], ScanRun]) -> None:
    mirrored = set(plugin_names())
    want = {k: v for k, v in nmap_reference.outputs[(endpoint.proto, endpoint.port)].items()
            if k in mirrored}
    run = sigscan_runs[(profile, endpoint.key)]
    assert run.returncode == 0, run.stderr.decode(errors="replace")
    scanned = parse_xml(run.stdout).get((endpoint.proto, endpoint.port))
    assert scanned is not None, " ".join(run.argv)
    have = dict(scanned.scripts)
    assert sorted(have) == sorted(want), " ".join(run.argv)
    if "rfc868-time" in want:
        ours, theirs = (datetime.strptime(have.pop("rfc868-time"), TIMESTAMP),
                        datetime.strptime(want.pop("rfc868-time"), TIMESTAMP))
        assert abs((ours - theirs).total_seconds()) < CLOCK_SLACK, (ours, theirs)
    for script, text in want.items():
        assert comparable(script, have[script]) == comparable(script, text), (
            f"{script} on {endpoint.key}: sigscan printed {have[script]!r}, nmap {text!r}")


# (endpoint key, script) Nmap must be seen printing there: the comparison above is not empty
PRINTING = {("rpcbind-tcp", "rpcinfo"), ("rpcbind-udp", "rpcinfo"), ("ike", "ike-version"),
            ("snmp", "snmp-info"), ("mqtt", "mqtt-subscribe"), ("amqp", "amqp-info"),
            ("xmpp-client", "xmpp-info"), ("xmpp-server", "xmpp-info"),
            ("time-tcp", "rfc868-time"), ("time-udp", "rfc868-time")}


def test_nmap_printed_what_the_plugins_are_compared_with(nmap_reference: Reference) -> None:
    mirrored = set(plugin_names())
    printed = {(e.key, script) for e in ENDPOINTS
               for script, _ in nmap_reference.verdicts[(e.proto, e.port)].scripts if script in mirrored}
    assert printed >= PRINTING, PRINTING - printed
