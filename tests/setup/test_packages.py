"""Hardening item 15: scripts/setup.sh must not fail, nor replace anything, on a machine that
already has another FTP or mail server installed.

The machine modelled: this one's dpkg status with proftpd (``proftpd-core``, which provides and
conflicts with ``ftp-server``) and exim4 (``exim4-daemon-light``: ``mail-transport-agent``)
installed in place of vsftpd and postfix, and without ndiff and cpio (a dependency that only
postfix has among the installed packages). apt reads that status file (``Dir::State::status``)
in place of the machine's; nothing is installed. The private daemons themselves are started in
tests/services/test_private_root.py.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.services.daemons import PROGRAMS

PROJECT = Path(__file__).resolve().parents[2]
PACKAGES_PY = PROJECT / "scripts" / "packages.py"
TIMEOUT = 300.0  # seconds for one packages.py or apt-get run
REMOVED = ("vsftpd", "postfix", "ndiff", "cpio")
OTHER_DAEMONS = ("proftpd-basic", "proftpd-core", "exim4-base", "exim4-daemon-light")
# what a status stanza of the other daemons keeps: their relations, not their dependencies
# (apt would else ask for those too, and this status would not be a consistent machine)
_KEPT = re.compile(r"^(Package|Version|Architecture|Provides|Conflicts|Breaks|Replaces): ")


def packages_py(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["/usr/bin/python3", str(PACKAGES_PY), *map(str, args)],
                          capture_output=True, text=True, timeout=TIMEOUT, check=False,
                          env={**os.environ, "LC_ALL": "C"})


def apt_options(status: Path) -> list[str]:
    return ["-o", f"Dir::State::status={status}", "-o", f"Dir::Cache::pkgcache={status}.pkgcache.bin",
            "-o", f"Dir::Cache::srcpkgcache={status}.srcpkgcache.bin"]


def package_of(stanza: str) -> str:
    found = re.search(r"^Package: (\S+)$", stanza, re.MULTILINE)
    return "" if found is None else found.group(1)


def stanzas_of_installed(packages: tuple[str, ...]) -> list[str]:
    """Status stanzas that say PACKAGES (their candidate versions) are installed."""
    shown = subprocess.run(["apt-cache", "show", "--no-all-versions", *packages],
                           capture_output=True, text=True, timeout=TIMEOUT, check=True).stdout
    stanzas = []
    for shown_stanza in shown.strip().split("\n\n"):
        lines = [line for line in shown_stanza.splitlines() if _KEPT.match(line)]
        stanzas.append("\n".join([lines[0], "Status: install ok installed", *lines[1:]]))
    assert sorted(map(package_of, stanzas)) == sorted(packages)
    return stanzas


@pytest.fixture(scope="module")
def conflicted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The dpkg status file of the machine modelled (see the module's doc)."""
    status = tmp_path_factory.mktemp("machine") / "status"
    stanzas = Path("/var/lib/dpkg/status").read_text().strip().split("\n\n")
    kept = [s for s in stanzas if package_of(s) not in REMOVED]
    status.write_text("\n\n".join([*kept, *stanzas_of_installed(OTHER_DAEMONS)]) + "\n")
    check = subprocess.run(["apt-get", *apt_options(status), "check"], capture_output=True,
                           text=True, timeout=TIMEOUT, check=False)
    assert check.returncode == 0, f"the modelled machine is not consistent: {check.stdout}{check.stderr}"
    return status


def test_plain_apt_would_refuse_what_setup_asked_before(conflicted: Path) -> None:
    """The premise: apt cannot install these without removing proftpd and exim4 (the old
    setup.sh's ``apt-get install --no-remove`` stopped there and the README's test failed)."""
    result = subprocess.run(["apt-get", *apt_options(conflicted), "-s", "install", "--no-remove",
                             "--no-install-recommends", "ndiff", "postfix", "vsftpd"],
                            capture_output=True, text=True, timeout=TIMEOUT, check=False,
                            env={**os.environ, "LC_ALL": "C"})
    assert result.returncode != 0
    assert "Packages need to be removed but remove is disabled" in result.stderr


@pytest.mark.slow
def test_setup_plans_to_unpack_the_conflicting_daemons(conflicted: Path, tmp_path: Path) -> None:
    missing = packages_py("missing", "--dev", "--status", conflicted, "--private", tmp_path)
    assert (missing.returncode, missing.stderr) == (0, "")
    assert missing.stdout.split() == ["ndiff", "postfix", "vsftpd"]  # in setup.sh's order
    plan = packages_py("plan", "--status", conflicted, "--private", tmp_path, *missing.stdout.split())
    assert (plan.returncode, plan.stderr) == (0, "")
    # apt installs ndiff and postfix's dependency cpio; postfix and vsftpd go to the private root
    assert plan.stdout.splitlines() == ["install ndiff cpio", "private postfix vsftpd"]
    # and what apt is asked to install removes nothing
    install = plan.stdout.splitlines()[0].split()[1:]
    result = subprocess.run(["apt-get", *apt_options(conflicted), "-s", "install", "--no-remove",
                             "--no-install-recommends", *install], capture_output=True, text=True,
                            timeout=TIMEOUT, check=False, env={**os.environ, "LC_ALL": "C"})
    assert result.returncode == 0, result.stderr
    assert not re.search(r"^Remv ", result.stdout, re.MULTILINE)


def test_nothing_is_missing_once_unpacked(conflicted: Path, tmp_path: Path) -> None:
    """A second run finds the private packages unpacked and plans nothing (no apt call)."""
    for package in ("ndiff", "postfix", "vsftpd"):
        (tmp_path / "unpacked").mkdir(exist_ok=True)
        (tmp_path / "unpacked" / package).write_text("1\n")
    result = packages_py("missing", "--dev", "--status", conflicted, "--private", tmp_path)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_nothing_is_planned_for_nothing(conflicted: Path) -> None:
    result = packages_py("plan", "--status", conflicted)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_an_unknown_package_is_one_line_and_status_1(conflicted: Path) -> None:
    result = packages_py("plan", "--status", conflicted, "sigscan-no-such-package")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "packages.py: apt-get cannot install sigscan-no-such-package: "
        "E: Unable to locate package sigscan-no-such-package"]


def test_setup_installs_every_package_the_harness_runs(tmp_path: Path) -> None:
    (tmp_path / "status").write_text("")
    result = packages_py("missing", "--dev", "--status", tmp_path / "status", "--private", tmp_path)
    assert result.returncode == 0, result.stderr
    assert {p.package for p in PROGRAMS.values()} <= set(result.stdout.split())


def snapshot(*folders: Path) -> dict[Path, tuple[int, int]]:
    """Every file and folder under FOLDERS (not into .venv's packages) with its mtime and size."""
    found: dict[Path, tuple[int, int]] = {}
    for folder in folders:
        for path in [folder, *folder.rglob("*")] if folder.exists() else []:
            if "site-packages" in path.parts[:-1] and "sigc" not in path.name:
                continue
            info = path.lstat()
            found[path] = (info.st_mtime_ns, info.st_size)
    return found


def test_a_second_setup_run_changes_nothing() -> None:
    """With everything in place (as scripts/test.sh leaves it, or after the first run here),
    setup.sh installs nothing, unpacks nothing and does not reinstall sigc."""
    if os.geteuid() != 0:
        pytest.skip("scripts/setup.sh --dev installs with apt as root: run as root")
    setup = ["bash", str(PROJECT / "scripts" / "setup.sh"), "--dev"]
    first = subprocess.run(setup, capture_output=True, text=True, timeout=TIMEOUT * 3, check=False)
    assert first.returncode == 0, first.stderr
    watched = [Path("/var/lib/dpkg/status"), PROJECT / ".deps", PROJECT / ".venv"]
    before = snapshot(*watched)
    second = subprocess.run(setup, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    assert (second.returncode, second.stdout, second.stderr) == (0, "", "")
    assert snapshot(*watched) == before
