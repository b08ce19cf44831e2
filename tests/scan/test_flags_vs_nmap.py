"""``-d``, ``--version-trace`` and ``--stats-every`` read as Nmap reads them.

The levels are compared with the real Nmap's own record of them (``<verbose level>`` and
``<debugging level>`` in its XML) for the same options, each tool scanning one closed loopback
port; the times ``--stats-every`` takes and refuses with Nmap's acceptance of the same text; and
which debug levels trace the version scan with what Nmap prints for them on a banner port.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from sigscan.cli.commands import _attached_levels, _interval, build_parser, main
from sigscan.cli.scan import trace_level
from sigscan.engine import Catalog, TraceLevel
from tests.corpus.nmap_xml import nmap_path
from tests.scan.servers import ServerThread, banner, unlisted_port
from tests.scan.test_scan_cli import closed_port

pytestmark = pytest.mark.real_nmap

TIMEOUT = 60.0
LEVELS = [[], ["-d"], ["-dd"], ["-d3"], ["-d12"], ["-d0"], ["--version-trace"],
          ["--version-trace", "-d"], ["-v", "-d2"], ["-d2", "-v"], ["-d", "-v"], ["-vv", "-d"]]
TIMES = ["1s", "500ms", "2m", "1h", "1.5", "0", "1e1", " 2S", "1x", "", "5 s", "s1"]
UNIT_ALONE = "ms"  # Nmap's strtod reads no number, so 0 (no reports); sigscan refuses it (docs/scan.md)


@pytest.fixture(scope="module")
def nmap() -> str:
    path = nmap_path()
    if path is None:
        pytest.skip("nmap is not installed (apt-get install nmap)")
    return path


def parse(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(_attached_levels(["scan", *argv]))


def levels(xml: str) -> tuple[str | None, str | None]:
    root = ET.fromstring(xml)
    verbose, debugging = root.find("verbose"), root.find("debugging")
    assert verbose is not None and debugging is not None
    return verbose.get("level"), debugging.get("level")


def test_levels_as_nmap_records_them(nmap: str, bundle_path: Path, tmp_path: Path) -> None:
    port = str(closed_port())
    for options in LEVELS:
        theirs = subprocess.run([nmap, "-sT", "-Pn", "-n", "-p", port, *options, "-oX",
                                 str(tmp_path / "nmap.xml"), "127.0.0.1"],
                                capture_output=True, timeout=TIMEOUT, check=True)
        assert theirs.returncode == 0
        code = main(["scan", "127.0.0.1", "-p", port, "--bundle", str(bundle_path), *options,
                     "-oX", str(tmp_path / "sigscan.xml")])
        assert code == 0
        assert levels((tmp_path / "sigscan.xml").read_text()) == levels(
            (tmp_path / "nmap.xml").read_text()), options


def test_the_level_is_only_ever_attached() -> None:
    """``-d 3`` is ``-d`` and a target ``3``, as with Nmap's getopt ("d::")."""
    args = parse("-d", "3", "-p", "80")
    assert (args.debugging, args.scan_verbose, args.targets) == (1, 1, ["3"])
    assert parse("-p", "80", "--", "-d3").targets == ["-d3"]


@pytest.mark.parametrize(("options", "level"), [
    ([], TraceLevel.OFF), (["-d"], TraceLevel.OFF), (["-d2"], TraceLevel.EVENTS),
    (["--version-trace"], TraceLevel.EVENTS), (["--version-trace", "-d"], TraceLevel.EVENTS),
    (["--version-trace", "-dd"], TraceLevel.LINES), (["-d3"], TraceLevel.LINES),
])
def test_trace_levels(options: list[str], level: TraceLevel) -> None:
    args = parse(*options)
    assert trace_level(args.version_trace, args.debugging) is level


def test_debug_level_two_traces_as_nmap_does(nmap: str, catalog: Catalog, servers: ServerThread,
                                             bundle_path: Path) -> None:
    """Nmap prints its service scan trace from -d2 up (and with --version-trace), not at -d1."""
    port = str(servers.serve(banner, unlisted_port(catalog))[0])
    sending = f"Service scan sending probe NULL to 127.0.0.1:{port} (tcp)"
    for options, traced in ((["-d"], False), (["-d2"], True)):
        theirs = subprocess.run([nmap, "-sT", "-sV", "-Pn", "-n", "--version-intensity", "0",
                                 "-p", port, *options, "127.0.0.1"], capture_output=True,
                                text=True, timeout=TIMEOUT, check=True)
        ours = subprocess.run([sys.executable, "-m", "sigscan", "scan", "127.0.0.1", "-p", port, "--intensity", "0",
                               "--bundle", str(bundle_path), *options], capture_output=True,
                              text=True, timeout=TIMEOUT, check=True)
        assert (sending in theirs.stdout) is traced
        assert (sending in ours.stderr) is traced
        assert sending not in ours.stdout


def test_times_as_nmap_reads_them(nmap: str, bundle_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    """What ``--stats-every`` takes (a number, then ms, s, m or h in any case) and refuses, as
    Nmap's tval2secs; refused, it is one line of usage error and exit status 2."""
    port = str(closed_port())
    for text in [*TIMES, UNIT_ALONE]:
        theirs = subprocess.run([nmap, "-sT", "-Pn", "-n", "-p", port, "--stats-every", text,
                                 "127.0.0.1"], capture_output=True, text=True, timeout=TIMEOUT)
        try:
            code = main(["scan", "127.0.0.1", "-p", port, "--bundle", str(bundle_path),
                         "--stats-every", text, "-oJ", "/dev/null"])
        except SystemExit as exc:
            code = int(exc.code or 0)
        err = capsys.readouterr().err
        if text == UNIT_ALONE:  # the one difference
            assert theirs.returncode == 0 and code == 2
        else:
            assert (code == 0) is (theirs.returncode == 0), (text, theirs.stderr)
        if code:
            assert code == 2 and re.search(r"--stats-every: not a time: ", err), err
    assert [_interval(t) for t in ("1s", "500ms", "2m", "1h", "1.5", "1e1", " 2S")] == [
        1.0, 0.5, 120.0, 3600.0, 1.5, 10.0, 2.0]
