"""The commands at their edges: hostile ``--jsonl`` lines, inputs that never end, a standard output
that is full or closed early, empty port specifications. Each case ends in time, without a
traceback, with one line on stderr and the documented exit status."""

from __future__ import annotations

import base64
import errno
import json
import os
import resource
import shutil
import socket
import stat
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from sigc.build import build
from sigc.sources import resolve
from sigscan.bundle.files import INPUT_LIMIT
from sigscan.cli.commands import LINE_LIMIT
from tests.helpers import TINY
from tests.hostile.support import KILL_GRACE, run_bounded

TIMEOUT = 60  # seconds: a hang, not a slow run
NO_SPACE = f"cannot write standard output: {os.strerror(errno.ENOSPC)}"
# A NULL probe that gives up quickly, so a silent port finishes within a test's patience.
QUICK = (b"Probe TCP NULL q||\n"
         b"totalwaitms 300\n"
         b"match ssh m|^SSH-([\\d.]+)-| p/SSH/ v/$1/\n")


@dataclass(frozen=True)
class World:
    folder: Path
    source: Path
    bundle: Path  # TINY, with an nmap-services that lists only ``port``
    quick: Path  # QUICK
    big: Path  # 3,000 match lines: its dump is far larger than a pipe's buffer
    port: int  # a closed loopback port this module holds (bound, never listening)
    silent: int  # a loopback port this module listens on and never answers


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("edges")
    with socket.socket() as closed, socket.socket() as silent:
        closed.bind(("127.0.0.1", 0))
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # the kernel completes the handshakes; nobody reads
        port = closed.getsockname()[1]
        db = folder / "db"
        db.mkdir()
        source = db / "nmap-service-probes"
        source.write_bytes(TINY)
        (db / "nmap-services").write_text(f"only\t{port}/tcp\t0.5\n")
        bundle = folder / "small.db"
        assert build(resolve([str(db)]), bundle).ok
        quick = folder / "quick.db"
        (folder / "quick.probes").write_bytes(QUICK)
        assert build(resolve([str(folder / "quick.probes")]), quick).ok
        big_source = folder / "big.probes"
        big_source.write_bytes(b"Probe TCP NULL q||\n" + b"".join(
            b"match s%d m|^banner number %d here| p/product %d/\n" % (i, i, i) for i in range(3000)))
        big = folder / "big.db"
        assert build(resolve([str(big_source)]), big).ok
        yield World(folder, source, bundle, quick, big, port, silent.getsockname()[1])


def device(path: Path, numbers: tuple[int, int]) -> Path:
    if os.geteuid() != 0:
        pytest.skip("needs root to make a device node")
    os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(*numbers))
    return path


def strict_json(line: str) -> Any:
    """RFC 8259 JSON only: NaN, Infinity and -Infinity are refused."""
    def refuse(name: str) -> Any:
        raise ValueError(f"{name} in the output")
    return json.loads(line, parse_constant=refuse)


def request(ident: object, data: bytes = b"220 example FTP server (Version 1.2)\r\n") -> bytes:
    return json.dumps({"id": ident, "probe": "NULL", "data_b64": base64.b64encode(data).decode()}).encode()


# -- identify --jsonl: every line one answer, always valid JSON ---------------------------------


def test_jsonl_every_bad_line_gets_one_error_object_and_the_stream_goes_on(world: World) -> None:
    lines = [
        b"[" * 100_000,  # was a RecursionError that ended the stream
        request("after-deep"),
        b'{"id": 1e400, "probe": "NULL", "data_b64": ""}',  # was echoed as Infinity
        b'{"id": NaN, "probe": "NULL", "data_b64": ""}',  # was echoed as NaN
        b'{"id": Infinity, "probe": "NULL", "data_b64": ""}',
        b'{"id": -Infinity, "probe": "NULL", "data_b64": ""}',
        b'{"id": "deep", "x": ' + b"[" * 70 + b"]" * 70 + b"}",
        b'{"id": "' + b"[" * 100 + b'", "probe": "NULL", "data_b64": ""}',  # brackets in a string
        b"\xff\xfe not utf-8",
        request("last"),
    ]
    outcome = run_bounded("sigscan", "identify", "--bundle", str(world.bundle), "--jsonl",
                          timeout=TIMEOUT, codes=(2,), stdin=b"\n".join(lines) + b"\n", one_line=False)
    answers = [strict_json(line) for line in outcome.out.splitlines()]
    assert len(answers) == len(lines)
    errors = {a["input_line"]: a["error"] for a in answers if "error" in a}
    assert sorted(errors) == [1, 3, 4, 5, 6, 7, 9]
    assert "nested deeper than 64 levels" in errors[1] and "does not fit a double" in errors[3]
    assert all("RFC 8259" in errors[n] for n in (4, 5, 6))
    assert [a["id"] for a in answers if "error" not in a] == ["after-deep", "[" * 100, "last"]
    assert answers[1]["product"] == "Tiny FTP" and answers[-1]["product"] == "Tiny FTP"
    assert len(outcome.err.splitlines()) == len(errors)


def test_jsonl_a_huge_line_is_refused_within_bounded_memory(world: World) -> None:
    """A 50 MB line under a 128 MiB address-space limit: read whole (as before) it cannot fit
    with its decoding; read in a bounded buffer it gets an error and the next line its answer."""
    huge = b'{"id": "' + b"a" * 50_000_000 + b'"}'
    outcome = run_bounded("sigscan", "identify", "--bundle", str(world.bundle), "--jsonl",
                          timeout=TIMEOUT, codes=(2,), stdin=huge + b"\n" + request("next") + b"\n",
                          rlimits={resource.RLIMIT_AS: 128 * 1024 * 1024})
    first, second = (strict_json(line) for line in outcome.out.splitlines())
    assert first == {"id": None, "input_line": 1, "error": f"line longer than {LINE_LIMIT:,} bytes"}
    assert second["id"] == "next" and second["product"] == "Tiny FTP"


# -- inputs that never end ------------------------------------------------------------------------


@pytest.mark.parametrize("command", [
    ("sigc", "lint", "/dev/zero"),
    ("sigc", "build", "/dev/zero", "-o", "{folder}/never.db"),
    ("sigscan", "identify", "--bundle", "{bundle}", "--probe", "NULL", "/dev/zero"),
    ("sigscan", "identify", "--bundle", "{bundle}", "--jsonl", "/dev/zero"),
    ("sigscan", "scan", "-iL", "/dev/zero", "-p", "{port}", "--bundle", "{bundle}"),
])
def test_an_endless_input_is_read_with_a_bound(world: World, tmp_path: Path, command: tuple[str, ...]) -> None:
    args = [a.format(folder=tmp_path, bundle=world.bundle, port=world.port) for a in command]
    outcome = run_bounded(args[0], *args[1:], timeout=TIMEOUT, codes=(2,))
    if "--jsonl" in args:  # one endless line: one error object, exit 2
        assert strict_json(outcome.out)["error"].startswith("cannot read the input further (larger than")
    else:
        assert f"larger than {INPUT_LIMIT >> 20} MiB" in outcome.err
    assert not (tmp_path / "never.db").exists()


def test_identify_reads_standard_input_with_a_bound(world: World) -> None:
    outcome = run_bounded("sigscan", "identify", "--bundle", str(world.bundle), "--probe", "NULL", "-",
                          timeout=TIMEOUT, codes=(2,), stdin=b"\0" * (INPUT_LIMIT + 1))
    assert f"cannot read -: larger than {INPUT_LIMIT >> 20} MiB" in outcome.err


def test_lint_of_a_fifo_that_never_ends(tmp_path: Path) -> None:
    fifo = tmp_path / "endless.probes"
    os.mkfifo(fifo)

    def feed() -> None:
        try:
            with open(fifo, "wb") as f:
                while True:
                    f.write(b"# " + b"x" * 65_000 + b"\n")
        except OSError:  # the reader stopped: EPIPE
            pass

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    try:
        outcome = run_bounded("sigc", "lint", str(fifo), timeout=TIMEOUT, codes=(2,))
    finally:
        if writer.is_alive():  # unblock a writer nobody opened the FIFO for
            os.close(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK))
        writer.join(TIMEOUT)
    assert f"larger than {INPUT_LIMIT >> 20} MiB" in outcome.err


# -- a full standard output: one line, exit 2 ---------------------------------------------------


STDOUT_COMMANDS = {
    "scan": ("sigscan", "scan", "127.0.0.1", "-p", "{port}", "--bundle", "{bundle}"),
    "identify": ("sigscan", "identify", "--bundle", "{bundle}", "--probe", "NULL", "{source}"),
    "identify --jsonl": ("sigscan", "identify", "--bundle", "{bundle}", "--jsonl", "{requests}"),
    "lint": ("sigc", "lint", "--format", "json", "{source}"),
    "lint --list-codes": ("sigc", "lint", "--list-codes"),
    "stats": ("sigc", "stats", "{bundle}"),
    "dump": ("sigc", "dump", "{bundle}"),
    "build": ("sigc", "build", "{source}", "-o", "{folder}/b.json"),
}


@pytest.mark.parametrize("name", sorted(STDOUT_COMMANDS))
def test_a_full_standard_output_is_one_line_and_exit_2(world: World, tmp_path: Path, name: str) -> None:
    """``> /dev/full``, with a device node of the test's own."""
    full = device(tmp_path / "full", (1, 7))
    (tmp_path / "requests").write_bytes(request(1) + b"\n")
    args = [a.format(port=world.port, bundle=world.bundle, source=world.source, folder=tmp_path,
                     requests=tmp_path / "requests") for a in STDOUT_COMMANDS[name]]
    with open(full, "wb") as out:
        outcome = run_bounded(args[0], *args[1:], timeout=TIMEOUT, codes=(2,), stdout=out)
    assert outcome.err.strip().endswith(NO_SPACE), outcome.err


# -- a standard output closed early (| head -c 1): quiet -----------------------------------------


def read_one_byte(program: str, *args: str) -> tuple[int, str]:
    """``program args | head -c 1``: the exit status and stderr, once the program has ended."""
    with subprocess.Popen([sys.executable, "-m", program, *args], stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        try:
            assert proc.stdout.read(1)
            proc.stdout.close()
            err = proc.communicate(timeout=TIMEOUT)[1]
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.communicate(timeout=KILL_GRACE)
            raise AssertionError(f"{program} {' '.join(args)} ran past {TIMEOUT} s") from None
    return proc.returncode, err.decode("utf-8", "replace")


def test_dump_into_a_closed_pipe_ends_quietly(world: World) -> None:
    assert read_one_byte("sigc", "dump", str(world.big)) == (0, "")


def test_identify_into_a_closed_pipe_ends_quietly(world: World, tmp_path: Path) -> None:
    requests = tmp_path / "requests.jsonl"
    requests.write_bytes(b"".join(request(i) + b"\n" for i in range(3000)))
    assert read_one_byte("sigscan", "identify", "--bundle", str(world.bundle), "--jsonl", str(requests)) == (0, "")


def scan_args(world: World, *extra: str) -> list[str]:
    """A closed port (written at once) and a silent one (written after the NULL probe's wait,
    when the reader has gone)."""
    return ["scan", "127.0.0.1", "-p", f"{world.port},{world.silent}", "--bundle", str(world.quick),
            "--intensity", "0", "-oJ", "-", *extra]


def test_a_scan_into_a_closed_pipe_stops_quietly(world: World) -> None:
    assert read_one_byte("sigscan", *scan_args(world)) == (0, "")


def test_a_scan_into_a_closed_pipe_still_completes_its_files(world: World, tmp_path: Path) -> None:
    xml = tmp_path / "scan.xml"
    assert read_one_byte("sigscan", *scan_args(world, "-oX", str(xml))) == (0, "")
    root = ET.parse(xml).getroot()
    finished = root.find("runstats/finished")
    assert finished is not None and finished.get("exit") == "success"
    assert sorted(int(p.get("portid", "0")) for p in root.iter("port")) == sorted([world.port, world.silent])


# -- empty port specifications: refused, as Nmap refuses them -------------------------------------


EMPTY_SPECS = ["", ",", ",,", " ", "\t", "T:"]


@pytest.mark.parametrize("spec", EMPTY_SPECS, ids=repr)
def test_an_empty_port_specification_is_refused(world: World, spec: str) -> None:
    """The bundle's nmap-services lists one port, which this module holds closed: a scan of the
    "top ports" (what ``-p ''`` did) would scan it and exit 0."""
    outcome = run_bounded("sigscan", "scan", "127.0.0.1", "-p", spec, "--bundle", str(world.bundle),
                          timeout=TIMEOUT, codes=(2,))
    assert "port specification" in outcome.err and outcome.out == ""


@pytest.mark.parametrize("spec", EMPTY_SPECS, ids=repr)
def test_nmap_refuses_the_same_specifications(spec: str) -> None:
    nmap = shutil.which("nmap")
    if nmap is None:
        pytest.skip("nmap is not installed (apt-get install nmap)")
    proc = subprocess.run([nmap, "-n", "-Pn", "-p", spec, "127.0.0.1"], capture_output=True,
                          text=True, timeout=TIMEOUT, check=False)
    assert proc.returncode != 0
    assert "port specifications are illegal" in proc.stderr or "No ports specified" in proc.stderr
