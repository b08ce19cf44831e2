"""``sigscan-nmap`` as the ``nmap`` of python-nmap (``PortScanner(nmap_search_path=…)``) and of
python-libnmap (``NmapProcess(fqp=…)``): each library runs it with ``-sV -Pn -n -T4`` and an
explicit ``-p`` against loopback servers (an SSH banner, Python's http.server, a closed port),
and must parse from it what it parses from the real ``nmap`` run at the same time with the same
arguments and the same probe database (Nmap's installed one; sigscan's bundle is built from
it).

python-nmap runs ``nmap -V`` first and reads the version with a regular expression; libnmap adds
``-oX - -vvv --stats-every 1s`` to every command line. The one difference allowed is the reason
of the closed port: as root, ``nmap -sV`` port-scans with SYN packets and says ``reset``, where a
connect scan (sigscan's, and Nmap's ``-sT``) says ``conn-refused``."""

from __future__ import annotations

import http.server
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import real_file
from tests.output.support import free_ports
from tests.scan.nmapcli import console_script, nmap
from tests.scan.servers import banner, server_thread

nmap_module = pytest.importorskip("nmap", reason="python-nmap is not installed (scripts/setup.sh --dev)")
libnmap_process = pytest.importorskip("libnmap.process", reason="python-libnmap is not installed (scripts/setup.sh --dev)")
libnmap_parser = pytest.importorskip("libnmap.parser", reason="python-libnmap is not installed (scripts/setup.sh --dev)")

pytestmark = pytest.mark.real_nmap
ARGUMENTS = "-sV -Pn -n -T4"
CLOSED_REASONS = {"reset", "conn-refused"}  # root's SYN scan, a connect scan


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a scanner's reset connections are no news


@dataclass(frozen=True, slots=True)
class Lab:
    script: Path
    ports: str
    closed: int


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    from sigc.build import build
    from sigc.sources import resolve

    nmap()
    folder = tmp_path_factory.mktemp("libraries")
    bundle = folder / "nmap.db"
    assert build(resolve([str(real_file("7.93"))]), bundle).ok
    web = _Server(("127.0.0.1", 0), _Quiet)
    thread = threading.Thread(target=web.serve_forever, daemon=True)
    thread.start()
    try:
        with server_thread() as servers, pytest.MonkeyPatch.context() as patch:
            patch.setenv("SIGSCAN_BUNDLE", str(bundle))
            ssh, _ = servers.serve(banner)
            [closed] = free_ports(1)
            ports = ",".join(map(str, sorted([ssh, web.server_address[1], closed])))
            yield Lab(console_script(folder), ports, closed)
    finally:
        web.shutdown()
        web.server_close()
        thread.join(timeout=10)


def _at_once(*calls: Callable[[], Any]) -> list[Any]:
    with ThreadPoolExecutor(len(calls)) as pool:
        return [f.result() for f in [pool.submit(call) for call in calls]]


def _python_nmap(program: str, ports: str) -> tuple[Any, dict[str, Any]]:
    scanner = nmap_module.PortScanner(nmap_search_path=(program,))
    result = scanner.scan("127.0.0.1", ports, arguments=ARGUMENTS, timeout=90)
    return scanner, result


def _libnmap(program: str, ports: str) -> Any:
    process = libnmap_process.NmapProcess(targets="127.0.0.1", options=f"{ARGUMENTS} -p {ports}",
                                          fqp=program)
    try:
        assert process.run() == 0, process.stderr
    finally:  # libnmap leaves its process's pipes open
        child = process._NmapProcess__nmap_proc
        child.stdout.close()
        child.stderr.close()
    return libnmap_parser.NmapParser.parse(process.stdout)


def test_python_nmap_reads_sigscan_nmap_as_it_reads_nmap(lab: Lab) -> None:
    (theirs, _), (ours, our_result) = _at_once(
        lambda: _python_nmap(nmap(), lab.ports), lambda: _python_nmap(str(lab.script), lab.ports))
    assert ours.nmap_version() == (7, 93) == theirs.nmap_version()
    assert "error" not in our_result["nmap"]["scaninfo"], our_result["nmap"]["scaninfo"]
    assert ours.all_hosts() == theirs.all_hosts() == ["127.0.0.1"]
    mine, nmaps = ours["127.0.0.1"]["tcp"], theirs["127.0.0.1"]["tcp"]
    assert nmaps[lab.closed].pop("reason") in CLOSED_REASONS
    assert mine[lab.closed].pop("reason") == "conn-refused"
    assert mine == nmaps
    assert {port["name"] for port in mine.values()} >= {"ssh", "http"}
    assert our_result["nmap"]["scanstats"]["uphosts"] == "1"


def test_libnmap_reads_sigscan_nmap_as_it_reads_nmap(lab: Lab) -> None:
    theirs, ours = _at_once(lambda: _libnmap(nmap(), lab.ports), lambda: _libnmap(str(lab.script), lab.ports))
    assert [h.address for h in ours.hosts] == [h.address for h in theirs.hosts] == ["127.0.0.1"]
    mine, nmaps = (_services(report) for report in (ours, theirs))
    assert nmaps.pop(lab.closed)[1] in CLOSED_REASONS
    assert mine.pop(lab.closed)[1] == "conn-refused"
    assert mine == nmaps
    assert ours.hosts_up == theirs.hosts_up == 1
    assert "-vvv --stats-every 1s" in ours.commandline  # what libnmap adds, taken as Nmap takes it


def _services(report: Any) -> dict[int, tuple[Any, ...]]:
    return {s.port: (s.state, s.reason, s.service, s.banner, s.tunnel,
                     [c.cpestring for c in s.cpelist], s.protocol)
            for s in report.hosts[0].services}


def test_the_console_script_is_declared_in_both_pyprojects() -> None:
    import tomllib

    root = Path(__file__).resolve().parents[2]
    for path in (root / "pyproject.toml", root / "runtime" / "pyproject.toml"):
        scripts = tomllib.loads(path.read_text())["project"]["scripts"]
        assert scripts["sigscan-nmap"] == "sigscan.cli.nmap:main", path
    assert os.access(root / "runtime" / "sigscan" / "cli" / "nmap.py", os.R_OK)
