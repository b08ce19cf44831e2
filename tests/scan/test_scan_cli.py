"""``sigscan scan`` end to end, in a subprocess as a user runs it: hostile servers, every output,
peak memory, Ctrl-C, the progress line, and the error paths (one line, exit status 2)."""

from __future__ import annotations

import contextlib
import json
import os
import pty
import re
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest

from sigscan.cli.commands import main
from sigscan.engine import Catalog
from tests.scan.servers import (
    ServerThread,
    banner,
    drip,
    flood,
    reset_mid_probe,
    silent,
    ssl_listed_port,
    tls_garbage,
    unlisted_port,
)

# Runs the CLI, then reports the process's peak RSS (KiB) on its last stderr line: VmHWM, the
# high-water mark of its own memory map (ru_maxrss would include the RSS the forked child had
# before exec, i.e. this pytest process's).
WRAPPER = ("import re, sys\n"
           "from sigscan.cli.commands import main\n"
           "code = main(sys.argv[1:])\n"
           "with open('/proc/self/status') as f:\n"
           "    peak = re.search(r'^VmHWM:\\s+(\\d+)', f.read(), re.M).group(1)\n"
           "print('MAXRSS', peak, file=sys.stderr)\n"
           "sys.exit(code)\n")
MEMORY_GROWTH_KIB = 15 * 1024  # a 50 MB sender may cost this much more than a banner, at most


def sigscan(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", WRAPPER, *args], capture_output=True, text=True,
                          timeout=timeout, check=False)


def peak_rss(proc: subprocess.CompletedProcess[str]) -> int:
    found = re.search(r"^MAXRSS (\d+)$", proc.stderr, re.M)
    assert found, proc.stderr
    return int(found.group(1))


def closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- reading the three outputs ------------------------------------------------------------------


def written_so_far(path: Path) -> str:
    """What a running scan has written for PATH: a file output is written beside its name
    (``NAME.XXXXXXXX.tmp``) and renamed into place when the scan ends (sigscan.bundle.files)."""
    text = ""
    for temp in path.parent.glob(path.name + ".*.tmp"):
        with contextlib.suppress(FileNotFoundError):  # renamed into place meanwhile
            text += temp.read_text()
    return text


def ndjson_ports(path: Path) -> Counter[int]:
    return Counter(json.loads(line)["port"] for line in path.read_text().splitlines())


def xml_ports(path: Path) -> Counter[int]:
    root = ET.parse(path).getroot()
    found: Counter[int] = Counter(int(p.get("portid", "0")) for p in root.iter("port"))
    for reasons in root.iter("extrareasons"):
        for part in reasons.get("ports", "").split(","):
            low, _, high = part.partition("-")
            found.update(range(int(low), int(high or low) + 1))
    return found


def text_ports(text: str) -> Counter[int]:
    listed: Counter[int] = Counter(int(m.group(1)) for m in re.finditer(r"^(\d+)/tcp\s", text, re.M))
    assert "Not shown" not in text  # every port of these scans is listed
    return listed


# -- hostile servers ----------------------------------------------------------------------------


def test_hostile_ports_each_appear_once_in_every_output_with_bounded_memory(
        catalog: Catalog, servers: ServerThread, bundle_path: Path, tmp_path: Path) -> None:
    ports = {
        "banner": servers.serve(banner, unlisted_port(catalog))[0],
        "drip": servers.serve(drip, unlisted_port(catalog))[0],
        "reset": servers.serve(reset_mid_probe, unlisted_port(catalog))[0],
        "silent": servers.serve(silent, unlisted_port(catalog))[0],
        "tls-garbage": servers.serve(tls_garbage, ssl_listed_port())[0],
        "closed": closed_port(),
    }
    flood_port, flood_stats = servers.serve(flood, unlisted_port(catalog))
    ports["flood"] = flood_port
    spec = ",".join(str(p) for p in sorted(ports.values()))
    out = {kind: tmp_path / f"scan.{kind}" for kind in ("txt", "xml", "ndjson")}
    started = time.monotonic()
    proc = sigscan("scan", "127.0.0.1", "-p", spec, "--intensity", "0", "--profile", "nmap",
                   "--bundle", str(bundle_path), "-oN", str(out["txt"]), "-oX", str(out["xml"]),
                   "-oJ", str(out["ndjson"]))
    took = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr
    assert took < 6.0 + 8.0 + 10.0  # NULL wait, a TLS connect, start-up and slack

    wanted = Counter(ports.values())
    assert ndjson_ports(out["ndjson"]) == wanted
    assert xml_ports(out["xml"]) == wanted
    assert text_ports(out["txt"].read_text()) == wanted
    assert text_ports(proc.stdout) == wanted

    records = {r["port"]: r for r in map(json.loads, out["ndjson"].read_text().splitlines())}
    assert records[ports["banner"]]["name"] == "ssh"
    assert records[ports["closed"]]["state"] == "closed"
    assert records[ports["tls-garbage"]]["tunnel"] == "ssl"
    assert all(records[p]["state"] == "open" for k, p in ports.items() if k != "closed")
    assert flood_stats.sent < 45 * 1024 * 1024  # the sender was cut off, not read to the end

    baseline = sigscan("scan", "127.0.0.1", "-p", str(ports["banner"]), "--intensity", "0",
                       "--bundle", str(bundle_path), "-oJ", str(tmp_path / "base.ndjson"))
    assert baseline.returncode == 0, baseline.stderr
    growth = peak_rss(proc) - peak_rss(baseline)
    assert growth < MEMORY_GROWTH_KIB, f"peak RSS grew by {growth} KiB"


@pytest.mark.parametrize(("signum", "code", "said"), [(signal.SIGINT, 130, "interrupted"),
                                                     (signal.SIGTERM, 143, "terminated")])
def test_ctrl_c_or_sigterm_writes_what_finished(
        catalog: Catalog, servers: ServerThread, bundle_path: Path, tmp_path: Path,
        signum: int, code: int, said: str) -> None:
    quick, _ = servers.serve(banner, unlisted_port(catalog))
    slow = [servers.serve(silent, unlisted_port(catalog))[0] for _ in range(2)]
    xml, ndjson = tmp_path / "scan.xml", tmp_path / "scan.ndjson"
    args = ["scan", "127.0.0.1", "-p", ",".join(map(str, [quick, *slow])), "--intensity", "0",
            "--bundle", str(bundle_path), "-oX", str(xml), "-oJ", str(ndjson)]
    proc = subprocess.Popen([sys.executable, "-c", WRAPPER, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while str(quick) not in written_so_far(ndjson):
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.05)
        proc.send_signal(signum)
        stdout, stderr = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == code, stderr
    assert "Traceback" not in stderr and f"sigscan: {said}: wrote the 1 port(s)" in stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scan.ndjson", "scan.xml"]  # no .tmp left
    root = ET.parse(xml).getroot()  # a complete document
    finished = root.find("runstats/finished")
    assert finished is not None and finished.get("exit") == "error"
    assert xml_ports(xml) == Counter([quick])
    assert ndjson_ports(ndjson) == Counter([quick])
    assert f"{quick}/tcp" in stdout


def test_progress_line_on_a_terminal(catalog: Catalog, servers: ServerThread, bundle_path: Path) -> None:
    port, _ = servers.serve(banner, unlisted_port(catalog))
    leader, follower = pty.openpty()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "sigscan", "scan", "127.0.0.1", "-p", str(port),
             "--intensity", "0", "--bundle", str(bundle_path)],
            stdout=subprocess.PIPE, stderr=follower, timeout=60, check=False)
        os.close(follower)
        follower = -1
        seen = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    finally:
        if follower >= 0:
            os.close(follower)
        os.close(leader)
    assert proc.returncode == 0
    assert b"Progress: 1/1 ports (100.0%)" in seen
    assert b"Progress" not in proc.stdout


def test_a_closed_stderr_loses_only_what_it_would_have_shown(
        catalog: Catalog, servers: ServerThread, bundle_path: Path) -> None:
    """Started with standard error closed (``2>&-``), the scan still writes its report; the
    trace it was asked for has nowhere to go and is dropped."""
    port, _ = servers.serve(banner, unlisted_port(catalog))
    proc = subprocess.run(["sh", "-c", 'exec "$@" 2>&-', "sh", sys.executable, "-m", "sigscan",
                           "scan", "127.0.0.1", "-p", str(port), "--intensity", "0",
                           "--version-trace", "-v", "--bundle", str(bundle_path)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0
    assert re.search(rf"^{port}/tcp open  ssh ", proc.stdout, re.M), proc.stdout
    assert "Service scan" not in proc.stdout and "sigscan: " not in proc.stdout


def test_ipv6_and_target_file(catalog: Catalog, servers: ServerThread, bundle_path: Path,
                              tmp_path: Path) -> None:
    from tests.scan.servers import ipv6_loopback

    if not ipv6_loopback():
        pytest.skip("this machine has no IPv6 loopback (::1 cannot be bound)")
    v4, _ = servers.serve(banner, unlisted_port(catalog))
    v6, _ = servers.serve(banner, unlisted_port(catalog, "::1"))
    targets = tmp_path / "masscan.txt"
    targets.write_text(f"#masscan\nopen tcp {v4} 127.0.0.1 1700000000\nopen tcp {v6} ::1 1700000000\n")
    out = tmp_path / "scan.ndjson"
    proc = sigscan("scan", "-iL", str(targets), "--profile", "fast", "--intensity", "0",
                   "--bundle", str(bundle_path), "-oJ", str(out))
    assert proc.returncode == 0, proc.stderr
    records = sorted((r["host"], r["port"], r["name"]) for r in map(json.loads, out.read_text().splitlines()))
    assert records == sorted([("127.0.0.1", v4, "ssh"), ("::1", v6, "ssh")])


def test_udp_ports_are_probed_and_a_reply_makes_them_open(servers: ServerThread, bundle_path: Path,
                                                         tmp_path: Path) -> None:
    answering, _ = servers.serve_udp(reply=b"\x00\x01 an answer nobody knows")
    out = tmp_path / "scan.ndjson"
    proc = sigscan("scan", "127.0.0.1", "-sU", "-p", f"U:{answering}", "--version-light",
                   "--profile", "fast", "--bundle", str(bundle_path), "-oJ", str(out))
    assert proc.returncode == 0, proc.stderr
    [record] = map(json.loads, out.read_text().splitlines())
    assert (record["protocol"], record["state"], record["reason"]) == ("udp", "open", "udp-response")
    assert f"{answering}/udp open" in proc.stdout


# -- error paths --------------------------------------------------------------------------------


@pytest.mark.parametrize(("args", "message"), [
    (["127.0.0.1", "-p", "99999"], "port 99999"),
    (["300.1.1.1", "-p", "80"], "300.1.1.1"),
    (["-p", "80"], "no targets"),
    (["127.0.0.1", "-p", "80", "-iL", "/nonexistent/targets.txt"], "/nonexistent/targets.txt"),
    (["127.0.0.1", "-p", "T:80", "-sU"], "need a TCP scan"),
    (["127.0.0.1", "-p", "80", "-oX", "/nonexistent/dir/out.xml"], "cannot write /nonexistent/dir/out.xml"),
])
def test_bad_arguments_give_one_line_and_exit_2(
        args: list[str], message: str, bundle_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["scan", *args, "--bundle", str(bundle_path)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("sigscan: error: ") and message in err, err


def test_missing_bundle_in_a_real_process(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "sigscan", "scan", "127.0.0.1", "-p", "80",
                           "--bundle", str(tmp_path / "none.db")],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "no such bundle" in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""


def test_a_bad_target_is_told_before_a_missing_bundle(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["scan", "300.1.1.1", "-p", "80", "--bundle", str(tmp_path / "none.db")])
    err = capsys.readouterr().err
    assert code == 2 and "300.1.1.1" in err and "bundle" not in err, err


def test_scan_is_not_loaded_by_identify() -> None:
    """``sigscan identify`` start-up: importing the CLI loads no asyncio, ssl or engine."""
    code = ("import sys, sigscan.cli.commands\n"
            "sigscan.cli.commands.build_parser()\n"
            "print(sorted(m for m in ('asyncio', 'ssl', 'sigscan.engine', 'sigscan.scanning.scanner') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"

