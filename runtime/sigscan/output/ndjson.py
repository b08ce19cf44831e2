"""NDJSON (``-oJ``): one JSON object per port, written and flushed as soon as the port is done.

Keys, always present and in this order, are Nmap's XML names where Nmap has them:

- ``host`` (the address scanned), ``target`` (the host as the user gave it: the name typed, as
  Nmap's ``<hostname type="user">``, or the address), ``port``, ``protocol``, ``state``,
  ``reason`` (``<port>``/``<state>``);
- the service, from :func:`sigscan.output.service.view`, the model every output shares:
  ``name`` (XML's: ``unknown`` for an unrecognized port with a fingerprint, the
  ``nmap-services`` name for closed ports and table guesses), ``service`` (the normal output's
  SERVICE cell: ``ssl/`` prefix, ``?`` for a guess), ``product``, ``version``, ``extrainfo``,
  ``hostname``, ``ostype``, ``devicetype``, ``method`` (``probed`` or ``table``), ``conf``,
  ``tunnel``, ``cpe`` (Nmap's CPE 2.2 URIs), ``cpe23`` (each as a CPE 2.3 formatted string, in
  the same order; null where one cannot be read as a CPE name) and ``servicefp`` (its ``\\nSF:``
  line breaks removed, as in XML).

A field Nmap would not write is ``null`` (``cpe``, ``cpe23``: ``[]``); a port for which Nmap writes
no ``<service>`` element has ``null`` for every service field but ``service``, which is what the
normal output shows (``unknown``). Last, ``scripts``: what the version plugins printed, a
list of ``{"id", "output"}`` objects (Nmap's ``<script>`` elements). ``name`` and ``method`` need the ``nmap-services`` names the
command applies (:func:`sigscan.output.common.with_table_name`) before a port is written.
"""

from __future__ import annotations

import json
from typing import Any

from sigscan.engine.results import PortResult
from sigscan.output.common import TextStream
from sigscan.output.service import view

FIELDS = ("host", "target", "port", "protocol", "state", "reason", "name", "service", "product",
          "version", "extrainfo", "hostname", "ostype", "devicetype", "method", "conf", "tunnel",
          "cpe", "cpe23", "servicefp", "scripts")


def record(port: PortResult) -> dict[str, Any]:
    """The JSON object of one port (keys in :data:`FIELDS` order)."""
    service = view(port)
    return {
        "host": port.host, "target": port.target or port.host, "port": port.port,
        "protocol": port.proto, "state": port.state.value, "reason": port.reason,
        "name": service.name, "service": service.column, "product": service.product,
        "version": service.version, "extrainfo": service.extrainfo,
        "hostname": service.hostname, "ostype": service.ostype,
        "devicetype": service.devicetype,
        "method": service.method.value if service.method else None, "conf": service.conf,
        "tunnel": service.tunnel, "cpe": list(service.cpe), "cpe23": list(service.cpe23),
        "servicefp": service.servicefp, "scripts": _scripts(port),
    }


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
