"""The tables of docs/diagnostics.md, checked against the real Nmap: each way Nmap 7.93 refuses a
probe file (``sigc.refusals.REFUSALS``) makes Nmap stop with its message and sigc report the
code the table gives, that error alone; each thing sigc refuses and Nmap loads
(``sigc.refusals.STRICTER``) loads in Nmap and is that error in sigc.

Nmap loads the file given with ``--versiondb`` before it scans, so a closed loopback port is
enough: the run is a load and nothing more (no probe is sent, nothing can match)."""

from __future__ import annotations

import shutil
import socket
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from sigc import refusals
from sigc.build import UnusableInput, compile_inputs, require_usable
from sigc.codes import all_codes
from sigc.diagnostics import Severity
from sigc.lint import all_findings
from sigc.refusals import LOADS, REFUSALS, STRICTER, UNUSABLE, Example
from sigc.sources import Inputs

TIMEOUT = 60  # seconds per Nmap run: a load takes half a second
EXAMPLES = REFUSALS + STRICTER
# Beside every example, as nmap-services: sigc looks Exclude's service names up in it.
SERVICES = b"http\t80/tcp\t0.484143\nhttp\t80/udp\t0.035767\nsnmp\t161/udp\t0.433467\n"


@dataclass(frozen=True)
class Loaded:
    loads: bool
    said: str


def _closed_port() -> int:
    """A loopback port nothing listens on (bound for a moment to pick it, then released)."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        return int(server.getsockname()[1])


def _write(folder: Path, example: Example) -> Path:
    folder.mkdir()
    (folder / "nmap-services").write_bytes(SERVICES)
    path = folder / "case.probes"
    path.write_bytes(example.file)
    return path


def _sigc(path: Path, *, build: bool = False) -> set[str]:
    """The codes of the errors ``sigc lint`` reports, or with ``build`` those that stop
    ``sigc build`` (lint's SIG5xx rules do not run there); or {UNUSABLE}."""
    inputs = Inputs((path,), path.parent / "nmap-services", None)
    db, _ = compile_inputs(inputs)
    try:
        require_usable(db, inputs)
    except UnusableInput:
        return {UNUSABLE}
    found = db.diagnostics if build else all_findings(db)
    return {d.code for d in found if d.severity is Severity.ERROR}


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Example, Path, Loaded]]:
    nmap = shutil.which("nmap")
    if nmap is None:
        pytest.skip("nmap is not installed (apt-get install nmap)")
    folder = tmp_path_factory.mktemp("refusals")
    paths = [_write(folder / f"case{i:02d}", e) for i, e in enumerate(EXAMPLES)]
    port = _closed_port()

    def load(path: Path) -> Loaded:
        done = subprocess.run([nmap, "-sT", "-Pn", "-n", "-p", str(port), "-sV", "--versiondb", str(path), "127.0.0.1"],
                              capture_output=True, timeout=TIMEOUT, check=False)
        said = (done.stdout + done.stderr).decode("latin-1")
        return Loaded(done.returncode == 0 and "Nmap done" in said, said)

    with ThreadPoolExecutor(max_workers=2) as pool:
        loaded = list(pool.map(load, paths))
    return list(zip(EXAMPLES, paths, loaded, strict=True))


def _ids(examples: tuple[Example, ...]) -> list[str]:
    return [f"{e.code}-{e.line[:24].decode('latin-1')!r}" for e in examples]


@pytest.mark.real_nmap
@pytest.mark.parametrize("index", range(len(REFUSALS)), ids=_ids(REFUSALS))
def test_nmap_refuses_and_sigc_says_why(index: int, cases: list[tuple[Example, Path, Loaded]]) -> None:
    example, path, nmap = cases[index]
    assert not nmap.loads, nmap.said
    assert example.nmap in nmap.said, nmap.said
    assert _sigc(path) == {example.code}
    assert _sigc(path, build=True) == {example.code}  # no bundle of a file Nmap refuses


@pytest.mark.real_nmap
@pytest.mark.parametrize("index", range(len(STRICTER)), ids=_ids(STRICTER))
def test_sigc_refuses_what_nmap_loads(index: int, cases: list[tuple[Example, Path, Loaded]]) -> None:
    example, path, nmap = cases[len(REFUSALS) + index]
    assert nmap.loads, nmap.said
    assert _sigc(path) == {example.code}


def test_the_tables_name_error_codes() -> None:
    codes = all_codes()
    for example in EXAMPLES:
        assert example.code == UNUSABLE or codes[example.code][0] is Severity.ERROR, example
        assert (example.nmap == LOADS) == (example in STRICTER), example
        assert example.why or example in REFUSALS, example


def test_every_nmap_message_of_the_loader_has_a_row() -> None:
    """Each fatal message of service_scan.cc's loader (InitMatch, next_template,
    setProbeDetails, setPortVector, setRarity, parse_nmap_service_probe_file, compileFallbacks)
    and of getpts, with the one PCRE1 compile error sigc keeps apart, is in the table."""
    messages = {e.nmap for e in REFUSALS}
    for expected in (
        "could not find service name", "matchtext must begin with 'm'", "illegal regexp option", "illegal regexp",
        "Unknown template specifier", "next_template: parse error", "InitMatch: parse error", "no arguments found",
        "invalid protocol", "bad probe name", "nothing after probe name", "probe string must begin with 'q'",
        "no ending delimiter for probe string", "bad probe string escaping",
        "Ports must be between 0 and 65535 inclusive", "An example of proper portlist form", "must be between 1 and 9",
        "Only 1 Exclude directive is allowed", "The Exclude directive must precede all Probes", "unknown directive",
        "line was expected to begin with", "bad totalwaitms value", "bad tcpwrappedms value", "!AP->nullProbe",
        "Unknown fallback specified", "MAXFALLBACKS exceeded", "Unknown protocol specifier", "Can't nest [] brackets",
        "Unexpected ] character", "Protocols specified must be between 0 and 255", "Ports specified must be between",
        "malformed or too long", "Found no matches for the service mask", "Error #485", "Error #486", "Error #487",
        "Error #488", "is backwards", "regular expression is too large", "parentheses are too deeply nested",
        "regular expression is too complicated", "lookbehind assertion is not fixed length",
    ):
        assert any(expected in m for m in messages), expected


def test_the_doc_shows_every_example() -> None:
    text = "\n".join(refusals.markdown())
    assert text.count("\n| ") == len(REFUSALS) + len(STRICTER) + 2  # the two header rows
