"""``--version-trace``, ``--stats-every`` and the debug level, against the real Nmap.

One scan of the same loopback servers by ``nmap -sV`` and by ``sigscan scan``, at the same time,
with the same probe file (tests/data/engine.probes, which Nmap reads with ``--versiondb``), the
same intensity (2) and ``--version-trace --stats-every 1s -oX``:

- a banner (a hard match on NULL), a port that closes at once (tcpwrapped), one silent until
  spoken to (NULL's wait, then a softmatch and the probes that can give its name), a banner only
  a softmatch takes, an unrecognized 1,000-byte banner (a fingerprint under Nmap's debug
  limits), and a TLS port whose handshake refuses the SSLv3 hello with an alert (the ssl match,
  the restart through TLS, a banner inside).

Compared: per port, every ``Service scan sending probe`` and ``Service scan … match`` line, in
order and word for word; ``<debugging level>``; the fingerprint; the shape of the ``Stats:`` /
``Timing:`` lines on standard output and of ``<taskprogress>`` in the XML. And sigscan's own
lines, which Nmap leaves to its nsock log: each read's length, the waits, the closes, the
restart.
"""

from __future__ import annotations

import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from sigscan.engine import Catalog
from tests.corpus.nmap_xml import nmap_path
from tests.helpers import DATA
from tests.scan.servers import (
    BANNER,
    LONG_UNKNOWN,
    ServerThread,
    TlsThreadServer,
    banner,
    closer,
    ftp_soft,
    long_unknown,
    quiet_http,
    ssl_listed_port,
    unlisted_port,
)

pytestmark = pytest.mark.real_nmap

TIMEOUT = 120.0
NMAP_LINE = re.compile(r"^Service scan (?:sending probe \S+ to|(?:soft |hard )?match \(Probe .*?\):) "
                       r"127\.0\.0\.1:(\d+)\b.*$", re.M)
STATS = re.compile(r"^Stats: \d+:\d\d:\d\d elapsed; \d+ hosts completed \(\d+ up\), \d+ undergoing "
                   r"(?:Service|Connect) Scan\n(?:Service scan|Connect Scan) Timing: About "
                   r"\d+\.\d\d% done(?:; ETC: \d\d:\d\d \(\d+:\d\d:\d\d remaining\))?$", re.M)


@dataclass(frozen=True)
class Run:
    stdout: str
    stderr: str
    xml: ET.Element


@dataclass(frozen=True)
class Both:
    ports: dict[str, int]
    nmap: Run
    sigscan: Run


def _run(command: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            errors="replace")


def _finish(proc: subprocess.Popen[str], xml_path: Path) -> Run:
    try:
        out, err = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise
    assert proc.returncode == 0, err[-2000:]
    return Run(out, err, ET.parse(xml_path).getroot())


@pytest.fixture(scope="module")
def both(catalog: Catalog, bundle_path: Path, server_tls: object,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[Both]:
    nmap = nmap_path()
    if nmap is None:
        pytest.skip("nmap is not installed (apt-get install nmap)")
    folder = tmp_path_factory.mktemp("trace")
    with_servers = ServerThread()
    tls = TlsThreadServer(ssl_listed_port(), server_tls)  # type: ignore[arg-type]
    try:
        ports = {name: with_servers.serve(handler, unlisted_port(catalog))[0]
                 for name, handler in (("banner", banner), ("closer", closer),
                                       ("quiet_http", quiet_http), ("ftp_soft", ftp_soft),
                                       ("long_unknown", long_unknown))}
        ports["tls"] = tls.port
        spec = ",".join(str(p) for p in sorted(ports.values()))
        common = ["--version-trace", "--stats-every", "1s", "-p", spec]
        started = [
            _run([nmap, "-sT", "-sV", "-Pn", "-n", "--version-intensity", "2", "--versiondb",
                  str(DATA / "engine.probes"), *common, "-oX", str(folder / "nmap.xml"),
                  "127.0.0.1"]),
            _run([sys.executable, "-m", "sigscan", "scan", "127.0.0.1", "--intensity", "2",
                  "--bundle", str(bundle_path), *common, "-oX", str(folder / "sigscan.xml")])]
        runs = [_finish(proc, folder / name) for proc, name in zip(started, ("nmap.xml", "sigscan.xml"), strict=True)]
        yield Both(ports, runs[0], runs[1])
    finally:
        tls.close()
        with_servers.stop()


def nmap_lines(text: str) -> dict[int, list[str]]:
    """The trace lines Nmap writes, per port, in order."""
    out: dict[int, list[str]] = {}
    for found in NMAP_LINE.finditer(text):
        out.setdefault(int(found.group(1)), []).append(found.group(0))
    return out


def test_same_probes_and_matches_line_for_line(both: Both) -> None:
    """Nmap writes its trace on standard output, sigscan on standard error (see docs/scan.md)."""
    theirs, ours = nmap_lines(both.nmap.stdout), nmap_lines(both.sigscan.stderr)
    assert sorted(theirs) == sorted(both.ports.values())
    for name, port in both.ports.items():
        assert ours.get(port) == theirs[port], name
    tls = theirs[both.ports["tls"]]
    assert [line.split(" to ")[0][len("Service scan sending probe "):] for line in tls
            if "sending probe" in line] == ["NULL", "SSLSessionReq", "NULL"]
    assert "is SSL/ssh." in tls[-1]
    assert any(line.startswith("Service scan soft match") for line in theirs[both.ports["ftp_soft"]])


def test_sigscan_says_what_nmap_leaves_to_its_nsock_log(both: Both) -> None:
    err, ports = both.sigscan.stderr, both.ports
    assert (f"Service scan read {len(BANNER)} bytes from 127.0.0.1:{ports['banner']} (tcp) for "
            "probe NULL") in err
    assert (f"Service scan probe NULL to 127.0.0.1:{ports['closer']} (tcp): the peer closed the "
            "connection after ") in err
    assert re.search(rf"Service scan probe NULL to 127\.0\.0\.1:{ports['quiet_http']} \(tcp\) timed "
                     r"out after 6\.\d\d s with 0 bytes", err)
    assert (f"Service scan 127.0.0.1:{ports['tls']} (tcp) matched ssl (probe SSLSessionReq line 120): "
            "restarting its probes through TLS") in err
    assert f"Service scan TLS handshake with 127.0.0.1:{ports['tls']} (tcp) done: " in err
    assert "skipping probe" in err  # after the softmatches


def test_debug_level_and_fingerprint_under_nmap_s_debug_limits(both: Both) -> None:
    """--version-trace raises the debug level to 1 in both, and with it the fingerprint limits:
    every one of the five 1,000-byte responses whole (the plain limits keep three, cut at 900)."""
    for run in (both.nmap, both.sigscan):
        debugging = run.xml.find("debugging")
        assert debugging is not None and debugging.get("level") == "1"

    def fingerprint(root: ET.Element) -> str:
        port = next(p for p in root.iter("port") if p.get("portid") == str(both.ports["long_unknown"]))
        service = port.find("service")
        assert service is not None
        return re.sub(r"%Time=[0-9A-F]+", "%Time=", service.get("servicefp", ""))

    ours = fingerprint(both.sigscan.xml)
    assert ours == fingerprint(both.nmap.xml)
    assert ours.count(f',{len(LONG_UNKNOWN):X},"XYZZY') == 5 and "Z" * 993 in ours


def test_status_reports_have_nmap_s_shape(both: Both) -> None:
    """The two lines on standard output, and <taskprogress> (task, time, percent; remaining and
    etc with an estimate, etc the whole seconds of the time left after time, as Nmap's)."""
    for run in (both.nmap, both.sigscan):
        reports = STATS.findall(run.stdout)
        assert reports, run.stdout[:2000]
        assert len(reports) == run.stdout.count("Stats: ")
        elements = [e.attrib for e in run.xml.iter("taskprogress")]
        assert elements, "no <taskprogress>"
        assert any("remaining" in e for e in elements)
        for e in elements:
            assert list(e) in (["task", "time", "percent"],
                               ["task", "time", "percent", "remaining", "etc"]), e
            assert e["task"] in ("Service scan", "Connect Scan") and re.fullmatch(r"\d+\.\d\d", e["percent"])
            if "etc" in e:
                assert int(e["etc"]) - int(e["time"]) in (int(e["remaining"]), int(e["remaining"]) - 1)
        children = [child.tag for child in run.xml]
        first_host = children.index("host")
        assert set(children[children.index("debugging") + 1:first_host]) <= {"taskprogress"}


def test_reports_come_every_second(both: Both) -> None:
    """sigscan's reports are timed from the start (Nmap's come with its next network event)."""
    times = [int(e.get("time", "0")) for e in both.sigscan.xml.iter("taskprogress")]
    start = int(both.sigscan.xml.get("start", "0"))
    finished = both.sigscan.xml.find("runstats/finished")
    assert finished is not None
    elapsed = float(finished.get("elapsed", "0"))
    assert len(times) >= int(elapsed) - 1
    assert times == sorted(times) and times[0] - start <= 2


def test_same_verdicts(both: Both) -> None:
    def verdicts(root: ET.Element) -> dict[str, tuple[str | None, ...]]:
        out = {}
        for port in root.iter("port"):
            service = port.find("service")
            name = next(n for n, p in both.ports.items() if str(p) == port.get("portid"))
            out[name] = (None,) if service is None else tuple(
                service.get(a) for a in ("name", "product", "version", "tunnel", "method"))
        return out

    ours, theirs = verdicts(both.sigscan.xml), verdicts(both.nmap.xml)
    del ours["long_unknown"], theirs["long_unknown"]  # a table name: Nmap reads its own nmap-services
    assert ours == theirs
