"""NDJSON output: one object per port, keys named as Nmap's XML, one flush per line."""

from __future__ import annotations

import json

from sigscan.engine.results import Method, PortResult, PortState, ScriptOutput, Service
from sigscan.output.ndjson import FIELDS, NdjsonWriter, line, record

FP = 'SF-Port8-TCP:V=7.93%I=7%D=1/1%Time=0%P=x%r(NULL,3F,"abc\nSF:def");'


class Recorder:
    """A text stream that logs writes and flushes in order."""

    def __init__(self) -> None:
        self.events: list[str] = []

    def write(self, text: str, /) -> int:
        self.events.append(text)
        return len(text)

    def flush(self) -> None:
        self.events.append("<flush>")


def test_fields_of_a_probed_port() -> None:
    service = Service("ssh", Method.PROBED, 10, product="OpenSSH", version="9.2p1",
                      extrainfo="protocol 2.0", ostype="Linux", tunnel=None,
                      cpe=("cpe:/a:openbsd:openssh:9.2p1", "cpe:/o:linux:linux_kernel"))
    got = record(PortResult("192.0.2.1", 22, "tcp", PortState.OPEN, "syn-ack", service,
                            target="box.example"))
    assert list(got) == list(FIELDS)
    assert got == {"host": "192.0.2.1", "target": "box.example", "port": 22, "protocol": "tcp",
                   "state": "open", "reason": "syn-ack", "name": "ssh", "service": "ssh",
                   "product": "OpenSSH", "version": "9.2p1", "extrainfo": "protocol 2.0",
                   "hostname": None, "ostype": "Linux", "devicetype": None, "method": "probed",
                   "conf": 10, "tunnel": None,
                   "cpe": ["cpe:/a:openbsd:openssh:9.2p1", "cpe:/o:linux:linux_kernel"],
                   "cpe23": ["cpe:2.3:a:openbsd:openssh:9.2p1:*:*:*:*:*:*:*",
                             "cpe:2.3:o:linux:linux_kernel:*:*:*:*:*:*:*:*"],
                   "servicefp": None, "scripts": []}


def test_script_outputs() -> None:
    port = PortResult("192.0.2.1", 80, "tcp", PortState.OPEN, "syn-ack",
                      Service("http", Method.PROBED, 10),
                      scripts=(ScriptOutput("http-server-header", "Cobblestone/4.2"),))
    assert record(port)["scripts"] == [{"id": "http-server-header", "output": "Cobblestone/4.2"}]


def test_fingerprint_tunnel_and_no_service() -> None:
    unknown = Service(None, Method.TABLE, 3, tunnel="ssl", servicefp=FP)
    got = record(PortResult("2001:db8::1", 443, "tcp", PortState.OPEN, "syn-ack", unknown))
    assert (got["name"], got["service"], got["tunnel"], got["servicefp"]) == (
        "unknown", "ssl/unknown", "ssl", FP.replace("\nSF:", ""))  # as XML names it
    assert got["target"] == "2001:db8::1"  # not made by a scan: the address
    bare = record(PortResult("192.0.2.1", 53, "udp", PortState.OPEN_FILTERED, "no-response",
                             None))
    assert list(bare) == list(FIELDS)
    assert bare["state"] == "open|filtered" and bare["cpe"] == bare["cpe23"] == []
    assert bare["service"] == "unknown"  # what the normal output shows; XML has no <service>
    assert all(bare[key] is None for key in FIELDS[6:]
               if key not in ("service", "cpe", "cpe23", "scripts"))
    assert bare["scripts"] == []


def test_writer_flushes_every_line() -> None:
    stream = Recorder()
    writer = NdjsonWriter(stream)
    ports = [PortResult("192.0.2.1", n, "tcp", PortState.OPEN, "syn-ack",
                        Service("http", Method.PROBED, 10, product="caf\u00e9 \"srv\"\n"))
             for n in (80, 8080)]
    for port in ports:
        writer.write(port)
    assert stream.events == [line(ports[0]), "<flush>", line(ports[1]), "<flush>"]
    assert writer.count == 2
    first = stream.events[0]
    assert first.endswith("\n") and first.count("\n") == 1  # the newline in the value is escaped
    assert "caf\u00e9" in first  # UTF-8, not \\u escapes
    assert json.loads(first)["product"] == "caf\u00e9 \"srv\"\n"
