"""``sigscan identify``: one response, JSON lines, --explain, errors; and where the bundle is
looked for when none is named."""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sigscan.bundle.errors import BundleError
from sigscan.bundle.locate import locate, user_bundle_path
from sigscan.cli.commands import main
from tests.runtime.test_matcher import small_bundle

PROBES = (
    b"Probe TCP NULL q||\n"
    b"match ssh m|^SSH-([\\d.]+)-OpenSSH_([\\w._-]+)\\r?\\n| p/OpenSSH/ v/$2/ i/protocol $1/\n"
    b"softmatch ftp m|^220 |\n"
    b"Probe TCP GetRequest q|GET / HTTP/1.0\\r\\n\\r\\n|\n"
    b"match http m|^HTTP/1\\.[01] \\d\\d\\d .*\\r\\nServer: nginx/([\\d.]+)| p/nginx/ v/$1/\n"
)
SSH = b"SSH-2.0-OpenSSH_9.6\r\n"


@pytest.fixture
def bundle_path(tmp_path: Path) -> Path:
    small_bundle(tmp_path, PROBES).close()
    return tmp_path / "small.db"


def run(argv: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        stdin: bytes = b"") -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_one_response_from_a_file(tmp_path: Path, bundle_path: Path, capsys: pytest.CaptureFixture[str],
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "banner").write_bytes(SSH)
    code, out, err = run(["identify", "--bundle", str(bundle_path), "--probe", "NULL", str(tmp_path / "banner")],
                         capsys, monkeypatch)
    assert code == 0 and err == ""
    verdict = json.loads(out)
    assert (verdict["name"], verdict["product"], verdict["version"], verdict["extrainfo"]) == (
        "ssh", "OpenSSH", "9.6", "protocol 2.0")
    assert verdict["probe"] == "NULL" and verdict["line"] == 2 and verdict["soft"] is False
    assert out.count("\n") == 1


def test_stdin_verbose_and_fallback(bundle_path: Path, capsys: pytest.CaptureFixture[str],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, err = run(["-v", "identify", "--bundle", str(bundle_path), "--probe", "GetRequest", "-"],
                         capsys, monkeypatch, stdin=b"220 ready\r\n")
    assert code == 0
    assert json.loads(out)["name"] == "ftp" and json.loads(out)["soft"] is True
    assert err in (f"sigscan: bundle {bundle_path} (given with --bundle); regex engine regex "
                   "(re for searches whose cost is provably small)\n",
                   f"sigscan: bundle {bundle_path} (given with --bundle); regex engine re\n")


def test_explain(bundle_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, _ = run(["identify", "--bundle", str(bundle_path), "--probe", "GetRequest", "--explain"],
                       capsys, monkeypatch, stdin=b"HTTP/1.1 200 OK\r\nServer: nginx/1.25.3\r\n")
    result = json.loads(out)
    assert code == 0 and result["version"] == "1.25.3"
    chain = result["explain"]["chain"]
    assert [c["probe"] for c in chain] == ["GetRequest"]
    assert chain[0]["candidates"] == [{"line": 5, "kept_by": "head b'HTTP/1.'", "result": "match"}]
    assert result["explain"]["winner"]["line"] == 5


def test_jsonl_keeps_ids_and_order_and_reports_bad_lines(bundle_path: Path, capsys: pytest.CaptureFixture[str],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    def line(ident: object, data: bytes, **extra: str) -> bytes:
        return json.dumps({"id": ident, "data_b64": base64.b64encode(data).decode(), **extra}).encode() + b"\n"

    stdin = b"".join([
        line(1, SSH, probe="NULL"),
        line("b", b"HTTP/1.0 404 x\r\nServer: nginx/1.2\r\n", probe="GetRequest", proto="tcp"),
        b"{not json\n",
        b'{"id": 4, "probe": "NULL", "data_b64": "***"}\n',
        line(5, SSH, probe="Nope"),
        b"\n",
        line(6, b"nothing", probe="NULL"),
        b"[1, 2]\n",
        line(8, SSH),  # no probe: --probe gives the default
    ])
    code, out, err = run(["identify", "--bundle", str(bundle_path), "--jsonl", "--probe", "NULL"],
                         capsys, monkeypatch, stdin=stdin)
    results = [json.loads(x) for x in out.splitlines()]
    assert [r["id"] for r in results] == [1, "b", None, 4, 5, 6, None, 8]
    assert [r.get("name") for r in results] == ["ssh", "http", None, None, None, None, None, "ssh"]
    assert [("error" in r) for r in results] == [False, False, True, True, True, False, True, False]
    assert results[3]["error"].startswith("bad base64")
    assert "no TCP probe named 'Nope'" in results[4]["error"]
    assert code == 2
    assert err.splitlines()[0].startswith("sigscan: error: line 3: not JSON")
    assert len(err.splitlines()) == 4


def test_jsonl_streams_one_line_at_a_time(bundle_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    with subprocess.Popen(
        [sys.executable, "-m", "sigscan", "identify", "--bundle", str(bundle_path), "--jsonl", "--probe", "NULL"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env,
    ) as proc:
        assert proc.stdin is not None and proc.stdout is not None
        for i in range(3):  # each answer arrives before the next line is written
            proc.stdin.write(json.dumps({"id": i, "data_b64": base64.b64encode(SSH).decode()}).encode() + b"\n")
            proc.stdin.flush()
            assert json.loads(proc.stdout.readline())["id"] == i
        proc.stdin.close()
        assert proc.wait(timeout=30) == 0


@pytest.mark.parametrize(("argv", "message"), [
    (["identify", "--bundle", "/nonexistent/x.db", "--probe", "NULL"], "build one with `sigc build`"),
    (["identify", "--probe", "NULL", "/nonexistent/response"], "cannot read /nonexistent/response"),
    (["identify"], "identify needs --probe"),
    (["identify", "--probe", "NUL"], "no TCP probe named 'NUL'"),
    (["identify", "--probe", "NULL", "--proto", "udp"], "no UDP probe named 'NULL'"),
])
def test_errors_are_one_line_and_exit_2(argv: list[str], message: str, bundle_path: Path,
                                         capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIGSCAN_BUNDLE", str(bundle_path))
    code, out, err = run(argv, capsys, monkeypatch, stdin=SSH)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("sigscan: error: ") and message in err


def test_bad_bundle_file(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "junk.db").write_bytes(b"junk")
    code, _, err = run(["identify", "--bundle", str(tmp_path / "junk.db"), "--probe", "NULL"], capsys, monkeypatch)
    assert code == 2 and "is not a sigc bundle" in err


# -- where the bundle is -------------------------------------------------------------------------


def test_locate_order(tmp_path: Path) -> None:
    data = tmp_path / "data"
    build = tmp_path / "work" / "build" / "signatures.db"
    user = data / "sigscan" / "signatures.db"
    for path in (build, user, tmp_path / "env.db", tmp_path / "given.db"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")
    env = {"XDG_DATA_HOME": str(data), "SIGSCAN_BUNDLE": str(tmp_path / "env.db")}
    cwd = tmp_path / "work"
    assert locate(tmp_path / "given.db", env, cwd).path == tmp_path / "given.db"
    assert locate(None, env, cwd).reason == "from $SIGSCAN_BUNDLE"
    del env["SIGSCAN_BUNDLE"]
    assert locate(None, env, cwd).path == build
    build.unlink()
    found = locate(None, env, cwd)
    assert (found.path, found.reason) == (user, "the user data folder")
    user.unlink()
    with pytest.raises(BundleError, match=r"no bundle found .*; build one with `sigc build`"):
        locate(None, env, cwd)


def test_locate_names_a_missing_explicit_bundle(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match=r"missing.db: no such bundle \(from \$SIGSCAN_BUNDLE\)"):
        locate(None, {"SIGSCAN_BUNDLE": str(tmp_path / "missing.db")}, tmp_path)


def test_user_bundle_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert user_bundle_path({}) == tmp_path / ".local" / "share" / "sigscan" / "signatures.db"
    assert user_bundle_path({"XDG_DATA_HOME": "relative"}) == tmp_path / ".local" / "share" / "sigscan" / "signatures.db"
    assert user_bundle_path({"XDG_DATA_HOME": "/x"}) == Path("/x/sigscan/signatures.db")


def test_jsonl_from_a_file(tmp_path: Path, bundle_path: Path, capsys: pytest.CaptureFixture[str],
                           monkeypatch: pytest.MonkeyPatch) -> None:
    lines = tmp_path / "in.jsonl"
    lines.write_text(json.dumps({"id": "x", "probe": "NULL", "data_b64": base64.b64encode(SSH).decode()}) + "\n")
    code, out, _ = run(["identify", "--bundle", str(bundle_path), "--jsonl", str(lines)], capsys, monkeypatch)
    assert code == 0 and json.loads(out)["id"] == "x" and json.loads(out)["name"] == "ssh"
