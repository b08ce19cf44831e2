"""NDJSON (``-oJ``): one JSON object per port, written and flushed as soon as the port is done.

Keys, always present and in this order, are Nmap's XML names: ``host``, ``port``, ``protocol``,
``state``, ``reason`` (``<port>``/``<state>``), then the ``<service>`` fields ``name``,
``product``, ``version``, ``extrainfo``, ``hostname``, ``ostype``, ``devicetype``, ``method``,
``conf``, ``tunnel``, ``cpe`` (a list) and ``servicefp`` (its ``\\nSF:`` line breaks removed, as
in XML). A field Nmap would not write is ``null`` (``cpe``: ``[]``). Last, ``scripts``: what the
version plugins printed, a list of ``{"id", "output"}`` objects (Nmap's ``<script>`` elements).
"""

from __future__ import annotations

import json
from typing import Any

from sigscan.engine.results import PortResult
from sigscan.output.common import TextStream

FIELDS = ("host", "port", "protocol", "state", "reason", "name", "product", "version",
          "extrainfo", "hostname", "ostype", "devicetype", "method", "conf", "tunnel", "cpe",
          "servicefp", "scripts")


def record(port: PortResult) -> dict[str, Any]:
    """The JSON object of one port (keys in :data:`FIELDS` order)."""
    service = port.service
    out: dict[str, Any] = {"host": port.host, "port": port.port, "protocol": port.proto,
                           "state": port.state.value, "reason": port.reason}
    if service is None:
        out.update(dict.fromkeys(FIELDS[5:]))
        out["cpe"] = []
        out["scripts"] = _scripts(port)
        return out
    out.update({
        "name": service.name, "product": service.product or None,
        "version": service.version or None, "extrainfo": service.extrainfo or None,
        "hostname": service.hostname or None, "ostype": service.ostype or None,
        "devicetype": service.devicetype or None, "method": service.method.value,
        "conf": service.conf, "tunnel": service.tunnel or None, "cpe": list(service.cpe),
        "servicefp": service.servicefp.replace("\nSF:", "") if service.servicefp else None,
        "scripts": _scripts(port),
    })
    return out


def _scripts(port: PortResult) -> list[dict[str, str]]:
    return [{"id": script.id, "output": script.output} for script in port.scripts]


def line(port: PortResult) -> str:
    """One NDJSON line, with its newline (UTF-8 text, no escaping of non-ASCII)."""
    return json.dumps(record(port), ensure_ascii=False, separators=(",", ":")) + "\n"


class NdjsonWriter:
    """Writes one line per finished port to a text stream and flushes it at once, so a reader
    (a pipe, a FIFO, ``tail -f`` of a file output's temporary file while the scan runs) sees
    each port as soon as it is done."""

    def __init__(self, stream: TextStream) -> None:
        self.stream = stream
        self.count = 0

    def write(self, port: PortResult) -> None:
        self.stream.write(line(port))
        self.stream.flush()
        self.count += 1
