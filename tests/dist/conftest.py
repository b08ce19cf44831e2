"""Fixtures of the distribution tests, each made once per session: what scripts/dist.sh builds
(into a temporary folder), a small bundle built with the development sigc, the regex wheel, and
a fresh virtual environment with nothing but the runtime's wheel installed."""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import sigscan
from sigc.build import build
from sigc.sources import resolve
from tests.scan.servers import banner, server_thread

ROOT = Path(__file__).resolve().parents[2]
VERSION = sigscan.__version__
WHEELHOUSE = ROOT / ".deps" / "wheels"  # scripts/setup.sh --dev downloads the regex wheel there
TIMEOUT = 120.0  # seconds for one build or install

# Nmap's NULL probe and one match for the banner of tests.scan.servers (an OpenSSH greeting)
PROBES = (b"Probe TCP NULL q||\n"
          b"match ssh m|^SSH-([\\d.]+)-OpenSSH_([\\w._-]+)[ \\r]| p/OpenSSH/ v/$2/ i/protocol $1/\n")


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without what would let a child find the development sources,
    the dev virtual environment's or the machine's pip settings, or another bundle: no
    PYTHON* (PYTHONPATH survives -S), no PIP_* (pip reads no configuration file either), no
    SIGSCAN_*."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTHON", "PIP_", "SIGSCAN_", "VIRTUAL_ENV"))}
    env["PIP_CONFIG_FILE"] = os.devnull
    env.update(extra)
    return env


def run(argv: list[str | Path], cwd: Path, timeout: float = TIMEOUT,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in argv], cwd=cwd, env=env or clean_env(), capture_output=True,
                          text=True, timeout=timeout, check=False)


@dataclass(frozen=True)
class Dist:
    folder: Path
    runtime: Path   # sigscan-VERSION-py3-none-any.whl
    compiler: Path  # sigscan_compiler-VERSION-py3-none-any.whl
    pyz: Path       # sigscan.pyz


@pytest.fixture(scope="session")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Dist:
    """scripts/dist.sh run with this Python (the dev environment's) into a temporary folder."""
    folder = tmp_path_factory.mktemp("dist")
    proc = run(["bash", ROOT / "scripts" / "dist.sh", folder], cwd=folder,
               env=clean_env(PYTHON=sys.executable))
    if proc.returncode == 2 and "has no" in proc.stderr:  # the one line: a build tool is missing
        pytest.skip(proc.stderr.strip())
    assert proc.returncode == 0, proc.stderr
    return Dist(folder, folder / f"sigscan-{VERSION}-py3-none-any.whl",
                folder / f"sigscan_compiler-{VERSION}-py3-none-any.whl", folder / "sigscan.pyz")


@pytest.fixture(scope="session")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bundle of PROBES built with the development sigc (as a build host would)."""
    folder = tmp_path_factory.mktemp("bundle")
    (folder / "tiny.probes").write_bytes(PROBES)
    result = build(resolve([str(folder / "tiny.probes")]), folder / "tiny.db")
    assert result.ok, [str(d) for d in result.diagnostics]
    return folder / "tiny.db"


@pytest.fixture(scope="session")
def regex_wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the wheel of the regex version this environment has: .deps/wheels, which
    scripts/setup.sh --dev fills once, so that installing needs no network. Without it the wheel
    is downloaded here (the only step of these tests that may use the network)."""
    version = importlib.metadata.version("regex")
    if any(WHEELHOUSE.glob(f"regex-{version}-*.whl")):
        return WHEELHOUSE
    folder = tmp_path_factory.mktemp("wheels")
    proc = run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
                "-d", folder, f"regex=={version}"], cwd=folder, env=clean_env())
    if proc.returncode != 0:
        pytest.skip(f"no regex {version} wheel in {WHEELHOUSE} (scripts/setup.sh --dev downloads it) "
                    f"and pip download failed: {proc.stderr.strip().splitlines()[-1:]}")
    return folder


@pytest.fixture(scope="session")
def runtime_venv(tmp_path_factory: pytest.TempPathFactory, dist: Dist, regex_wheels: Path) -> Path:
    """A new virtual environment (no pip of its own) with the runtime's wheel installed offline:
    dependencies from REGEX_WHEELS only. Returns its bin folder."""
    venv = tmp_path_factory.mktemp("venv")
    proc = run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=venv)
    assert proc.returncode == 0, proc.stderr
    python = venv / "bin" / "python"
    proc = run([sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-index",
                "--find-links", regex_wheels, dist.runtime], cwd=venv)
    assert proc.returncode == 0, proc.stderr
    return venv / "bin"


@pytest.fixture(scope="module")
def banner_port() -> Iterator[int]:
    """A server on 127.0.0.1 that greets every connection with an OpenSSH banner."""
    with server_thread() as servers:
        port, _ = servers.serve(banner, host="127.0.0.1")
        yield port
