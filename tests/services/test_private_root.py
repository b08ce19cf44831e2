"""Hardening item 15: a daemon that scripts/setup.sh unpacks into a private root (because apt
could install it only by replacing one the machine has, e.g. vsftpd where proftpd is) runs from
there and looks to a scan exactly like the machine's own copy.

``scripts/packages.py unpack`` puts the real Debian packages of vsftpd and postfix into a
temporary private root (the same command setup.sh runs), and a second harness, in a namespace of
its own, starts those two daemons from it. Every process of theirs must run a binary of the
private root (postfix's also its libraries), and ``sigscan scan`` must see on ports 21 and 25
what it sees from the machine's copies in the session's harness.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.services.daemons import FTP, SMTP, SYSTEM, postfix, vsftpd
from tests.services.harness import Harness, descendants, harness_session, process_tree
from tests.services.nmap_reference import Verdicts, parse_xml

PROJECT = Path(__file__).resolve().parents[2]
PACKAGES = ("postfix", "vsftpd")
UNPACK_TIMEOUT = 300.0  # seconds (a download, when apt's cache does not hold the packages)
SCAN_TIMEOUT = 120.0
SIGSCAN = Path(sys.executable).with_name("sigscan")
# Read inside the namespace: the first line each port sends (both services speak first).
_BANNERS = """\
import socket, sys
for port in map(int, sys.argv[1:]):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.settimeout(10)
        data = b""
        while b"\\n" not in data:
            chunk = s.recv(1024)
            if not chunk:
                break
            data += chunk
        print(port, data.split(b"\\n")[0].decode(errors="replace").strip())
"""


def unpack(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["/usr/bin/python3", str(PROJECT / "scripts" / "packages.py"), "unpack",
                           "--private", str(folder), *PACKAGES], capture_output=True, text=True,
                          timeout=UNPACK_TIMEOUT, check=False)


@pytest.fixture(scope="module")
def private_folder(harness: Harness, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("private")
    folder.chmod(0o755)  # postfix's and vsftpd's unprivileged processes read their files here
    result = unpack(folder)
    assert result.returncode == 0, result.stderr
    return folder


@pytest.fixture(scope="module")
def private_harness(private_folder: Path) -> Iterator[Harness]:
    with harness_session(daemons=(postfix, vsftpd), roots=(private_folder / "root", SYSTEM)) as h:
        yield h


def banners(harness: Harness) -> dict[str, str]:
    result = harness.run([sys.executable, "-c", _BANNERS, str(FTP.port), str(SMTP.port)],
                         timeout=30)
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    return dict(line.split(" ", 1) for line in result.stdout.decode().splitlines())


def scan(harness: Harness, bundle: Path) -> Verdicts:
    argv = [str(SIGSCAN), "scan", "--bundle", str(bundle), "-oX", "-", "-p",
            f"{FTP.port},{SMTP.port}", "127.0.0.1"]
    result = subprocess.run(harness.argv(argv), capture_output=True, timeout=SCAN_TIMEOUT,
                            check=False)
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    return parse_xml(result.stdout)


def test_unpack_puts_the_packages_files_under_the_private_root(private_folder: Path) -> None:
    root = private_folder / "root"
    for path in ("usr/sbin/vsftpd", "usr/lib/postfix/sbin/master", "usr/lib/postfix/sbin/smtpd",
                 "usr/lib/postfix/libpostfix-global.so"):
        assert (root / path).is_file(), path
    for package in PACKAGES:
        version = subprocess.run(["apt-cache", "policy", package], capture_output=True, text=True,
                                 timeout=60, check=True).stdout
        stamp = (private_folder / "unpacked" / package).read_text().strip()
        assert f"Candidate: {stamp}" in version


def test_a_second_unpack_does_nothing(private_folder: Path) -> None:
    before = {p: p.stat().st_mtime_ns for p in (private_folder / "root").rglob("*")}
    result = unpack(private_folder)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert {p: p.stat().st_mtime_ns for p in (private_folder / "root").rglob("*")} == before


def binaries(pid: int) -> tuple[Path, set[Path]] | None:
    """The executable of process PID and the libpostfix-* files it has mapped (None: it ended)."""
    try:
        exe = Path(f"/proc/{pid}/exe").readlink()
        maps = Path(f"/proc/{pid}/maps").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return exe, {Path(line.split()[-1]) for line in maps.splitlines() if "libpostfix-" in line}


def test_every_process_runs_the_private_binaries(private_harness: Harness,
                                                 private_folder: Path) -> None:
    banners(private_harness)  # postfix's master starts an smtpd for the connection
    root = private_folder / "root"
    tree = process_tree()
    found = {name: [b for pid in descendants(r.process.pid, tree) if (b := binaries(pid))]
             for name, r in private_harness.running.items()}
    assert sorted(found) == ["postfix", "vsftpd"]
    assert root / "usr/sbin/vsftpd" in {exe for exe, _ in found["vsftpd"]}
    assert {exe for exe, _ in found["vsftpd"]} == {root / "usr/sbin/vsftpd"}
    assert root / "usr/lib/postfix/sbin/smtpd" in {exe for exe, _ in found["postfix"]}
    for exe, libraries in found["postfix"]:
        assert exe.parent == root / "usr/lib/postfix/sbin"
        assert libraries, exe
        assert {lib.parent for lib in libraries} == {root / "usr/lib/postfix"}, exe


def test_the_private_copies_greet_as_the_machines_own(private_harness: Harness,
                                                      harness: Harness) -> None:
    private, system = banners(private_harness), banners(harness)
    assert private == system
    assert "vsFTPd" in private[str(FTP.port)] and "Postfix" in private[str(SMTP.port)]


def test_a_scan_sees_the_same_services(private_harness: Harness, harness: Harness,
                                       built: dict[tuple[str, str], Path]) -> None:
    bundle = built[("7.93", "db")]
    private, system = scan(private_harness, bundle), scan(harness, bundle)
    assert {k: v.normalized() for k, v in private.items()} == {
        k: v.normalized() for k, v in system.items()}
    assert [(v.state, v.product) for v in private.values()] == [
        ("open", "vsftpd"), ("open", "Postfix smtpd")]
