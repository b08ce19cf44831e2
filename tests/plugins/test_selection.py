"""Which plugins run: ``--profile nmap`` (and ``fast``) run exactly the scripts Nmap 7.93's
``-sV`` runs, no more; ``--no-plugins`` and ``--no-plugin NAME`` switch them off; an unknown name
is one line and exit status 2."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from sigscan.engine.config import Profile
from sigscan.plugins import UnknownPlugin, load, names, selected
from tests.plugins.conftest import Emulation
from tests.services.netns import Namespace

SCRIPT_DB = Path("/usr/share/nmap/scripts/script.db")
SIGSCAN = Path(sys.executable).with_name("sigscan")


def nmap_version_scripts() -> set[str]:
    """The scripts of the version category in the installed Nmap's script.db (what -sV runs)."""
    entries = re.findall(r'Entry \{ filename = "([^"]+)\.nse", categories = \{([^}]*)\}', SCRIPT_DB.read_text())
    return {name for name, categories in entries if '"version"' in categories}


@pytest.mark.skipif(not SCRIPT_DB.exists(), reason="nmap is not installed (bash scripts/setup.sh installs it)")
@pytest.mark.parametrize("profile", [Profile.NMAP, Profile.FAST])
def test_the_nmap_profiles_run_exactly_nmaps_version_scripts(profile: Profile) -> None:
    assert {p.name for p in selected(profile)} == nmap_version_scripts()


def test_every_plugin_module_defines_its_plugin() -> None:
    for name in names():
        plugin = load(name)
        assert plugin.name == name and plugin.summary, name


def test_switching_plugins_off() -> None:
    assert selected(Profile.NMAP, enabled=False) == ()
    kept = {p.name for p in selected(Profile.NMAP, off={"http-server-header"})}
    assert "http-server-header" not in kept
    assert kept | {"http-server-header"} == {p.name for p in selected(Profile.NMAP)}
    with pytest.raises(UnknownPlugin):
        selected(Profile.NMAP, off={"no-such-plugin"})


def test_an_unknown_plugin_name_is_one_line_and_exit_2() -> None:
    done = subprocess.run([str(SIGSCAN), "scan", "--no-plugin", "no-such-plugin", "-p", "1",
                           "127.0.0.1"], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "no-such-plugin" in done.stderr, done.stderr


def test_list_plugins_lists_every_plugin() -> None:
    done = subprocess.run([str(SIGSCAN), "scan", "--list-plugins"], capture_output=True, text=True,
                          timeout=60, check=True)
    listed = [line.split()[0] for line in done.stdout.splitlines()]
    assert listed == list(names())


def test_no_plugins_and_no_plugin_leave_the_probe_verdict(
        emulations: tuple[Namespace, list[Emulation]], built: dict[tuple[str, str], Path]) -> None:
    """On the HTTP server Nmap has no product for, http-server-header makes the Server header
    the product; without it the probe phase's verdict stays (no product, no script output)."""
    namespace, items = emulations
    http = next(item for item in items if item.name == "http_unknown")
    bundle = built[("7.93", "db")]
    results = {}
    for flags in ([], ["--no-plugins"], ["--no-plugin", "http-server-header"]):
        done = namespace.run([str(SIGSCAN), "scan", "--bundle", str(bundle), "--profile", "fast",
                              "-oJ", "-", "-p", "80", *flags, http.address], timeout=120)
        assert done.returncode == 0, done.stderr
        results[" ".join(flags)] = json.loads(done.stdout.decode().splitlines()[0])
    assert results[""]["product"] == "Cobblestone/4.2 (sigscan test)"
    assert "http-server-header" in [s["id"] for s in results[""]["scripts"]]
    for flags in ("--no-plugins", "--no-plugin http-server-header"):
        assert results[flags]["product"] is None, flags
        assert "http-server-header" not in [s["id"] for s in results[flags]["scripts"]], flags
        assert results[flags]["name"] == "http"
    assert results["--no-plugins"]["scripts"] == []  # not even fingerprint-strings
