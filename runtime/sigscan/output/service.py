"""What every output says of a port's service: one model, so that the normal, XML, NDJSON and
grepable outputs agree (issue 14).

:func:`view` reads a :class:`~sigscan.engine.results.PortResult` as Nmap's outputs read its
``serviceDeductions`` (nmap-semantics §6, §8; ``print_xml_service`` and
``getNmapServiceName`` in Nmap's output.cc):

- ``element``: whether Nmap writes a ``<service>`` element: there is a name, a fingerprint or a
  tunnel. Without one, the XML has no ``<service>`` and NDJSON has ``null`` for every service
  field; the text column still says ``unknown``.
- ``name``: XML's ``name``: the service name, ``unknown`` when there is none (an unrecognized
  port with a fingerprint, a tunnel with nothing found in it). For a port left to
  ``nmap-services`` (closed ports, open ports nothing matched) it is the table's name, with
  ``method`` ``table`` and ``conf`` 3; ``probed`` says a probe found it.
- ``column``: the normal output's SERVICE cell: ``ssl/`` when tunnelled, the name, ``?`` when the
  port is ``open`` and the confidence 5 or less; no name (or ``unknown``) is ``unknown``, without
  ``?``. The grepable output writes the same text with ``/`` as ``|``.
- ``version_column``: the normal output's VERSION cell (Nmap's 160-byte ``product version
  (extrainfo)``); the grepable output's version field too.
- ``cpe``: Nmap's CPE 2.2 URIs, as XML writes them; ``cpe23``: each as a CPE 2.3 formatted
  string (:mod:`sigscan.output.cpe`), None where it cannot be read as a CPE 2.2 name.
- ``servicefp``: the fingerprint on one line (its ``\\nSF:`` breaks removed), as XML and NDJSON
  write it; the normal output prints the wrapped text (``Service.servicefp``).

The outputs escape what they write their own way (the normal and grepable outputs replace
non-printable characters with ``.``, XML writes them as character references); the model holds
the values as they are.
"""

from __future__ import annotations

from dataclasses import dataclass

from sigscan.engine.results import Method, PortResult, PortState, Service
from sigscan.output.common import printable
from sigscan.output.cpe import to_23

VERSION_BUFFER = 160  # bytes, with the terminating NUL
MIN_ELEMENT = 8  # an element is skipped when fewer characters than this are left
DOUBTFUL_CONF = 5  # an open port at this confidence or below gets a "?"
UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class ServiceView:
    """One port's service as every output says it (see the module's docstring)."""

    element: bool
    name: str | None
    column: str
    version_column: str
    method: Method | None = None
    conf: int | None = None
    tunnel: str | None = None
    product: str | None = None
    version: str | None = None
    extrainfo: str | None = None
    hostname: str | None = None
    ostype: str | None = None
    devicetype: str | None = None
    cpe: tuple[str, ...] = ()
    cpe23: tuple[str | None, ...] = ()
    servicefp: str | None = None


def view(port: PortResult) -> ServiceView:
    """The service model of one port."""
    service = port.service
    column, version_column = service_column(port), full_version(service)
    if service is None or not (service.name or service.servicefp or service.tunnel):
        return ServiceView(False, None, column, version_column)
    return ServiceView(
        True, service.name or UNKNOWN, column, version_column,
        method=service.method, conf=service.conf, tunnel=service.tunnel or None,
        product=service.product or None, version=service.version or None,
        extrainfo=service.extrainfo or None, hostname=service.hostname or None,
        ostype=service.ostype or None, devicetype=service.devicetype or None,
        cpe=service.cpe, cpe23=tuple(to_23(cpe) for cpe in service.cpe),
        servicefp=service.servicefp.replace("\nSF:", "") if service.servicefp else None)


def service_column(port: PortResult) -> str:
    """Nmap's ``getNmapServiceName``: ``ssl/`` + name + ``?`` when open and confidence ≤ 5."""
    service = port.service
    tunnel = "ssl/" if service is not None and service.tunnel == "ssl" else ""
    name = printable(service.name) if service is not None and service.name else None
    if name is None or name == UNKNOWN:
        return f"{tunnel}{UNKNOWN}"
    doubtful = port.state is PortState.OPEN and (service is None or service.conf <= DOUBTFUL_CONF)
    return f"{tunnel}{name}{'?' if doubtful else ''}"


def full_version(service: Service | None) -> str:
    """Nmap's ``populateFullVersionString`` into a 160-byte buffer: each element skipped when
    fewer than 8 characters are left, one too long cut to end in ``...`` (inside the parentheses
    for extrainfo)."""
    if service is None:
        return ""
    left = VERSION_BUFFER - 1
    out = ""
    for kind, value in (("p", service.product), ("v", service.version), ("i", service.extrainfo)):
        if not value or left < MIN_ELEMENT:
            continue
        value = printable(value)
        if out:
            out += " "
            left -= 1
        if kind == "i":
            if left - 2 < len(value):
                out += f"({value[:left - 5]}...)"
                left = 0
            else:
                out += f"({value})"
                left -= len(value) + 2
        elif left < len(value):
            out += value[:left - 3] + "..."
            left = 0
        else:
            out += value
            left -= len(value)
    return out
