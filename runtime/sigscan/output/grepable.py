"""Nmap's grepable output (``-oG``), laid out as Nmap 7.93 writes it (``output.cc``:
``write_host_status``, ``printportoutput``; ``nmap.cc``: the per-host loop)::

    # sigscan 0.1.0 scan initiated Tue Dec  8 00:22:39 2026 as: sigscan scan -oG - …
    Host: 127.0.0.1 ()	Status: Up
    Host: 127.0.0.1 ()	Ports: 22/open/tcp//ssh//OpenSSH 9.2p1 Debian 2+deb12u2 (protocol 2.0)/	Ignored State: closed (997)
    # sigscan done at Tue Dec  8 00:25:23 2026 -- 1 IP address (1 host up) scanned in 0.44 seconds

- Each host gets its ``Status: Up`` line, then its ports on one line: ``port/state/protocol/
  owner/service/rpc info/version/`` (owner and rpc info always empty), separated by ``, ``.
  The service is the normal output's SERVICE column (``ssl/`` prefix, ``?``), written only
  when the port has a name, a fingerprint or a tunnel; ``/`` becomes ``|`` in the service and
  in the version (Nmap's "ugly hack", so that fields split on ``/``).
- The states Nmap summarises (see :mod:`sigscan.output.common`) are left out of the list; when
  exactly one state is, ``Ignored State: closed (997)`` follows the ports (grepable output
  has room for one). When every port is summarised, the list is empty (``Ports: ``).
- The parentheses hold the reverse-DNS name (empty without ``-R``, as with ``nmap -n``).
- ``-v`` adds ``# Ports scanned: TCP(3;22,80,443) UDP(0;) SCTP(0;) PROTOCOLS(0;)`` after the
  first line. A host that timed out gets ``Status: Timeout`` after its ``Status: Up``;
  ``--open`` leaves out the hosts without an open port and summarises every other state.

As in the normal output, the first and last lines name sigscan where Nmap names itself.
"""

from __future__ import annotations

from sigscan.engine.results import HostResult, PortResult, ScanInfo
from sigscan.output.common import (
    TextStream,
    all_ports,
    ctime,
    hosts_summary,
    ignored_states,
    possibly_open,
)
from sigscan.output.progress import Status
from sigscan.output.service import view
from sigscan.scanning.ports import compact


def scan_header(info: ScanInfo) -> str:
    """The first line, and with ``-v`` the ``# Ports scanned`` comment."""
    lines = [f"# {info.scanner} {info.version} scan initiated {ctime(info.start)} as: {info.args}\n"]
    if info.verbose:
        lines.append(f"# Ports scanned: TCP({_ranges(info.tcp_ports)}) "
                     f"UDP({_ranges(info.udp_ports)}) SCTP(0;) PROTOCOLS(0;)\n")
    return "".join(lines)


def _ranges(ports: tuple[int, ...]) -> str:
    return f"{len(ports)};{compact(ports)}" if ports else "0;"


def scan_footer(info: ScanInfo, hosts_total: int, hosts_up: int) -> str:
    end = info.end if info.end is not None else info.start
    return (f"# {info.scanner} done at {ctime(end)} -- {hosts_summary(hosts_total, hosts_up)} "
            f"scanned in {end - info.start:.2f} seconds\n")


def host_lines(host: HostResult, *, verbose: int = 0, open_only: bool = False) -> str:
    """The lines of one host (its ``Status`` line, then its ports or ``Status: Timeout``)."""
    head = f"Host: {host.address} ({host.ptr_name or ''})"
    status = f"{head}\tStatus: Up\n"
    if host.timed_out:
        return f"{status}{head}\tStatus: Timeout\n"
    ports = all_ports(host)
    if not ports:
        return status + "\n"
    ignored = ignored_states(ports, verbose, open_only=open_only)
    hidden = {item.state for item in ignored}
    listed = ", ".join(port_entry(p) for p in ports if p.state not in hidden)
    summary = (f"\tIgnored State: {ignored[0].state.value} ({ignored[0].count})"
               if len(ignored) == 1 else "")
    return f"{status}{head}\tPorts: {listed}{summary}\n"


def port_entry(port: PortResult) -> str:
    """``22/open/tcp//ssh//OpenSSH 9.2p1 (protocol 2.0)/``."""
    service = view(port)  # the model every output renders (docs/outputs.md)
    name = service.column.replace("/", "|") if service.element else ""
    version = service.version_column.replace("/", "|")
    return f"{port.port}/{port.state.value}/{port.proto}//{name}//{version}/"


def shown(host: HostResult, info: ScanInfo) -> bool:
    """Whether the host is written: ``--open`` leaves out hosts without an open port."""
    return not info.open_only or host.timed_out or possibly_open(host)


class GrepableWriter:
    """Writes grepable output to a text stream as hosts finish: :meth:`start`, :meth:`host`
    for each host, :meth:`finish` (also after Ctrl-C, with the hosts done so far)."""

    def __init__(self, stream: TextStream, info: ScanInfo) -> None:
        self.stream = stream
        self.info = info
        self.hosts = 0

    def start(self) -> None:
        self._write(scan_header(self.info))

    def host(self, host: HostResult) -> None:
        self.hosts += 1
        if shown(host, self.info):
            self._write(host_lines(host, verbose=self.info.verbose, open_only=self.info.open_only))

    def status(self, report: Status) -> None:
        """A status report (a keypress, ``--stats-every``): Nmap's grepable output has none."""

    def finish(self, info: ScanInfo | None = None) -> None:
        self.info = info or self.info
        self._write(scan_footer(self.info, self.hosts, self.hosts))

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()
