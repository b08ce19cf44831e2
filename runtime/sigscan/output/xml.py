"""Nmap-compatible XML (``-oX``): valid against Nmap's ``nmap.dtd``, read by ``ndiff`` and
``python-libnmap``, laid out as Nmap 7.93 writes it.

- ``<nmaprun scanner="nmap" …>``: the DTD allows no other ``scanner`` value, so sigscan writes
  ``nmap`` and says who it is in ``args`` (``sigscan scan …``), in ``version`` (sigscan's) and in
  the opening comment (``<!-- sigscan 0.1.0 scan initiated … -->``).
- One ``<scaninfo>`` per protocol scanned: ``type="connect"`` for TCP, ``type="udp"`` for UDP,
  with the requested ports written as ranges.
- Per host: ``<status state="up" reason="user-set">`` (no host discovery, as ``-Pn``), the
  address, the user-given name as ``<hostname type="user">`` (and the reverse-DNS name, if a
  caller filled it, as ``type="PTR"``), ``<extraports>`` for the states
  Nmap summarises (see :mod:`sigscan.output.common`), then every other port.
- ``<service>`` from :func:`sigscan.output.service.view`, the model every output shares;
  attributes in Nmap's order: name, product, version, extrainfo, hostname, ostype, devicetype,
  servicefp (with its ``\\nSF:`` breaks removed), tunnel, method, conf; then one ``<cpe>`` per
  CPE (2.2, as Nmap). No ``<service>`` when there is no name, fingerprint or tunnel.
- With ``-v`` (``verbose``), a port's notes (the certificate subject, what the engine noted) as
  a ``<script id="sigscan-notes">`` after its ``<service>``, where Nmap puts script output (the
  DTD gives ``<service>`` no place for them): the text in ``output``, one ``<elem>`` per note.
- ``<debugging level>`` is the scan's debug level; ``<taskprogress>`` elements (a keypress,
  ``--stats-every``) come between hosts, as Nmap writes them (:func:`taskprogress_element`).
- Escaping as Nmap's ``xml_write_escaped``: ``< > & " '``, a ``-`` after a ``-`` as ``&#45;``,
  control characters and non-ASCII as ``&#x..;`` (control characters XML 1.0 forbids become
  U+FFFD).
"""

from __future__ import annotations

from collections.abc import Iterable

from sigscan.engine.results import HostResult, PortResult, ScanInfo
from sigscan.output.common import (
    NOTES_ID,
    TextStream,
    all_ports,
    ctime,
    hosts_summary,
    ignored_states,
    notes_output,
    possibly_open,
    protect_xml,
)
from sigscan.output.progress import Status
from sigscan.output.service import ServiceView, view
from sigscan.scanning.ports import compact

XML_OUTPUT_VERSION = "1.05"
STYLESHEET = "file:///usr/share/nmap/nmap.xsl"
_NAMED = {"<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;"}
_ALLOWED_CONTROLS = {"\t", "\n", "\r"}


def escape(text: str) -> str:
    """Nmap's XML escaping (attribute values, text and the opening comment)."""
    out: list[str] = []
    previous = ""
    for char in text:
        if char in _NAMED:
            out.append(_NAMED[char])
        elif char == "-" and previous == "-":
            out.append("&#45;")
        elif char < " " or char > "\x7f":
            out.append(f"&#x{_xml_char(char):x};")
        else:
            out.append(char)
        previous = char
    return "".join(out)


def _xml_char(char: str) -> int:
    """The code point to write for ``char``; U+FFFD for what XML 1.0 cannot carry."""
    code = ord(char)
    if code < 0x20 and char not in _ALLOWED_CONTROLS:
        return 0xFFFD
    if 0xD800 <= code <= 0xDFFF or code in (0xFFFE, 0xFFFF):
        return 0xFFFD
    return code


def _attrs(pairs: Iterable[tuple[str, object]]) -> str:
    return "".join(f' {name}="{escape(str(value))}"' for name, value in pairs if value is not None)


# --------------------------------------------------------------------------------------------
# The document


def render(info: ScanInfo, hosts: Iterable[HostResult], *,
           stylesheet: str | None = STYLESHEET) -> str:
    """The whole XML document of a finished scan (``info.end`` set)."""
    hosts = list(hosts)
    return "".join([document_start(info, stylesheet=stylesheet),
                    *(host_element(host, verbose=info.verbose, open_only=info.open_only)
                      for host in hosts if shown(host, info)),
                    document_end(info, len(hosts), len(hosts))])


def shown(host: HostResult, info: ScanInfo) -> bool:
    """Whether the host gets an element: ``--open`` leaves out hosts without an open port."""
    return not info.open_only or host.timed_out or possibly_open(host)


def document_start(info: ScanInfo, *, stylesheet: str | None = STYLESHEET) -> str:
    """Everything before the first ``<host>``."""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', "<!DOCTYPE nmaprun>"]
    if stylesheet:
        lines.append(f'<?xml-stylesheet href="{escape(stylesheet)}" type="text/xsl"?>')
    started = ctime(info.start)
    lines.append(f"<!-- {escape(f'{info.scanner} {info.version} scan initiated {started} as: {info.args}')} -->")
    lines.append("<nmaprun" + _attrs([
        ("scanner", "nmap"), ("args", info.args), ("start", int(info.start)),
        ("startstr", started), ("version", info.version),
        ("xmloutputversion", XML_OUTPUT_VERSION)]) + ">")
    for proto, kind, ports in (("tcp", info.scan_type, info.tcp_ports),
                               ("udp", "udp", info.udp_ports)):
        if ports:
            lines.append("<scaninfo" + _attrs([
                ("type", kind), ("protocol", proto), ("numservices", len(ports)),
                ("services", compact(ports))]) + "/>")
    lines.append(f'<verbose level="{info.verbose}"/>')
    lines.append(f'<debugging level="{info.debugging}"/>')
    return "\n".join(lines) + "\n"


def document_end(info: ScanInfo, hosts_total: int, hosts_up: int) -> str:
    """``<runstats>`` and the end of the document."""
    end = info.end if info.end is not None else info.start
    elapsed = f"{end - info.start:.2f}"
    finished = _attrs([
        ("time", int(end)), ("timestr", ctime(end)),
        ("summary", f"{info.scanner} done at {ctime(end)}; "
                    f"{hosts_summary(hosts_total, hosts_up)} scanned in {elapsed} seconds"),
        ("elapsed", elapsed), ("exit", "error" if info.errormsg else "success"),
        ("errormsg", info.errormsg)])
    counts = _attrs([("up", hosts_up), ("down", hosts_total - hosts_up), ("total", hosts_total)])
    return f"<runstats><finished{finished}/><hosts{counts}/>\n</runstats>\n</nmaprun>\n"


# --------------------------------------------------------------------------------------------
# One host


def host_element(host: HostResult, *, verbose: int = 0, open_only: bool = False) -> str:
    """One ``<host>`` element (Nmap's line breaks); a host that timed out has
    ``timedout="true"`` and no ``<ports>``, as Nmap writes it."""
    times = _attrs([("starttime", _int(host.start)), ("endtime", _int(host.end)),
                    ("timedout", "true" if host.timed_out else None)])
    addrtype = "ipv6" if ":" in host.address else "ipv4"
    parts = [f'<host{times}><status state="up"{_attrs([("reason", host.reason)])} reason_ttl="0"/>\n',
             f"<address{_attrs([('addr', host.address), ('addrtype', addrtype)])}/>\n",
             "<hostnames>\n"]
    for name, kind in ((host.hostname, "user"), (host.ptr_name, "PTR")):
        if name:
            parts.append(f"<hostname{_attrs([('name', name), ('type', kind)])}/>\n")
    parts.append("</hostnames>\n")
    if not host.timed_out:
        parts.append(ports_element(all_ports(host), verbose=verbose, open_only=open_only))
    parts.append("</host>\n")
    return "".join(parts)


def _int(value: float | None) -> int | None:
    return None if value is None else int(value)


def ports_element(ports: list[PortResult], *, verbose: int = 0, open_only: bool = False) -> str:
    """``<ports>``: the summarised states as ``<extraports>``, then every other port."""
    ignored = ignored_states(ports, verbose, open_only=open_only)
    parts = ["<ports>"]
    for item in ignored:
        parts.append(f'<extraports state="{escape(item.state.value)}" count="{item.count}">\n')
        parts.extend("<extrareasons" + _attrs([
            ("reason", group.reason), ("count", len(group.ports)), ("proto", group.proto),
            ("ports", compact(group.ports))]) + "/>\n" for group in item.groups)
        parts.append("</extraports>\n")
    hidden = {item.state for item in ignored}
    parts.extend(port_element(port, notes=verbose > 0) for port in ports if port.state not in hidden)
    parts.append("</ports>\n")
    return "".join(parts)


def port_element(port: PortResult, *, notes: bool = False) -> str:
    """One ``<port>`` with its ``<state>`` and ``<service>`` (and with ``notes`` its notes),
    and its line break."""
    state = _attrs([("state", port.state.value), ("reason", port.reason), ("reason_ttl", 0)])
    head = _attrs([("protocol", port.proto), ("portid", port.port)])
    scripts = "".join(f"<script{_attrs([('id', s.id), ('output', protect_xml(s.output))])}/>"
                      for s in port.scripts)
    said = notes_element(port.notes) if notes else ""
    return f"<port{head}><state{state}/>{service_element(view(port))}{scripts}{said}</port>\n"


def notes_element(notes: tuple[str, ...]) -> str:
    """``<script id="sigscan-notes" output="…"><elem>…</elem>…</script>``, or ``""`` without
    notes; laid out as Nmap writes a script's output."""
    if not notes:
        return ""
    elems = "".join(f"<elem>{escape(note)}</elem>\n" for note in notes)
    return f"<script{_attrs([('id', NOTES_ID), ('output', notes_output(notes))])}>{elems}</script>"


def taskprogress_element(report: Status) -> str:
    """Nmap's ``<taskprogress>``: ``remaining`` and ``etc`` only with an estimate."""
    attrs: list[tuple[str, object]] = [("task", report.task), ("time", int(report.time)),
                                       ("percent", f"{report.percent:.2f}")]
    if report.left is not None:
        attrs += [("remaining", f"{report.left:.0f}"), ("etc", report.etc)]
    return f"<taskprogress{_attrs(attrs)}/>\n"


def service_element(service: ServiceView) -> str:
    """``<service …>`` with its ``<cpe>`` children, or ``""`` when Nmap writes none."""
    if not service.element:
        return ""
    attrs = _attrs([
        ("name", service.name), ("product", service.product), ("version", service.version),
        ("extrainfo", service.extrainfo), ("hostname", service.hostname),
        ("ostype", service.ostype), ("devicetype", service.devicetype),
        ("servicefp", service.servicefp), ("tunnel", service.tunnel),
        ("method", service.method.value if service.method else None), ("conf", service.conf)])
    if not service.cpe:
        return f"<service{attrs}/>"
    cpes = "".join(f"<cpe>{escape(cpe)}</cpe>" for cpe in service.cpe)
    return f"<service{attrs}>{cpes}</service>"


# --------------------------------------------------------------------------------------------
# Writing as the scan goes


class XmlWriter:
    """Writes the XML document to a text stream as hosts finish: :meth:`start`, :meth:`host`
    for each host, :meth:`finish` (also after Ctrl-C, with ``errormsg`` set in its
    :class:`ScanInfo`), so the file is a complete document whenever the scan ends."""

    def __init__(self, stream: TextStream, info: ScanInfo, *,
                 stylesheet: str | None = STYLESHEET) -> None:
        self.stream = stream
        self.info = info
        self.stylesheet = stylesheet
        self.hosts = 0

    def start(self) -> None:
        self._write(document_start(self.info, stylesheet=self.stylesheet))

    def host(self, host: HostResult) -> None:
        self.hosts += 1
        if shown(host, self.info):
            self._write(host_element(host, verbose=self.info.verbose,
                                     open_only=self.info.open_only))

    def status(self, report: Status) -> None:
        """A status report (a keypress, ``--stats-every``): its ``<taskprogress>``."""
        self._write(taskprogress_element(report))

    def finish(self, info: ScanInfo | None = None) -> None:
        self.info = info or self.info
        self._write(document_end(self.info, self.hosts, self.hosts))

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()
