"""``stun-version``: the ``SOFTWARE`` attribute of a STUN binding response becomes the product.

Mirrors Nmap 7.93's script (with its ``stun`` library in its default "modern" mode): on
3478/udp or a port named ``stun`` (intensity ≥ 7, not excluded) it sends a binding request
(RFC 5389 §6: type 0x0001, no attributes, the magic cookie and 12 random bytes as the
transaction id) and reads the response within 10 s: 20 header bytes, then as many as the
header's length says (datagrams joined until they are there). A binding response (0x0101) with
a ``MAPPED-ADDRESS`` or a ``SOFTWARE`` attribute (0x8022, RFC 3489's ``SERVER``) makes the port
``open`` and ``stun``, hard-matched, with the ``SOFTWARE`` text as the product (coturn's
``Coturn-4.6.1 'Gorst'``; an empty one when the response has only an address, as in Nmap). The
attributes are walked as the library walks them: by their length, without RFC 5389's padding
to 4 bytes. Anything else (no reply, another message type, a short attribute) changes nothing
and prints nothing, as the script's failures print only under ``-d``.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Generator
from dataclasses import replace

from sigscan.engine.plugin import (
    Exchange,
    Outcome,
    Plugin,
    PortView,
    ProbeState,
    ReplyEnd,
    Step,
    clock,
    close,
    connect,
    receive,
    send,
)
from sigscan.engine.results import PortState
from sigscan.plugins import rules

TIMEOUT = 10.0  # stun.Comm's default timeout, seconds
BINDING_REQUEST, BINDING_RESPONSE = 0x0001, 0x0101
MAPPED_ADDRESS, SOFTWARE = 0x0001, 0x8022
MAGIC_COOKIE = b"\x21\x12\xa4\x42"
HEADER = 20

rule = rules.version_port_or_service(3478, "stun", "udp")


def binding_request(transaction: bytes) -> bytes:
    return struct.pack(">HH", BINDING_REQUEST, 0) + MAGIC_COOKIE + transaction


def software(message: bytes) -> str | None:
    """The product a binding response gives (``""`` when it has an address and no software
    attribute), or None when it is not one the library accepts."""
    if len(message) < HEADER or struct.unpack_from(">H", message)[0] != BINDING_RESPONSE:
        return None
    found, has_address, pos = None, False, HEADER
    while pos < len(message):
        if pos + 4 > len(message):
            return None  # the library's unpack fails: the script ends with an error
        kind, length = struct.unpack_from(">HH", message, pos)
        if kind == MAPPED_ADDRESS:
            if pos + 12 > len(message):
                return None
            has_address = True
        elif kind == SOFTWARE:
            found = message[pos + 4:pos + 4 + length].decode("latin-1")
        pos += length + 4
    if found is None and not has_address:
        return None
    return found or ""


def _read_message(conn: int) -> Generator[Step, object, bytes | None]:
    """The header and the bytes its length announces, from datagrams read within TIMEOUT."""
    buffer, end = b"", (yield from clock()) + TIMEOUT
    while True:
        if len(buffer) >= HEADER:
            size = HEADER + struct.unpack_from(">H", buffer, 2)[0]
            if len(buffer) >= size:
                return buffer[:size]
        left = end - (yield from clock())
        if left <= 0:
            return None
        reply = yield from receive(conn, left)
        if reply.end is not ReplyEnd.DATA:
            return None
        buffer += reply.data


def run(view: PortView) -> Exchange:
    opened = yield from connect()
    if opened.conn is None:
        return None
    yield from send(opened.conn, binding_request(os.urandom(12)))
    message = yield from _read_message(opened.conn)
    yield from close(opened.conn)
    product = software(message) if message is not None else None
    if product is None:
        return None
    return Outcome(version=replace(view.service, name="stun", product=product or None),
                   probestate=ProbeState.HARDMATCHED, state=PortState.OPEN)


PLUGIN = Plugin("stun-version", rule, run, summary="the STUN server's SOFTWARE attribute as the product")
