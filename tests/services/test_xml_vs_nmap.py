"""Issue 4, acceptance 3 on the real daemons: one ``sigscan scan -oX`` of every TCP service of
the harness validates against Nmap's ``nmap.dtd``, and ``ndiff`` between it and the XML of
Nmap's own ``nmap -sV`` of the same ports (the reference run of this session) shows no port or
service difference.

What ``ndiff`` may show, and why it is not a service difference: the first line (scanner name,
version and start time), and the output of Nmap's NSE scripts (lines starting with ``|``),
which sigscan does not run. Values that change between two scans of the same daemon whoever
scans (memcached's uptime, ``VOLATILE``) are rewritten the same way in both documents first.
"""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.output.support import tool
from tests.services.daemons import ENDPOINTS
from tests.services.harness import Harness
from tests.services.netns import Proto
from tests.services.nmap_reference import Reference, steady

DTD = Path("/usr/share/nmap/nmap.dtd")
SIGSCAN = Path(sys.executable).with_name("sigscan")
TCP_PORTS = sorted({e.port for e in ENDPOINTS if e.proto is Proto.TCP})
TIMEOUT = 180.0


def sigscan_version() -> str:
    import sigscan

    return sigscan.__version__


@pytest.fixture(scope="module")
def documents(harness: Harness, nmap_reference: Reference, built: dict[tuple[str, str], Path],
              tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(sigscan's XML, Nmap's XML) of the same TCP ports, as files."""
    argv = [str(SIGSCAN), "scan", "--bundle", str(built[("7.93", "db")]), "--profile", "nmap",
            "-oX", "-", "-p", ",".join(map(str, TCP_PORTS)), "127.0.0.1"]
    done = harness.run(argv, timeout=TIMEOUT)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    (nmap_run,) = [r for r in nmap_reference.runs if r.scripts and "-sU" not in r.argv]
    folder = tmp_path_factory.mktemp("xml")
    ours, theirs = folder / "sigscan.xml", folder / "nmap.xml"
    ours.write_text(steady(done.stdout.decode()))
    theirs.write_text(steady(without_scripts(nmap_run.xml)))
    return ours, theirs


def without_scripts(document: bytes) -> str:
    """Nmap's XML without its ``<script>`` elements: the reference run has ``--script version``
    (so that the plugins' outputs can be compared), sigscan's here has no ``--plugin-output``,
    and ndiff 7.93 fails on a port whose script results differ (a TypeError in its
    ``script_result_diffs`` check)."""
    root = ET.fromstring(document)
    for parent in root.iter():
        for script in parent.findall("script"):
            parent.remove(script)
    return ET.tostring(root, encoding="unicode")


def test_sigscan_xml_of_the_real_services_validates(documents: tuple[Path, Path]) -> None:
    ours, _ = documents
    done = subprocess.run([tool("xmllint"), "--noout", "--dtdvalid", str(DTD), str(ours)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_ndiff_against_nmap_shows_no_service_difference(documents: tuple[Path, Path]) -> None:
    ours, theirs = documents
    done = subprocess.run([tool("ndiff"), str(ours), str(theirs)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode in (0, 1), done.stderr  # 1: the documents differ
    changed = [line for line in done.stdout.splitlines() if line[:1] in {"+", "-"}]
    # the header: sigscan writes Nmap's <nmaprun scanner="nmap"> with its own version
    assert [line.split(" scan initiated ")[0] for line in changed[:2]] == [
        f"-Nmap {sigscan_version()}", "+Nmap 7.93"], done.stdout
    services = [line for line in changed[2:] if not line[1:].lstrip().startswith("|")]
    assert services == [], done.stdout
