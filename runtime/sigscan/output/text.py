"""Nmap's normal output (``-oN``, and stdout) for a version scan, from sigscan's results.

Per host (``output.cc``: ``write_host_header``, ``printportoutput``, ``printserviceinfooutput``)::

    Nmap scan report for localhost (127.0.0.1)
    Host is up (0.00014s latency).
    Not shown: 37 closed tcp ports (conn-refused)      <- or an empty line
    PORT      STATE SERVICE VERSION
    22/tcp    open  ssh     OpenSSH 8.4p1 Debian 5 (protocol 2.0)
    N service(s) unrecognized despite returning data. …   <- and up to 9 fingerprints
    Service Info: Host: …; OS: …; Device: …; CPE: …
    <empty line>

- The table is Nmap's ``NmapOutputTable``: each column as wide as its widest cell, one space
  between columns, no padding after a row's last cell.
- SERVICE and VERSION: the cells of :mod:`sigscan.output.service`, the model every output
  shares: ``ssl/`` when tunnelled, the name, ``?`` when the port is ``open`` and the confidence
  is 5 or less (no name, or ``unknown``, prints ``unknown`` without ``?``); ``product version
  (extrainfo)`` built in Nmap's 160-byte buffer.
- Unrecognized services: the fingerprints as Nmap lays them out, labelled as sigscan's (see
  :func:`fingerprint_block`).
- ``Service Info``: open ports only, at most 5 distinct values per category, host names equal
  to the target's reverse-DNS name (case-insensitive) left out, no ``cpe:/a`` CPE.
- With ``-v``, a port's notes (the certificate subject, what the engine noted) follow its row
  as Nmap lays out a script's output (``formatScriptOutput``)::

      443/tcp open  ssl/http Apache httpd 2.4.57
      | sigscan-notes:␠
      |   final state: hardmatched
      |_  TLS certificate subject: commonName=example.com

  (``␠``: the space Nmap leaves after the colon.)
- On the screen (not in ``-oN``, as Nmap's ``LOG_STDOUT``), the status reports of a keypress
  or ``--stats-every`` (:meth:`TextWriter.status`).

The scan header and footer name sigscan where Nmap names itself (``# sigscan 0.1.0 scan
initiated … as: …``, ``# sigscan done at … -- 1 IP address (1 host up) scanned in 1.44
seconds``), and the footer says ``Service detection performed.`` without Nmap's request to report
results to nmap.org. Ports without a service get no ``nmap-services`` name here: apply
:func:`sigscan.output.common.with_table_names` first, as Nmap does.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence

from sigscan.engine.results import HostResult, PortResult, PortState, ScanInfo
from sigscan.output.common import (
    NOTES_ID,
    Ignored,
    TextStream,
    all_ports,
    ctime,
    escape_for_screen,
    hosts_summary,
    ignored_states,
    notes_output,
    plural,
    possibly_open,
    printable,
)
from sigscan.output.progress import Status, status_lines
from sigscan.output.service import view

MAX_FINGERPRINTS = 9  # per host
MAX_SERVICE_INFO = 5  # distinct values per category
FP_BANNER = "==============NEXT SERVICE FINGERPRINT (MADE BY SIGSCAN)=============="


# --------------------------------------------------------------------------------------------
# The whole document


def render(info: ScanInfo, hosts: Iterable[HostResult], *, file: bool = True) -> str:
    """The whole normal output of a finished scan (``file``: ``-oN`` form, else stdout form)."""
    hosts = list(hosts)
    parts = [scan_header(info, file=file)]
    parts.extend(host_report(host, verbose=info.verbose, reason=info.reason,
                             open_only=info.open_only)
                 for host in hosts if shown(host, info))
    parts.append(scan_footer(info, len(hosts), len(hosts), file=file))
    return "".join(parts)


def shown(host: HostResult, info: ScanInfo) -> bool:
    """Whether the host is written at all: ``--open`` leaves out the hosts without an open
    port (a timed-out host is written, as Nmap writes it)."""
    return not info.open_only or host.timed_out or possibly_open(host)


def scan_header(info: ScanInfo, *, file: bool = True) -> str:
    """``# sigscan 0.1.0 scan initiated <ctime> as: <args>`` (file) or ``Starting sigscan 0.1.0
    at 2026-11-23 06:56 UTC`` (stdout)."""
    if file:
        return f"# {info.scanner} {info.version} scan initiated {ctime(info.start)} as: {info.args}\n"
    local = datetime.datetime.fromtimestamp(info.start).astimezone()
    return f"Starting {info.scanner} {info.version} at {local:%Y-%m-%d %H:%M %Z}\n"


def scan_footer(info: ScanInfo, hosts_total: int, hosts_up: int, *, file: bool = True) -> str:
    """``Service detection performed.`` and the ``done`` line; ``info.end`` must be set."""
    end = info.end if info.end is not None else info.start
    summary = f"{hosts_summary(hosts_total, hosts_up)} scanned in {end - info.start:.2f} seconds"
    lines = ["Service detection performed.\n"] if hosts_up else []
    if file:
        lines.append(f"# {info.scanner} done at {ctime(end)} -- {summary}\n")
    else:
        lines.append(f"{info.scanner} done: {summary}\n")
    return "".join(lines)


# --------------------------------------------------------------------------------------------
# One host


def host_report(host: HostResult, *, verbose: int = 0, reason: bool = False,
                open_only: bool = False) -> str:
    """The ``Nmap scan report for …`` block of one host, with its closing empty line; for a
    host that timed out, its header and ``Skipping host … due to host timeout`` (no empty
    line, as Nmap). ``reason``: ``--reason``'s REASON column and ``received`` words;
    ``open_only``: ``--open``, every state that cannot be open summarised."""
    if host.timed_out:
        lines = [*header_lines(host, reason=reason),
                 f"Skipping host {name_ip(host)} due to host timeout"]
        return "\n".join(lines) + "\n"
    ports = all_ports(host)
    info = service_info(ports, host.ptr_name)
    lines = [*header_lines(host, reason=reason),
             *port_lines(host, ports, verbose, reason=reason, open_only=open_only),
             *([info] if info else [])]
    return "\n".join([*lines, ""]) + "\n"


def header_lines(host: HostResult, *, reason: bool = False) -> list[str]:
    """``Nmap scan report for …``, ``Host is up …``, other addresses, the rDNS record."""
    lines = [f"Nmap scan report for {name_ip(host)}", host_is_up(host, reason=reason)]
    if host.other_addresses and host.hostname:
        lines.append(f"Other addresses for {host.hostname} (not scanned): "
                     + " ".join(host.other_addresses))
    if host.ptr_name and host.hostname and host.ptr_name.lower() != host.hostname.lower():
        lines.append(f"rDNS record for {host.address}: {host.ptr_name}")
    return lines


def port_lines(host: HostResult, ports: Sequence[PortResult], verbose: int, *,
               reason: bool = False, open_only: bool = False) -> list[str]:
    """``Not shown``, the port table and the fingerprints (or the all-ignored lines)."""
    ignored = ignored_states(ports, verbose, open_only=open_only)
    hidden = {item.state for item in ignored}
    shown = [p for p in ports if p.state not in hidden]
    if not ports:
        return [f"0 ports scanned on {name_ip(host)}"]
    if not shown:
        one = len(ports) == 1
        return [f"{'The' if one else 'All'} {plural(len(ports), 'scanned port')} on "
                f"{name_ip(host)} {'is' if one else 'are'} in ignored states.",
                not_shown(ignored)]
    return [not_shown(ignored), *port_table(shown, reason=reason, notes=verbose > 0),
            *fingerprint_block(shown)]


def name_ip(host: HostResult) -> str:
    """Nmap's ``NameIP``: ``name (address)`` with the reverse-DNS name, else the user-given
    name, or the address alone."""
    name = host.ptr_name or host.hostname
    return f"{name} ({host.address})" if name else host.address


def host_is_up(host: HostResult, *, reason: bool = False) -> str:
    """``Host is up (0.00014s latency).``; with ``--reason``, ``Host is up, received user-set
    (…)``."""
    received = f", received {host.reason}" if reason else ""
    if host.latency is None:
        return f"Host is up{received}."
    return f"Host is up{received} ({sig_digits(host.latency, 2)}s latency)."


def sig_digits(value: float, digits: int) -> str:
    """Nmap's ``num_to_string_sigdigits``: fixed notation with ``digits`` significant digits
    (0.000042, 0.0014, 0.17, 1.5, 12)."""
    if value <= 0:
        return f"{0:.{digits}f}"
    exponent = int(f"{value:e}".split("e")[1])
    return f"{value:.{max(digits - exponent - 1, 0)}f}"


def not_shown(ignored: Sequence[Ignored]) -> str:
    """``Not shown: 37 closed tcp ports (conn-refused), …``, or ``""`` (Nmap's empty line)."""
    items = [f"{len(group.ports)} {item.state.value} {group.proto} "
             f"{'port' if len(group.ports) == 1 else 'ports'} ({group.reason})"
             for item in ignored for group in item.groups]
    return "Not shown: " + ", ".join(items) if items else ""


# --------------------------------------------------------------------------------------------
# The port table


def port_table(ports: Sequence[PortResult], *, reason: bool = False,
               notes: bool = False) -> list[str]:
    """The ``PORT STATE SERVICE VERSION`` table, one string per line (the SERVICE and VERSION
    cells from :func:`sigscan.output.service.view`, which every output shares); ``reason``:
    with a REASON column before VERSION (``--reason``). After each port's row, the output of
    its plugins and, with ``notes``, its notes (rows that span the table: they take no part in
    its widths)."""
    rows = [["PORT", "STATE", "SERVICE", *(["REASON"] if reason else []), "VERSION"]]
    for port in ports:
        service = view(port)
        rows.append([f"{port.port}/{port.proto}", port.state.value, service.column,
                     *([port.reason] if reason else []), service.version_column])
    lines = table(rows)
    if not notes and not any(p.scripts for p in ports):
        return lines
    out = lines[:1]
    for port, line in zip(ports, lines[1:], strict=True):
        out.append(line)
        for script in port.scripts:
            if script.output:
                out.extend(script_lines(script.id, script.output))
        if notes and port.notes:
            # notes are text (a certificate subject in UTF-8): shown as its bytes, as Nmap would
            text = notes_output(port.notes).encode("utf-8", "replace").decode("latin-1")
            out.extend(script_lines(NOTES_ID, text))
    return out


def script_lines(script: str, output: str) -> list[str]:
    """Nmap's ``formatScriptOutput``: ``| id: first line``, ``| next``, …, ``|_last``, the
    output's bytes outside printable ASCII, tab and line break written as ``\\xHH``; a final
    line break ends the last line, as in Nmap."""
    lines = escape_for_screen(output).split("\n")
    if len(lines) > 1 and lines[-1] == "":
        lines.pop()
    return [("| " if i < len(lines) - 1 else "|_") + (f"{script}: " if i == 0 else "") + line
            for i, line in enumerate(lines)]


def table(rows: Sequence[Sequence[str]]) -> list[str]:
    """Nmap's ``NmapOutputTable``: columns as wide as their widest cell plus one space, no
    padding after the last non-empty cell of a row, empty rows dropped."""
    widths = [max(len(row[col]) for row in rows) for col in range(len(rows[0]))]
    lines = []
    for row in rows:
        filled = [i for i, cell in enumerate(row) if cell]
        if not filled:
            continue
        last = filled[-1]
        cells = [cell.ljust(widths[i]) if i < last else cell
                 for i, cell in enumerate(row[:last + 1])]
        lines.append(" ".join(cells))
    return lines


# --------------------------------------------------------------------------------------------
# Fingerprints and Service Info


def fingerprint_block(ports: Sequence[PortResult]) -> list[str]:
    """The unrecognized-service fingerprints of the listed ports (at most 9), with their
    count line and, when there are several, the NEXT SERVICE FINGERPRINT banners.

    Laid out as Nmap's, but labelled as sigscan's: the count line says the fingerprints were
    made by sigscan and are not for nmap.org, where Nmap asks for them to be submitted there,
    and the banner says ``(MADE BY SIGSCAN)`` where Nmap's says ``(SUBMIT INDIVIDUALLY)``. The
    ``SF-Port…`` text itself is Nmap's format, unchanged, for the tools that read it."""
    prints = [p.service.servicefp for p in ports
              if p.service is not None and p.service.servicefp][:MAX_FINGERPRINTS]
    if not prints:
        return []
    many = len(prints) > 1
    lines = [f"{plural(len(prints), 'service')} unrecognized despite returning data. The "
             f"following {'fingerprints were' if many else 'fingerprint was'} made by sigscan, "
             f"not Nmap: do not submit {'them' if many else 'it'} to nmap.org."]
    for fingerprint in prints:
        if many:
            lines.append(FP_BANNER)
        lines.append(fingerprint)
    return lines


def service_info(ports: Iterable[PortResult], target_name: str | None) -> str:
    """``Service Info: Host[s]: …; OS[s]: …; Device[s]: …; CPE: …`` or ``""``.

    ``target_name`` is Nmap's ``HostName()``, the reverse-DNS name: service host names equal to
    it are left out (none with ``-n``, even when the target was given by name)."""
    hosts: list[str] = []
    oses: list[str] = []
    devices: list[str] = []
    cpes: list[str] = []
    own = (target_name or "").lower()
    for port in ports:
        service = port.service
        if port.state is not PortState.OPEN or service is None:
            continue
        if service.hostname and service.hostname.lower() != own:
            _collect(hosts, service.hostname, fold=True)
        if service.ostype:
            _collect(oses, service.ostype)
        if service.devicetype:
            _collect(devices, service.devicetype)
        for cpe in service.cpe:
            if not cpe.startswith("cpe:/a"):
                _collect(cpes, cpe)
    parts = [f"{label}{'' if len(values) == 1 or not plural_s else 's'}: "
             + ", ".join(printable(v) for v in values)
             for label, values, plural_s in (("Host", hosts, True), ("OS", oses, True),
                                             ("Device", devices, True), ("CPE", cpes, False))
             if values]
    return "Service Info: " + "; ".join(parts) if parts else ""


def _collect(values: list[str], value: str, *, fold: bool = False) -> None:
    """Add a distinct value while there are fewer than 5 (host names compare case-blind)."""
    seen = {v.lower() for v in values} if fold else set(values)
    if (value.lower() if fold else value) not in seen and len(values) < MAX_SERVICE_INFO:
        values.append(value)


# --------------------------------------------------------------------------------------------
# Writing as the scan goes


class TextWriter:
    """Writes normal output to a text stream as hosts finish: :meth:`start`, :meth:`host` for
    each host, :meth:`finish` (also after Ctrl-C, with the hosts done so far)."""

    def __init__(self, stream: TextStream, info: ScanInfo, *, file: bool = True) -> None:
        self.stream = stream
        self.info = info
        self.file = file
        self.hosts = 0

    def start(self) -> None:
        self._write(scan_header(self.info, file=self.file))

    def host(self, host: HostResult) -> None:
        self.hosts += 1
        if shown(host, self.info):
            self._write(host_report(host, verbose=self.info.verbose, reason=self.info.reason,
                                    open_only=self.info.open_only))

    def status(self, report: Status) -> None:
        """A status report (a keypress, ``--stats-every``): on the screen only, as Nmap."""
        if not self.file:
            self._write(status_lines(report))

    def finish(self, info: ScanInfo | None = None) -> None:
        """The footer; ``info`` (with ``end`` set) replaces the one given at the start."""
        self.info = info or self.info
        self._write(scan_footer(self.info, self.hosts, self.hosts, file=self.file))

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()
