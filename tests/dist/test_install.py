"""The two ways a small host runs the runtime: the wheel alone in a fresh virtual environment
(regex its only dependency), and sigscan.pyz under ``python3 -S`` (no site-packages: the
standard library's ``re`` and ``json``). Each identifies a recorded banner and scans a server
of this test on 127.0.0.1, with a bundle built elsewhere (by the development sigc).

Network: the servers listen on 127.0.0.1 only, and the scans target 127.0.0.1 and only the
port the test opened. Installing uses no network (see the ``regex_wheels`` fixture).
"""

from __future__ import annotations

import importlib.metadata
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.dist.conftest import VERSION, Dist, run
from tests.scan.servers import BANNER

SCAN_TIMEOUT = 30.0


def bare_pythons() -> list[object]:
    """This Python, and the machine's python3 when the runtime supports it (3.11 or newer)."""
    found: list[object] = [pytest.param(sys.executable, id="this-python")]
    system = shutil.which("python3", path="/usr/bin:/usr/local/bin")
    if system and subprocess.run([system, "-c", "import sys; sys.exit(sys.version_info < (3, 11))"],
                                 capture_output=True, check=False).returncode == 0:
        found.append(pytest.param(system, id="system-python3"))
    return found


@pytest.fixture
def banner_file(tmp_path: Path) -> Path:
    (tmp_path / "banner.bin").write_bytes(BANNER)
    return tmp_path / "banner.bin"


def assert_openssh_verdict(verdict: dict[str, object]) -> None:
    assert (verdict["name"], verdict["product"], verdict["version"], verdict["extrainfo"]) == (
        "ssh", "OpenSSH", "9.2p1", "protocol 2.0")


def assert_scanned(proc: subprocess.CompletedProcess[str], port: int) -> None:
    """``-oJ -`` output of one scanned port: open, and the OpenSSH verdict."""
    assert proc.returncode == 0, proc.stderr
    records = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [(r["host"], r["port"], r["state"]) for r in records] == [("127.0.0.1", port, "open")]
    assert_openssh_verdict(records[0])


# -- the runtime's wheel alone, in a fresh virtual environment ------------------------------------


def test_fresh_venv_has_the_runtime_and_regex_and_nothing_else(runtime_venv: Path, tmp_path: Path) -> None:
    code = ("import importlib.metadata as m, importlib.util as u, sigscan\n"
            "print(sorted((d.metadata['Name'], d.version) for d in m.distributions()))\n"
            "print([n for n in ('lark', 'orjson', 'sqlite_utils', 'sigc') if u.find_spec(n)])\n"
            "print(sigscan.__file__)\n")
    proc = run([runtime_venv / "python", "-c", code], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    distributions, importable, location = proc.stdout.splitlines()
    assert distributions == str([("regex", importlib.metadata.version("regex")), ("sigscan", VERSION)])
    assert importable == "[]"  # import lark (and the compiler's other libraries) fails
    assert location.startswith(str(runtime_venv.parent))  # the installed copy, not this checkout
    proc = run([runtime_venv / "python", "-c", "import lark"], cwd=tmp_path)
    assert proc.returncode == 1 and "ModuleNotFoundError: No module named 'lark'" in proc.stderr


def test_fresh_venv_identifies(runtime_venv: Path, bundle: Path, banner_file: Path, tmp_path: Path) -> None:
    proc = run([runtime_venv / "sigscan", "-v", "identify", "--bundle", bundle, "--probe", "NULL",
                banner_file], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert_openssh_verdict(json.loads(proc.stdout))
    assert "regex engine regex" in proc.stderr


def test_fresh_venv_scans(runtime_venv: Path, bundle: Path, banner_port: int, tmp_path: Path) -> None:
    proc = run([runtime_venv / "sigscan", "scan", "127.0.0.1", "-p", str(banner_port),
                "--intensity", "0", "--bundle", bundle, "-oJ", "-"], cwd=tmp_path, timeout=SCAN_TIMEOUT)
    assert_scanned(proc, banner_port)


# -- sigscan.pyz under python3 -S -----------------------------------------------------------------


@pytest.fixture(params=bare_pythons())
def bare_python(request: pytest.FixtureRequest, tmp_path: Path) -> list[str]:
    """A Python run with -S, checked to find neither regex nor orjson."""
    argv = [str(request.param), "-S"]
    proc = run([*argv, "-c", "import importlib.util as u; print(u.find_spec('regex'), u.find_spec('orjson'))"],
               cwd=tmp_path)
    assert proc.stdout == "None None\n", proc.stderr
    return argv


def test_pyz_identifies_with_the_standard_library_alone(bare_python: list[str], dist: Dist, bundle: Path,
                                                        banner_file: Path, tmp_path: Path) -> None:
    proc = run([*bare_python, dist.pyz, "-v", "identify", "--bundle", bundle, "--probe", "NULL", banner_file],
               cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert_openssh_verdict(json.loads(proc.stdout))
    assert proc.stderr.endswith("regex engine re\n")


def test_pyz_scans_with_the_standard_library_alone(bare_python: list[str], dist: Dist, bundle: Path,
                                                    banner_port: int, tmp_path: Path) -> None:
    proc = run([*bare_python, dist.pyz, "scan", "127.0.0.1", "-p", str(banner_port), "--intensity", "0",
                "--bundle", bundle, "-oJ", "-"], cwd=tmp_path, timeout=SCAN_TIMEOUT)
    assert_scanned(proc, banner_port)


def test_pyz_exit_status_is_the_commands(dist: Dist, tmp_path: Path) -> None:
    """The archive's __main__ passes the command's status on (zipapp's own would drop it)."""
    proc = run([sys.executable, "-S", dist.pyz, "identify", "--bundle", tmp_path / "missing.db"],
               cwd=tmp_path)
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert proc.stderr.startswith("sigscan: ")
