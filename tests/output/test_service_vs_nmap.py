"""One service model in every output (issue 14, item 6), against the real ``nmap -sV``.

sigscan (with a bundle of the installed database) and the installed Nmap 7.93 scan the same
loopback ports of ``localhost`` at the same time, at intensity 0:

- ``ssh``: an OpenSSH banner (recognized: probed, confidence 10, CPEs);
- ``vmware``: a banner Nmap's ``match ssl/vmware-auth`` line takes (the ``ssl/`` shortcut:
  ``vmware-auth`` through an SSL tunnel, no TLS spoken);
- ``junk``: an unrecognized banner on a port ``nmap-services`` does not name (``unknown``, a
  fingerprint);
- ``tls``: HTTP behind TLS, on a port the TLS probes and GetRequest's ``sslports`` list (the SSL
  restart: ``ssl/http``);
- ``silent``: a port that accepts and says nothing, named by ``nmap-services`` (a table guess,
  ``name?``);
- ``closed``: nothing listening, named by ``nmap-services`` (the table name, method table);
- ``closed_unnamed``: nothing listening, no name (no ``<service>`` at all).

Compared: each port's ``<service>`` (every attribute, the fingerprint without its clock) and
``<cpe>`` children, the port table of the normal output line for line, the fingerprints' count
line (labelled as sigscan's, docs/outputs.md), the target name; then sigscan's NDJSON against
Nmap's XML and text for every port, and ``sigscan identify`` on the ``ssl/`` banner against what
Nmap reports for it.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import ssl
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import trustme

from sigscan.bundle.loader import open_bundle
from sigscan.engine import Catalog, Proto
from sigscan.engine.catalog import probable
from sigscan.output.cpe import to_23
from sigscan.scanning.ports import ServiceTable
from tests.conftest import real_file
from tests.output.support import NmapOutput, nmap_path, relabelled, run_nmap
from tests.scan.servers import ServerThread, Stats, _read_until_closed, _send, silent

pytestmark = pytest.mark.real_nmap

SSH = b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u2\r\n"
VMWARE = b"220 VMware Authentication Daemon Version 1.10: SSL Required\r\n"
JUNK = b"XYZZY unknown banner \x00\x01 [v1.0]\r\n"
HTTP = b"HTTP/1.0 200 OK\r\nServer: Apache/2.4.57 (Debian)\r\nContent-Length: 0\r\n\r\n"
# Ports that a TLS probe's ``ports`` (SSLSessionReq, TLSSessionReq) and GetRequest's
# ``sslports`` list: the SSL restart happens and HTTP is asked for through the tunnel.
TLS_PORTS = (8443, 443, 10443, 14443, 44443, 60443, 9443, 7443, 4443, 3443, 1443)
SCAN_TIMEOUT = 90.0
TLS_CONNECTION_SECONDS = 20.0  # a TLS connection is closed after this long without traffic
FIELDS = ("product", "version", "extrainfo", "hostname", "ostype", "devicetype")


@dataclass(frozen=True, slots=True)
class Scans:
    ports: dict[str, int]
    nmap: NmapOutput
    xml: str  # sigscan's
    normal: str
    ndjson: list[dict[str, Any]]
    identify: dict[str, Any]


# -- servers --------------------------------------------------------------------------------------


def sends(data: bytes) -> Callable[[Any, Any, Stats], Any]:
    async def handler(reader: Any, writer: Any, stats: Stats) -> None:
        await _send(writer, stats, data)
        await _read_until_closed(reader, stats)
    return handler


class TlsHttp:
    """HTTP behind TLS on a bound socket of 127.0.0.1, one thread per connection. The TLS is
    done in memory (``SSLObject``) and whatever OpenSSL has to send is sent, the alert for a
    hello it refuses included (Nmap's ``ssl`` line matches that alert; asyncio's TLS server
    closes without it). Every connection ends after TLS_CONNECTION_SECONDS without traffic; the
    server stops with the ``with`` block."""

    def __init__(self, sock: socket.socket, context: ssl.SSLContext) -> None:
        self.sock, self.context = sock, context
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self) -> TlsHttp:
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=5)
        self.sock.close()

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(TLS_CONNECTION_SECONDS)
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        tls = self.context.wrap_bio(incoming, outgoing, server_side=True)

        def call(operation: Callable[[], Any]) -> Any:
            while True:
                try:
                    return operation()
                except ssl.SSLWantReadError:
                    conn.sendall(outgoing.read())
                    data = conn.recv(65536)
                    if not data:
                        raise EOFError from None
                    incoming.write(data)

        with contextlib.suppress(OSError, EOFError), conn:  # ssl.SSLError is an OSError
            try:
                call(tls.do_handshake)
                if call(lambda: tls.read(4096)):
                    tls.write(HTTP)
                    conn.sendall(outgoing.read())
                while not self.stop.is_set() and call(lambda: tls.read(4096)):
                    pass
            finally:
                conn.sendall(outgoing.read())  # an alert, when the handshake failed


def bind(port: int) -> socket.socket | None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError:
        sock.close()
        return None
    return sock


def pick(candidates: Iterator[int], wanted: Callable[[int], bool]) -> socket.socket:
    """A bound socket on the first free port of ``candidates`` that ``wanted`` accepts."""
    for port in candidates:
        if wanted(port):
            sock = bind(port)
            if sock is not None:
                return sock
    raise RuntimeError("no free loopback port fits")


# -- the scans ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scans(built: dict[tuple[str, str], Path], tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[Scans]:
    if nmap_path() is None:
        pytest.skip("nmap is not installed (apt-get install nmap)")
    real_file("7.93")  # nmap -sV reads its installed database
    bundle_path = built[("7.93", "db")]
    with open_bundle(bundle_path) as bundle:
        catalog = Catalog.from_bundle(bundle)
        table = ServiceTable.from_bundle(bundle)

        def listed(port: int) -> bool:
            return any(probable(p, port, tls) for p in catalog.probes[Proto.TCP]
                       for tls in (False, True))

        def named(port: int) -> bool | None:
            """True: a name; False: not listed; None: listed as ``unknown``."""
            name = table.name(port, "tcp")
            return None if name == "unknown" else name is not None

        held: dict[str, socket.socket] = {}
        high = iter(range(20000, 60000))
        for key, is_named in (("ssh", False), ("vmware", False), ("junk", False),
                              ("silent", True), ("closed", True), ("closed_unnamed", False),
                              ("closed_unknown", None)):
            held[key] = pick(high, lambda p, n=is_named: not listed(p) and named(p) is n)
        held["tls"] = pick(iter(TLS_PORTS), lambda p: True)
    ports = {key: sock.getsockname()[1] for key, sock in held.items()}
    for key in ("closed", "closed_unnamed", "closed_unknown"):
        held.pop(key).close()  # nothing listens there now

    ca = trustme.CA()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("sigscan.test").configure_cert(context)
    folder = tmp_path_factory.mktemp("service-model")
    out = {kind: folder / f"sigscan.{kind}" for kind in ("xml", "txt", "ndjson")}
    spec = ",".join(str(p) for p in sorted(ports.values()))
    servers = ServerThread()
    try:
        servers.serve(sends(SSH), held["ssh"])
        servers.serve(sends(VMWARE), held["vmware"])
        servers.serve(sends(JUNK), held["junk"])
        servers.serve(silent, held["silent"])
        with TlsHttp(held["tls"], context):
            ours = subprocess.Popen(
                [sys.executable, "-m", "sigscan", "scan", "--bundle", str(bundle_path),
                 "--intensity", "0", "-p", spec, "-oX", str(out["xml"]), "-oN", str(out["txt"]),
                 "-oJ", str(out["ndjson"]), "localhost"],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            try:
                theirs = run_nmap(list(ports.values()), ["--version-intensity", "0"],
                                  target="localhost")
                _, errors = ours.communicate(timeout=SCAN_TIMEOUT)
            finally:
                if ours.poll() is None:
                    ours.kill()
                    ours.wait()
    finally:
        servers.stop()
    assert ours.returncode == 0, errors.decode(errors="replace")
    banner = folder / "vmware.bin"
    banner.write_bytes(VMWARE)
    identify = subprocess.run([sys.executable, "-m", "sigscan", "identify", "--bundle",
                               str(bundle_path), "--probe", "NULL", str(banner)],
                              capture_output=True, text=True, timeout=60, check=True)
    yield Scans(ports, theirs, out["xml"].read_text(), out["txt"].read_text(),
                [json.loads(line) for line in out["ndjson"].read_text().splitlines()],
                json.loads(identify.stdout))


# -- reading the outputs --------------------------------------------------------------------------


def services(document: str) -> dict[int, dict[str, Any] | None]:
    """Each port's ``<service>`` attributes (``servicefp`` without its clock) and its ``cpe``
    children as a list; None where the port has no ``<service>``."""
    out: dict[int, dict[str, Any] | None] = {}
    for port in ET.fromstring(document).iter("port"):
        service = port.find("service")
        if service is None:
            out[int(port.attrib["portid"])] = None
            continue
        attributes: dict[str, Any] = dict(service.attrib)
        if "servicefp" in attributes:
            attributes["servicefp"] = without_clock(attributes["servicefp"])
        attributes["cpe"] = [cpe.text for cpe in service.iter("cpe")]
        out[int(port.attrib["portid"])] = attributes
    return out


def without_clock(fingerprint: str) -> str:
    return re.sub(r"%D=\d+/\d+%Time=[0-9A-F]+%", "%D=…%Time=…%", fingerprint)


def port_table(normal: str) -> list[str]:
    """The ``PORT STATE SERVICE VERSION`` table of a normal output."""
    lines = normal.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("PORT "))
    end = next(i for i in range(start + 1, len(lines)) if not re.match(r"\d+/tcp ", lines[i]))
    return lines[start:end]


def columns(normal: str) -> dict[int, tuple[str, str]]:
    """Each port's SERVICE and VERSION cells."""
    table = port_table(normal)
    service_at, version_at = table[0].index("SERVICE"), table[0].index("VERSION")
    return {int(line.split("/")[0]): (line[service_at:version_at].rstrip(), line[version_at:])
            for line in table[1:]}


def count_line(normal: str) -> str:
    return next(line for line in normal.splitlines() if "unrecognized despite" in line)


# -- the tests ------------------------------------------------------------------------------------


def test_the_scan_has_every_case(scans: Scans) -> None:
    nmap = services(scans.nmap.xml)
    p = scans.ports
    assert nmap[p["ssh"]] is not None and nmap[p["ssh"]]["method"] == "probed"
    assert nmap[p["vmware"]] == {"name": "vmware-auth", "product": "VMware Authentication Daemon",
                                 "version": "1.10", "tunnel": "ssl", "method": "probed",
                                 "conf": "10", "cpe": []}
    assert nmap[p["junk"]] is not None and nmap[p["junk"]]["name"] == "unknown"
    assert "servicefp" in nmap[p["junk"]]
    assert nmap[p["tls"]] is not None and nmap[p["tls"]]["tunnel"] == "ssl"
    assert nmap[p["tls"]]["name"] == "http" and nmap[p["tls"]]["method"] == "probed"
    for key in ("silent", "closed"):
        assert nmap[p[key]] is not None and nmap[p[key]]["method"] == "table", key
    assert nmap[p["closed_unnamed"]] is None
    assert nmap[p["closed_unknown"]] == {"name": "unknown", "method": "table", "conf": "3", "cpe": []}
    cells = columns(scans.nmap.normal)
    assert cells[p["silent"]][0].endswith("?") and cells[p["tls"]][0] == "ssl/http"


def test_service_elements_are_nmaps(scans: Scans) -> None:
    assert services(scans.xml) == services(scans.nmap.xml)


def test_port_table_is_nmaps(scans: Scans) -> None:
    assert port_table(scans.normal) == port_table(scans.nmap.normal)


def test_fingerprint_is_labelled_as_sigscans(scans: Scans) -> None:
    ours, nmaps = count_line(scans.normal), count_line(scans.nmap.normal)
    assert "nmap.org/cgi-bin/submit" in nmaps and "submit" in ours
    assert [ours] == relabelled([nmaps])
    assert "SF-Port" in scans.normal  # the fingerprint itself keeps Nmap's format


def test_target_is_named_as_given(scans: Scans) -> None:
    nmap_names = [h.attrib for h in ET.fromstring(scans.nmap.xml).iter("hostname")]
    our_names = [h.attrib for h in ET.fromstring(scans.xml).iter("hostname")]
    assert our_names == nmap_names == [{"name": "localhost", "type": "user"}]
    assert {(r["host"], r["target"]) for r in scans.ndjson} == {("127.0.0.1", "localhost")}
    address = ET.fromstring(scans.nmap.xml).find(".//address")
    assert address is not None and address.attrib["addr"] == "127.0.0.1"


def test_ndjson_says_what_nmaps_xml_and_text_say(scans: Scans) -> None:
    nmap, cells = services(scans.nmap.xml), columns(scans.nmap.normal)
    records = {r["port"]: r for r in scans.ndjson}
    assert sorted(records) == sorted(scans.ports.values())  # each port once
    for port, record in records.items():
        expected = nmap[port]
        assert record["service"] == cells[port][0], port
        if expected is None:
            assert all(record[key] is None for key in (
                "name", *FIELDS, "method", "conf", "tunnel", "servicefp")), record
            assert record["cpe"] == record["cpe23"] == []
            continue
        got = {key: record[key] for key in ("name", *FIELDS, "tunnel", "method", "servicefp")}
        got = {key: value for key, value in got.items() if value is not None}
        got["conf"] = str(record["conf"])
        if "servicefp" in got:
            got["servicefp"] = without_clock(got["servicefp"])
        assert {**got, "cpe": record["cpe"]} == expected, port
        assert record["cpe23"] == [to_23(cpe) for cpe in expected["cpe"]]
    ssh = records[scans.ports["ssh"]]
    assert ssh["cpe23"] == ["cpe:2.3:a:openbsd:openssh:9.2p1:*:*:*:*:*:*:*",
                            "cpe:2.3:o:linux:linux_kernel:*:*:*:*:*:*:*:*"]


def test_identify_splits_an_ssl_line_as_nmap_reports_it(scans: Scans) -> None:
    nmap = services(scans.nmap.xml)[scans.ports["vmware"]]
    assert nmap is not None
    verdict = scans.identify
    assert (verdict["name"], verdict["tunnel"], verdict["soft"]) == (
        nmap["name"], nmap["tunnel"], False)
    assert {key: verdict[key] for key in FIELDS if verdict[key] is not None} == {
        key: nmap[key] for key in FIELDS if key in nmap}
