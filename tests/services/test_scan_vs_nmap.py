"""Issue 4, acceptance 2: on each real daemon of the harness, ``sigscan scan`` (profiles ``nmap``
and ``fast``) gives the same ``name``, ``product``, ``version``, ``extrainfo`` and ``tunnel`` as
the real ``nmap -sV`` run in the same session.

Where one of Nmap's version-category NSE scripts rewrites the verdict of the probes file and
sigscan does not do what that script does, the comparison is with Nmap's probe-and-match verdict
(the same scan with those scripts off) and the script is named in ``WITHOUT_NSE``, as
nmap-semantics.md §12 asks. rpcbind, coturn, strongSwan and murmurd are not there: sigscan's
plugins ``rpc-grind`` and ``rpcinfo``, ``stun-version``, ``ike-version`` and ``murmur-version``
do what those scripts do, so they are compared with plain ``nmap -sV``.

The scans are run by :mod:`tests.services.sigscan_runs`, in the background from the start of
the session; each test compares one of them with Nmap's verdict for the same port.
"""

from __future__ import annotations

import pytest

from sigscan.plugins import names as plugin_names
from tests.services.daemons import ENDPOINTS, Endpoint
from tests.services.nmap_reference import Reference, parse_xml
from tests.services.sigscan_runs import PROFILES, SCAN_TIMEOUT, Background, ScanRun

# endpoint key -> the NSE script whose rewrite of Nmap's verdict sigscan does not reproduce
WITHOUT_NSE = {"snmp": "snmp-info"}  # product "SNMPv1 server; net-snmp SNMPv3 server": SNMPv3 enterprise


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


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.key)
def test_plugin_output_matches_nmap(endpoint: Endpoint, profile: str, nmap_reference: Reference,
                                    sigscan_runs: dict[tuple[str, str], ScanRun]) -> None:
    """The output of every script sigscan has a plugin for (``rpcinfo`` on rpcbind,
    ``ike-version`` on strongSwan…) is Nmap's, character for character (``--script version``
    and ``--plugin-output``); scripts sigscan does not mirror are left out of Nmap's side."""
    mirrored = set(plugin_names())
    want = {k: v for k, v in nmap_reference.verdicts[(endpoint.proto, endpoint.port)].scripts
            if k in mirrored}
    run = sigscan_runs[(profile, endpoint.key)]
    scanned = parse_xml(run.stdout) if run.returncode == 0 else {}
    got = scanned.get((endpoint.proto, endpoint.port))
    assert got is not None, " ".join(run.argv)
    assert dict(got.scripts) == want, " ".join(run.argv)


PRINTING = {("rpcbind-tcp", "rpcinfo"), ("rpcbind-udp", "rpcinfo"), ("ike", "ike-version")}


def test_nmap_printed_what_the_plugins_are_compared_with(nmap_reference: Reference) -> None:
    """The comparison above is not empty: Nmap printed the mirrored scripts that print."""
    mirrored = set(plugin_names())
    printed = {(e.key, script) for e in ENDPOINTS
               for script, _ in nmap_reference.verdicts[(e.proto, e.port)].scripts if script in mirrored}
    assert printed >= PRINTING
