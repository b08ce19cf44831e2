"""``ndmp-version``: an NDMP server's vendor, host name and operating system.

Mirrors Nmap 7.93's script: on 10000 or an ``ndmp`` port it asks for the host information and
then the server information (messages it did not ask for, such as the connection status a
server sends first, are set aside). The name becomes ``ndmp``, the product the vendor (Veritas
as ``Symantec/Veritas Backup Exec ndmp``); unless the server refused the host information, the
extrainfo becomes ``Name: HOST; `` and the Windows version parts of the OS version, and the
ostype the OS type. The version is set (hardmatched). No output.
"""

from __future__ import annotations

import re
from collections.abc import Generator
from dataclasses import replace

from sigscan.engine.plugin import Exchange, Outcome, Plugin, PortView, ProbeState, Step, clock
from sigscan.plugins import rules
from sigscan.plugins.lib import ndmp
from sigscan.plugins.lib.stream import Stream, open_stream

TIMEOUT = 10.0  # ndmp.lua's socket timeout, seconds
_OSVER = re.compile(r"Major Version=([0-9]+) Minor Version=([0-9]+) Build Number=([0-9]+) "
                    r"ServicePack Major=([0-9]+) ServicePack Minor=([0-9]+)")

rule = rules.version_port_or_service(10000, "ndmp")


def _exchange(stream: Stream, seq: int, message: int) -> Generator[Step, object, ndmp.Message | None]:
    """``Comm:exch``: send the request, read messages until the reply to it."""
    now = yield from clock()
    yield from stream.send(ndmp.request(seq, int(now), message))
    while True:
        reply = yield from ndmp.receive(stream)
        if reply is None or reply.header.reply_seq == seq:
            return reply


def vendor_product(vendor: str) -> str:
    return "Symantec/Veritas Backup Exec ndmp" if "VERITAS" in vendor else vendor


def _windows_version(osver: str) -> str | None:
    found = _OSVER.search(osver)
    if found is None:
        return None
    numbers = [int(n) for n in found.groups()]
    if max(numbers) >= 1 << 63:  # Lua's %d fails on a number past a 64-bit integer
        raise ndmp.Malformed("an OS version number past a 64-bit integer")
    major, minor, build, sp_major, _ = numbers
    return f"OS ver: {major}.{minor}; OS Build: {build}; OS Service Pack: {sp_major}"


def run(view: PortView) -> Exchange:
    stream = yield from open_stream(TIMEOUT)
    if isinstance(stream, str):
        return None
    try:
        host = yield from _exchange(stream, 1, ndmp.CONFIG_GET_HOST_INFO)
        server = None if host is None else (yield from _exchange(stream, 2, ndmp.CONFIG_GET_SERVER_INFO))
        yield from stream.close()
        if host is None or server is None:
            return None
        service = replace(view.service, name="ndmp", product=vendor_product(ndmp.vendor(server)))
        info = ndmp.host_info(host)
        if info is not None:
            extrainfo = f"Name: {info.hostname}; "
            windows = _windows_version(info.osver)
            if windows is not None:
                extrainfo += windows
            service = replace(service, extrainfo=extrainfo, ostype=info.ostype)
    except ndmp.Malformed as error:
        return Outcome(note=f"a reply the script cannot read: {error}")
    return Outcome(version=service, probestate=ProbeState.HARDMATCHED)


PLUGIN = Plugin("ndmp-version", rule, run, timeout=60.0,
                summary="an NDMP server's vendor, host name and OS")
