"""``rpcinfo``: the portmapper's list of ONC RPC programs, and the port's own entry.

Mirrors Nmap 7.93's script (with ``rpc.Helper.RpcInfo``): on 111, TCP or UDP, open or
open|filtered, at intensity 7 or more, it asks the portmapper for its DUMP, in version 4, else
3, else 2 (RFC 1833), each on a new connection over the port's protocol with a wait of
:data:`TIMEOUT` per read. The output is one line per program and transport that has a port
(``tcp``, ``udp``, ``tcp6``, ``udp6``; ``local`` entries have none), sorted as text, under a
header::

    program version    port/proto  service
    100000  2,3,4        111/tcp   rpcbind

The versions are sorted numbers joined by commas, the service the program's ``nmap-rpc`` name.

Nmap's script also labels every *other* open TCP or UDP port of the host that the list names
(``nmap.set_port_version`` on it: the program's name, ``RPC #number``, the versions as
``low-high``, soft-matched). A plugin changes only its own port, so here only the port the
plugin runs on is labelled, when the list names it and its name is not a better guess than a
table one (none, ``method=table``, or ``rpcbind``, which it always is on a portmapper); the other
ports the list names are given in the port's notes (``-v``, NDJSON) and are not relabelled.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import replace

from sigscan.engine.plugin import (
    Exchange,
    Outcome,
    Plugin,
    PortView,
    ProbeState,
    Step,
    close,
    connect,
)
from sigscan.plugins import rules
from sigscan.plugins.lib.sunrpc import (
    PMAPPROC_DUMP,
    PORTMAPPER,
    Mapping,
    call,
    exchange_call,
    parse_dump,
)

TIMEOUT = 1.0  # stdnse.get_timeout(host, 10000) on a loopback or LAN host (see rpc-grind)
DUMP_XID = 0x5347_4400
HEADER = "program version    port/proto  service"


def rule(view: PortView) -> bool:
    return view.intensity >= 7 and rules.portnumber(111, ("tcp", "udp"))(view)


def _dump(view: PortView) -> Generator[Step, object, list[Mapping] | None]:
    """The portmapper's list, asked in version 4, 3, then 2; None when no version answered."""
    tcp = view.proto == "tcp"
    for version in (4, 3, 2):
        opened = yield from connect()
        if opened.conn is None:
            return None
        message = call(DUMP_XID + version, PORTMAPPER, version, PMAPPROC_DUMP, tcp=tcp)
        reply = yield from exchange_call(opened.conn, message, TIMEOUT, tcp=tcp)
        yield from close(opened.conn)
        found = parse_dump(reply, version) if reply is not None else None
        if found is not None:
            return found
    return None


def table(entries: list[Mapping]) -> dict[int, dict[str, tuple[int | None, list[int]]]]:
    """program -> transport -> (its port, its versions sorted), as rpc.lua's ``Dump`` builds it
    (a later entry's port replaces an earlier one's)."""
    programs: dict[int, dict[str, tuple[int | None, list[int]]]] = {}
    for entry in entries:
        transports = programs.setdefault(entry.program, {})
        _, versions = transports.get(entry.proto, (None, []))
        transports[entry.proto] = (entry.port, sorted([*versions, entry.version]))
    return programs


def run(view: PortView) -> Exchange:
    entries = yield from _dump(view)
    if entries is None:
        return None
    names = {p.number: p.name for p in view.rpc_programs}
    programs = table(entries)
    lines, others = [], []
    service = None
    for number, transports in programs.items():
        for proto, (port, versions) in transports.items():
            if port is None:
                continue
            lines.append(f"{number:<7d} {','.join(map(str, versions)):<10s} {port:5d}/{proto:<4s}  "
                         f"{names.get(number, '')}")
            if proto not in ("tcp", "udp"):
                continue
            if (port, proto) != (view.port, view.proto):
                others.append(f"{port}/{proto}")
                continue
            if view.name is None or view.service.method.value == "table" or view.name == "rpcbind":
                version = (f"{versions[0]}-{versions[-1]}" if len(versions) > 1 else str(versions[0]))
                service = replace(view.service, name=names.get(number, view.name),
                                  extrainfo=f"RPC #{number}", version=version)
    lines.sort(key=lambda line: line.encode("latin-1", "replace"))
    output = "\n" + "".join(f"  {line}\n" for line in [HEADER, *lines]) if lines else None
    note = f"lists other ports, not relabelled here: {', '.join(sorted(set(others)))}" if others else None
    return Outcome(output=output, version=service, probestate=ProbeState.SOFTMATCHED, note=note)


PLUGIN = Plugin("rpcinfo", rule, run, summary="the portmapper's list of RPC programs")
