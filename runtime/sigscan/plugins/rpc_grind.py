"""``rpc-grind``: which ONC RPC program answers on a port, by trying every ``nmap-rpc`` program.

Mirrors Nmap 7.93's script (nmap-semantics §7). Its port rule: the port is not excluded, the
intensity is 7 or more, and the probe phase named it ``rpcbind`` or nothing better than a
``nmap-services`` guess (``method=table``, or no name). On a port not named ``rpcbind`` it
first checks that SunRPC answers: a portmapper version 2 NULL call whose reply must carry the
same xid and be a REPLY (any reply at all makes the port ``open``, as the script's
``nmap.set_port_state`` does). Then, for each ``nmap-rpc`` program in file order, a procedure-0
CALL with ``AUTH_NULL``, a version no server has and an xid incremented per call; the program
that answers ``PROG_MISMATCH`` is the one, its reply's last 8 bytes the lowest and highest
versions. The port is then hard-matched: name the program's, version ``low-high`` (or one
number), extrainfo ``RPC #number``; the script prints nothing.

Nmap grinds with 4 threads, each on its own connection, over one shared list; here one
connection goes through the list in order, so the calls and the program found are the same
(a server answering for two programs on one port: the first in ``nmap-rpc`` order, where
Nmap's threads race). A grind ends at the first ``PROG_MISMATCH``, at the end of the list, or
when a reply does not come within :data:`TIMEOUT` or the connection ends (a thread of Nmap's
stops then too); so it is bounded by the list (about 1,700 calls).
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
from sigscan.engine.results import Method, PortState
from sigscan.plugins.lib.sunrpc import (
    PORTMAPPER,
    PROG_MISMATCH,
    REPLY,
    call,
    exchange_call,
    parse_reply,
)

# stdnse.get_timeout(host, 10000) as rpc.lua's Connect asks it: Nmap's timeout for the host
# scaled up, at least 1 s, which is what a loopback or LAN host gets.
TIMEOUT = 1.0
CHECK_XID = 0x5347_4300  # the NULL call's xid (the script draws one at random)
FIRST_XID = CHECK_XID + 1
GRIND_VERSION = 104316  # a version no server has, so the right program says which it has (RPCCheck's)
Found = tuple[str, int, int, int]  # the program's name and number, its lowest and highest version


def rule(view: PortView) -> bool:
    known = view.name is not None and view.service.method is not Method.TABLE
    if view.excluded or (known and view.name != "rpcbind"):
        return False
    return view.intensity >= 7 and bool(view.rpc_programs)


def run(view: PortView) -> Exchange:
    tcp = view.proto == "tcp"
    opened = yield from connect()
    if opened.conn is None:
        return None
    conn, state = opened.conn, None
    try:
        if view.name != "rpcbind":
            reply = yield from exchange_call(conn, call(CHECK_XID, PORTMAPPER, 2, tcp=tcp),
                                             TIMEOUT, tcp=tcp)
            if reply is None:
                return None
            state = PortState.OPEN
            if not _is_reply(reply, CHECK_XID):
                return Outcome(state=state, note="the port does not speak SunRPC")
        found = yield from _grind(view, conn, tcp)
    finally:
        yield from close(conn)
    if found is None:
        return Outcome(state=state, note="no nmap-rpc program answered PROG_MISMATCH")
    name, number, low, high = found
    version = str(high) if low == high else f"{low}-{high}"
    return Outcome(version=replace(view.service, name=name, version=version,
                                   extrainfo=f"RPC #{number}"),
                   probestate=ProbeState.HARDMATCHED, state=state)


def _is_reply(message: bytes, xid: int) -> bool:
    return len(message) >= 8 and message[:8] == xid.to_bytes(4, "big") + REPLY.to_bytes(4, "big")


def _grind(view: PortView, conn: int, tcp: bool) -> Generator[Step, object, Found | None]:
    """The program that answers PROG_MISMATCH, or None."""
    for index, program in enumerate(view.rpc_programs):
        message = call(FIRST_XID + index, program.number, GRIND_VERSION, tcp=tcp)
        reply = yield from exchange_call(conn, message, TIMEOUT, tcp=tcp)
        if reply is None:
            return None
        header = parse_reply(reply)
        if header is not None and header.accept_state == PROG_MISMATCH and header.high is not None:
            assert header.low is not None  # parse_reply reads both or neither
            return program.name, program.number, header.low, header.high
    return None


PLUGIN = Plugin("rpc-grind", rule, run, timeout=600.0,
                summary="the ONC RPC program on a port, tried against nmap-rpc")
