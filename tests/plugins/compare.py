"""Reading the ports of an ``-oX`` document, Nmap's or sigscan's, with their script outputs."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

COMPARED = ("state", "name", "product", "version", "extrainfo", "tunnel")


@dataclass(frozen=True)
class Verdict:
    proto: str
    port: int
    state: str
    reason: str = ""
    name: str = ""
    product: str = ""
    version: str = ""
    extrainfo: str = ""
    tunnel: str = ""
    method: str = ""
    conf: str = ""
    ostype: str = ""
    devicetype: str = ""
    hostname: str = ""
    cpe: tuple[str, ...] = ()
    scripts: dict[str, str] = field(default_factory=dict)

    def compared(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in COMPARED}


def parse(document: bytes) -> dict[tuple[str, int], Verdict]:
    """Every ``<port>`` of the document by (protocol, port number)."""
    root = ET.fromstring(document)
    out: dict[tuple[str, int], Verdict] = {}
    for port in root.iter("port"):
        state = port.find("state")
        service = port.find("service")
        attrs = service.attrib if service is not None else {}
        key = (port.attrib["protocol"], int(port.attrib["portid"]))
        out[key] = Verdict(
            key[0], key[1], state.attrib["state"] if state is not None else "",
            state.attrib.get("reason", "") if state is not None else "",
            **{name: attrs.get(name, "") for name in ("name", "product", "version", "extrainfo",
                                                      "tunnel", "method", "conf", "ostype",
                                                      "devicetype", "hostname")},
            cpe=tuple(c.text or "" for c in service.iter("cpe")) if service is not None else (),
            scripts={s.attrib["id"]: s.attrib.get("output", "") for s in port.iter("script")})
    return out
