"""The sigc command line, in process: outputs, exit codes, and one clear line instead of a traceback."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from sigc import sources
from sigc.cli import main
from tests.conftest import REAL_FILES
from tests.helpers import TINY, write


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def line_counts(path: Path) -> dict[str, int]:
    lines = path.read_bytes().split(b"\n")
    probes = [line for line in lines if line.startswith(b"Probe ")]
    return {
        "probes": len(probes),
        "tcp_probes": sum(1 for line in probes if line.startswith(b"Probe TCP ")),
        "udp_probes": sum(1 for line in probes if line.startswith(b"Probe UDP ")),
        "matches": sum(1 for line in lines if line.startswith(b"match ")),
        "softmatches": sum(1 for line in lines if line.startswith(b"softmatch ")),
    }


def test_build_prints_a_summary_and_writes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = write(tmp_path, "tiny.probes", TINY)
    out_path = tmp_path / "out" / "b.db"
    code, out, err = run(capsys, "build", str(src), "-o", str(out_path))
    assert code == 0, err
    assert out_path.is_file()
    assert re.search(r"probes\s+3 \(2 TCP, 1 UDP\)", out)
    assert re.search(r"matches\s+3\n", out) and re.search(r"softmatches\s+1\n", out)
    assert f"wrote        {out_path} (sqlite" in out


def test_build_with_errors_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = write(tmp_path, "bad.probes", b"Probe TCP X q|a|\nrarity 0\nports 1-\n")
    target = tmp_path / "b.json"
    code, _, err = run(capsys, "build", str(src), "-o", str(target))
    assert code == 1 and not target.exists()
    assert f"{src}:2:8: SIG111 error" in err and f"{src}:3:9: SIG110 error" in err
    assert "no bundle written" in err and "Traceback" not in err


def test_build_without_a_database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sources, "DEFAULT_DIRS", (str(tmp_path / "none"),))
    monkeypatch.delenv("NMAPDIR", raising=False)
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "build")
    assert code == 2
    assert err.count("\n") == 1 and "no nmap-service-probes found" in err and "apt-get install nmap" in err


def test_missing_source_and_bundle(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "build", str(tmp_path / "x"))[0] == 2
    code, _, err = run(capsys, "stats", str(tmp_path / "x.db"))
    assert code == 2 and "no such file" in err
    code, _, err = run(capsys, "dump", str(tmp_path / "x.db"))
    assert code == 2 and "no such bundle" in err


def test_stats_of_source_and_bundles_agree(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = write(tmp_path, "tiny.probes", TINY)
    results = []
    for target in (src, tmp_path / "t.db", tmp_path / "t.json"):
        if target != src:
            assert run(capsys, "build", str(src), "-o", str(target), "-q")[0] == 0
        code, out, _ = run(capsys, "stats", str(target))
        assert code == 0
        results.append(json.loads(out))
    assert results[0] == results[1] == results[2]
    assert results[0] == line_counts(src) | {"services": 3}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(REAL_FILES))
def test_stats_equal_line_counts_of_real_files(
    name: str, built: dict[tuple[str, str], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    expected = line_counts(REAL_FILES[name])
    for target in (REAL_FILES[name], built[(name, "db")], built[(name, "json")]):
        code, out, _ = run(capsys, "stats", str(target))
        assert code == 0
        stats = json.loads(out)
        assert {k: stats[k] for k in expected} == expected


def test_dump_to_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = write(tmp_path, "tiny.probes", TINY)
    assert run(capsys, "build", str(src), "-o", str(tmp_path / "t.json"), "-q")[0] == 0
    assert run(capsys, "dump", str(tmp_path / "t.json"), "-o", str(tmp_path / "d.probes"))[0] == 0
    text = (tmp_path / "d.probes").read_bytes()
    assert b"Probe TCP GenericLines q|\\r\\n\\r\\n|\n" in text


def test_console_script_runs(tmp_path: Path) -> None:
    src = write(tmp_path, "tiny.probes", TINY)
    exe = Path(sys.executable).with_name("sigc")
    proc = subprocess.run([str(exe), "stats", str(src)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["probes"] == 3
