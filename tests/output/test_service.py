"""The service model every output shares (sigscan.output.service): the SERVICE and VERSION
cells (nmap-semantics §6, §8; Nmap's output.cc), whether there is a ``<service>`` element and
what it says, and the NDJSON record built from it. Compared with the real Nmap on loopback
servers in test_service_vs_nmap.py."""

from __future__ import annotations

import json

import pytest

from sigscan.engine.results import Method, PortResult, PortState, Service
from sigscan.output import ndjson, xml
from sigscan.output import service as model

OPEN, CLOSED = PortState.OPEN, PortState.CLOSED
FILTERED, OPEN_FILTERED = PortState.FILTERED, PortState.OPEN_FILTERED
FP = 'SF-Port8-TCP:V=7.93%I=7%D=1/1%Time=0%P=x%r(NULL,3F,"abc\nSF:def");'


def svc(name: str | None = "http", conf: int = 10, **fields: object) -> Service:
    method = Method.TABLE if conf == 3 else Method.PROBED
    return Service(name, method, conf, **fields)  # type: ignore[arg-type]


def port(number: int, state: PortState = OPEN, service: Service | None = None,
         proto: str = "tcp", reason: str = "syn-ack") -> PortResult:
    return PortResult("192.0.2.1", number, proto, state, reason, service)


# --------------------------------------------------------------------------------------------
# VERSION column


@pytest.mark.parametrize(("fields", "expected"), [
    ({}, ""),
    ({"product": "nginx"}, "nginx"),
    ({"product": "nginx", "version": "1.22.1"}, "nginx 1.22.1"),
    ({"version": "1.0", "extrainfo": "Debian"}, "1.0 (Debian)"),
    ({"product": "OpenSSH", "version": "8.4p1", "extrainfo": "protocol 2.0"},
     "OpenSSH 8.4p1 (protocol 2.0)"),
    ({"product": "", "version": "2"}, "2"),  # an empty field counts as absent
    ({"product": "a\x01b\xe9"}, "a.b."),  # non-printable characters become dots
])
def test_version_string(fields: dict[str, str], expected: str) -> None:
    assert model.full_version(svc(**fields)) == expected  # type: ignore[arg-type]


def test_no_service_has_no_version() -> None:
    assert model.full_version(None) == ""


def test_version_buffer_cuts() -> None:
    # 78 + 1 + 79 = 158 characters: 1 left, extrainfo is skipped (verified with Nmap)
    got = model.full_version(svc(product="P" * 78, version="V" * 79, extrainfo="extra"))
    assert got == "P" * 78 + " " + "V" * 79
    # a product longer than the buffer is cut to 156 + "...", nothing else fits
    got = model.full_version(svc(product="P" * 200, version="1.0"))
    assert got == "P" * 156 + "..." and len(got) == 159
    # 150 + 1 leaves 8: the version is cut to 5 + "..."
    got = model.full_version(svc(product="P" * 150, version="V" * 20, extrainfo="x"))
    assert got == "P" * 150 + " VVVVV..."
    # 152 leaves 7 (< 8): version and extrainfo are skipped, no pad
    assert model.full_version(svc(product="P" * 152, version="1", extrainfo="x")) == "P" * 152
    # extrainfo is cut inside its parentheses (verified with Nmap: 159 characters in all)
    got = model.full_version(svc(product="prod", version="1.0", extrainfo="E" * 200))
    assert got == "prod 1.0 (" + "E" * 145 + "...)" and len(got) == 159
    # an extrainfo that fits exactly
    got = model.full_version(svc(product="P" * 100, extrainfo="E" * 56))
    assert got == "P" * 100 + " (" + "E" * 56 + ")" and len(got) == 159


# --------------------------------------------------------------------------------------------
# SERVICE column


@pytest.mark.parametrize(("state", "service", "expected"), [
    (OPEN, svc("http"), "http"),
    (OPEN, svc("http", tunnel="ssl"), "ssl/http"),
    (OPEN, svc("http", 3), "http?"),
    (OPEN, svc("http", 5), "http?"),
    (OPEN, svc("tcpwrapped", 8), "tcpwrapped"),
    (OPEN, svc("https", 3, tunnel="ssl"), "ssl/https?"),
    (OPEN_FILTERED, svc("snmp", 3), "snmp"),  # only open ports get '?'
    (CLOSED, svc("ssh", 3), "ssh"),
    (OPEN, svc(None, 3), "unknown"),
    (OPEN, svc("unknown", 3), "unknown"),  # never 'unknown?'
    (OPEN, svc(None, 3, tunnel="ssl"), "ssl/unknown"),
    (OPEN, None, "unknown"),
    (CLOSED, None, "unknown"),
])
def test_service_column(state: PortState, service: Service | None, expected: str) -> None:
    assert model.service_column(port(80, state, service)) == expected


# --------------------------------------------------------------------------------------------
# The model, and the outputs that read it


def test_a_probed_service() -> None:
    got = model.view(port(22, OPEN, svc("ssh", product="OpenSSH", version="9.2p1", ostype="",
                                        cpe=("cpe:/a:openbsd:openssh:9.2p1",
                                             "cpe:/o:linux:linux_kernel"))))
    assert got == model.ServiceView(
        True, "ssh", "ssh", "OpenSSH 9.2p1", method=Method.PROBED, conf=10, product="OpenSSH",
        version="9.2p1", cpe=("cpe:/a:openbsd:openssh:9.2p1", "cpe:/o:linux:linux_kernel"),
        cpe23=("cpe:2.3:a:openbsd:openssh:9.2p1:*:*:*:*:*:*:*",
               "cpe:2.3:o:linux:linux_kernel:*:*:*:*:*:*:*:*"))


def test_an_unrecognized_service_is_unknown_with_its_fingerprint_on_one_line() -> None:
    got = model.view(port(8, OPEN, svc(None, 3, servicefp=FP)))
    assert (got.element, got.name, got.column, got.method, got.conf) == (
        True, "unknown", "unknown", Method.TABLE, 3)
    assert got.servicefp == FP.replace("\nSF:", "") and "\n" not in got.servicefp


@pytest.mark.parametrize(("state", "service", "name", "column"), [
    (OPEN, svc("https", 3, tunnel="ssl"), "https", "ssl/https?"),  # the tunnel found nothing
    (OPEN, svc(None, 3, tunnel="ssl"), "unknown", "ssl/unknown"),
    (CLOSED, svc("ssh", 3), "ssh", "ssh"),  # a table name, no '?': not open
    (OPEN, svc("ssh", 3), "ssh", "ssh?"),  # a table guess
    (OPEN_FILTERED, svc("snmp", 3), "snmp", "snmp"),
])
def test_table_names_and_tunnels(state: PortState, service: Service, name: str,
                                 column: str) -> None:
    got = model.view(port(1, state, service))
    assert (got.element, got.name, got.column, got.tunnel) == (True, name, column,
                                                                service.tunnel)


@pytest.mark.parametrize("service", [None, svc(None, 3)])
def test_no_name_fingerprint_or_tunnel_means_no_element(service: Service | None) -> None:
    got = model.view(port(7, CLOSED, service))
    assert got == model.ServiceView(False, None, "unknown", "")
    assert xml.service_element(got) == ""
    record = ndjson.record(port(7, CLOSED, service))
    assert record["service"] == "unknown"
    assert all(record[key] is None for key in ndjson.FIELDS[6:] if key not in (
        "service", "cpe", "cpe23", "scripts"))
    assert record["cpe"] == record["cpe23"] == []


def test_ndjson_and_xml_say_the_same() -> None:
    ports = [port(22, OPEN, svc("ssh", product="OpenSSH", cpe=("cpe:/a:openbsd:openssh",))),
             port(443, OPEN, svc("https", 3, tunnel="ssl")),
             port(8, OPEN, svc(None, 3, servicefp=FP)),
             port(25, CLOSED, svc("smtp", 3))]
    for result in ports:
        record = ndjson.record(result)
        element = xml.service_element(model.view(result))
        attributes = dict(_xml_attributes(element))
        assert {k: record[k] for k in attributes} == {
            k: (int(v) if k == "conf" else v) for k, v in attributes.items()}
        assert record["service"] == model.service_column(result)
        assert json.loads(ndjson.line(result)) == record


def _xml_attributes(element: str) -> list[tuple[str, str]]:
    import xml.etree.ElementTree as ET

    return list(ET.fromstring(element).attrib.items())


def test_an_unreadable_cpe_has_no_23_form() -> None:
    got = model.view(port(1, OPEN, svc(cpe=("cpe:/a:v:p", "cpe:/x:not:a:part"))))
    assert got.cpe23 == ("cpe:2.3:a:v:p:*:*:*:*:*:*:*:*", None)
