"""``wdb-version``: a VxWorks Wind DeBug agent (WDB RPC on UDP), its version and its target.

Mirrors Nmap 7.93's script: on 17185/udp or a ``wdbrpc`` UDP port (``open`` or
``open|filtered``: a silent port is tried too) it sends ``WDB_TARGET_CONNECT``. Any reply makes
the port ``open``; a readable one makes the name ``wdb``, the product ``Wind DeBug Agent`` and
the version the agent's (hardmatched; the ostype only when the port already had one), and the
script says so with the agent's and VxWorks' versions, the board support package and the boot
line. It then sends ``WDB_TARGET_DISCONNECT`` (the agent would go on sending otherwise).
"""

from __future__ import annotations

from dataclasses import replace

from sigscan.engine.plugin import (
    Exchange,
    Outcome,
    Plugin,
    PortView,
    ProbeState,
    clock,
    close,
    connect,
    receive,
    send,
)
from sigscan.engine.results import PortState
from sigscan.plugins import rules
from sigscan.plugins.lib import wdb
from sigscan.plugins.lib.nse_format import format_table

# rpc.lua's timeout, stdnse.get_timeout(host, 10000): Nmap's first estimate of a host's timeout
# (1 s) scaled by (10 s + 6 s) / 7.
TIMEOUT = 16.0 / 7.0
VULNERABLE = ("VULNERABLE: Wind River Systems VxWorks debug service enabled. "
              "See http://www.kb.cert.org/vuls/id/362332")

rule = rules.version_port_or_service(17185, "wdbrpc", "udp")


def run(view: PortView) -> Exchange:
    opened = yield from connect()
    if opened.conn is None:
        return None
    now = yield from clock()
    xid = int(now * 1000) % 1234567890 + 1
    yield from send(opened.conn, wdb.call(xid, wdb.TARGET_CONNECT, 1, wdb.CONNECT_ARGUMENTS))
    reply = yield from receive(opened.conn, TIMEOUT)
    if not reply.ok:
        yield from close(opened.conn)
        return None
    opened_port = Outcome(state=PortState.OPEN)
    try:
        body = wdb.reply_body(reply.data)
        if body is None or body == len(reply.data) - 1:
            return opened_port
        info = wdb.decode_connect(reply.data, body)
    except wdb.Malformed as error:
        return replace(opened_port, note=f"a reply the script cannot read: {error}")
    if info is None or info.agent_version is None:
        return opened_port
    service = replace(view.service, name="wdb", product="Wind DeBug Agent",
                      version=wdb.strip_nuls(info.agent_version))
    if view.service.ostype is not None:
        if info.rt_version is None:
            return opened_port
        service = replace(service, ostype="VxWorks " + wdb.strip_nuls(info.rt_version))
    yield from send(opened.conn, wdb.call(xid, wdb.TARGET_DISCONNECT, 2, wdb.CONNECT_ARGUMENTS))
    yield from close(opened.conn)
    entries: list[tuple[str | None, str]] = [(None, VULNERABLE),
                                             ("Agent version", wdb.strip_nuls(info.agent_version))]
    for key, value in (("VxWorks version", info.rt_version), ("Board Support Package", info.bsp_name),
                       ("Boot line", info.bootline)):
        if value is not None:
            entries.append((key, wdb.strip_nuls(value)))
    return Outcome(output=format_table(entries), version=service, probestate=ProbeState.HARDMATCHED,
                   state=PortState.OPEN)


PLUGIN = Plugin("wdb-version", rule, run, timeout=30.0,
                summary="a VxWorks WDB agent's version, target and boot line")
