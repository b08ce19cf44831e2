"""``mqtt-subscribe``: the topics an MQTT broker publishes to a new subscriber, with their last
payloads; the broker's ``$SYS/broker/version`` becomes the service name.

Mirrors Nmap 7.93's script and its ``mqtt`` library (MQTT 3.1.1, OASIS): on TCP port 1883 or
8883 or a port named ``mqtt`` or ``secure-mqtt``, it sends CONNECT (``comm.tryssl``: TCP first,
TLS first on likely TLS ports), expects a 4-byte CONNACK that accepts, subscribes to ``$SYS/#``
and ``#``, waits for the SUBACK (skipping other packets for 5 s), then records the PUBLISH
packets that come for 5 s (at most 100), each wait for a packet bounded by the socket's
timeout, and sends DISCONNECT. The output lists each topic and its last payload. When
``$SYS/broker/version`` came, its payload becomes the port's service name (Mosquitto:
``mosquitto version 2.0.11``), hard matched. A failure prints the library's error line.

One difference: Nmap lists the topics in the order of a Lua hash table, which changes from run
to run; the plugin lists them sorted (the order the script means to give).
"""

from __future__ import annotations

import random
import string
from collections.abc import Generator, Iterable
from dataclasses import dataclass, replace

from sigscan.engine.plugin import Exchange, Outcome, Plugin, PortView, Step, clock
from sigscan.plugins import rules
from sigscan.plugins.lib.comm import ssl_first
from sigscan.plugins.lib.nse_socket import COMM_TIMEOUT, Failed, Socket, open_socket
from sigscan.plugins.lib.stdnse import format_table

PROTOCOL_NAME = b"MQTT"
PROTOCOL_LEVEL = 4  # MQTT 3.1.1
KEEP_ALIVE = 30  # seconds
TOPICS = (b"$SYS/#", b"#")
LISTEN = 5.0  # seconds of listening for PUBLISH packets (the script's listen-time)
MAX_MESSAGES = 100  # the script's listen-msgs
REQUEST_WAIT = 5  # seconds Helper.receive skips other packets before giving up
SUBSCRIBE_ID = 2  # the library numbers every packet it builds: CONNECT took 1
DISCONNECT = b"\xe0\x00"
TYPES = {1: "CONNECT", 2: "CONNACK", 3: "PUBLISH", 4: "PUBACK", 5: "PUBREC", 6: "PUBREL",
         7: "PUBCOMP", 8: "SUBSCRIBE", 9: "SUBACK", 10: "UNSUBSCRIBE", 11: "UNSUBACK",
         12: "PINGREQ", 13: "PINGRESP", 14: "DISCONNECT"}
REASONS = {1: "Unacceptable Protocol Version", 2: "Client Identifier Rejected",
           3: "Server Unavailable", 4: "Bad User Name or Password", 5: "Not Authorized"}
HEADING = "Topics and their most recent payloads"

rule = rules.version_port_or_service((1883, 8883), ("mqtt", "secure-mqtt"), "tcp")


class MqttError(Exception):
    """The library's error line for a failed step."""


class _Crash(Exception):
    """Where the Lua code stops with an error: the script gives nothing."""


@dataclass(frozen=True, slots=True)
class Packet:
    kind: str
    accepted: bool = False  # CONNACK
    reason: str = ""  # CONNACK
    granted: tuple[bool, ...] = ()  # SUBACK: each filter's success
    topic: bytes = b""  # PUBLISH
    payload: bytes = b""  # PUBLISH


# -- building ------------------------------------------------------------------------------------


def remaining_length(number: int) -> bytes:
    out = bytearray()
    while True:
        byte, number = number & 0x7F, number >> 7
        out.append(byte | (0x80 if number else 0))
        if not number:
            return bytes(out)


def utf8(text: bytes) -> bytes:
    return len(text).to_bytes(2, "big") + text


def packet(kind: int, flags: int, body: bytes) -> bytes:
    return bytes([kind << 4 | flags]) + remaining_length(len(body)) + body


def connect_packet(client_id: bytes) -> bytes:
    body = utf8(PROTOCOL_NAME) + bytes([PROTOCOL_LEVEL, 0]) + KEEP_ALIVE.to_bytes(2, "big")
    return packet(1, 0, body + utf8(client_id))


def subscribe_packet(topics: Iterable[bytes] = TOPICS) -> bytes:
    body = SUBSCRIBE_ID.to_bytes(2, "big") + b"".join(utf8(t) + b"\x00" for t in topics)
    return packet(8, 2, body)


def client_id() -> bytes:
    """``"nmap"`` and 16 random lowercase letters (``rand.random_alpha(16)``)."""
    return b"nmap" + "".join(random.choices(string.ascii_lowercase, k=16)).encode()


# -- parsing (the library's Comm.parse) -----------------------------------------------------------


def _length(buf: bytes, pos: int) -> tuple[int, int]:
    number, multiplier, offset = 0, 1, 0
    while True:
        if pos >= len(buf):
            raise MqttError("Reached end of buffer before variable-length numeric field was parsed.")
        byte = buf[pos]
        pos += 1
        number += (byte & 0x7F) * multiplier
        if offset > 3:
            raise MqttError("Buffer contained an invalid variable-length numeric field.")
        multiplier <<= 7
        offset += 1
        if not byte & 0x80:
            return number, pos


def _connack(body: bytes) -> Packet:
    if len(body) < 2:
        raise _Crash("a CONNACK of less than 2 bytes")
    code = body[1]
    return Packet("CONNACK", accepted=code == 0,
                  reason=REASONS.get(code, "Unrecognized Connect Return Code"))


def _suback(body: bytes) -> Packet:
    if len(body) < 2:
        raise MqttError("Failed to parse SUBACK packet, too short.")
    return Packet("SUBACK", granted=tuple(code <= 2 for code in body[2:]))


def _publish(flags: int, body: bytes) -> Packet:
    qos = (flags & 0x6) >> 1
    if len(body) < 2:
        raise MqttError("Cannot parse a string of less than two bytes.")
    size = int.from_bytes(body[:2], "big")
    if 2 + size > len(body):
        raise MqttError(f"Buffer at position 1 has no space for a {size}-byte UTF-8 string.")
    topic, pos = body[2:2 + size], 2 + size
    if qos in (1, 2):
        if len(body) - pos < 2:
            raise MqttError("packet truncated")
        pos += 2
    return Packet("PUBLISH", topic=topic, payload=body[pos:])


def parse(buf: bytes) -> Packet:
    """One control packet (``Comm.parse``); MqttError with the library's message if it fails."""
    if not buf:
        raise MqttError("Failed to parse control packet.")
    first = buf[0]
    size, pos = _length(buf, 1)
    end = pos + size
    if end > len(buf):
        raise MqttError(f"End of packet body ({end + 1}) is goes past end of buffer ({len(buf)}).")
    body = buf[pos:end + 1]  # Lua's buf:sub(pos, end_pos) takes one byte more, if there is one
    kind, flags = first >> 4, first & 0x0F
    name = TYPES.get(kind)
    if name is None:
        raise MqttError(f"Control packet type '{kind}' is not known.")
    if name == "CONNACK":
        return _connack(body)
    if name == "SUBACK":
        return _suback(body)
    if name == "PUBLISH":
        return _publish(flags, body)
    raise MqttError(f"Control packet type '{name}' is not implemented.")


# -- the exchange ---------------------------------------------------------------------------------


def _receive_packet(sock: Socket) -> Generator[Step, object, bytes]:
    """``Comm.receive``: one whole packet off the socket."""
    first = yield from sock.receive_exact(1)
    if isinstance(first, Failed):
        raise MqttError("Failed to receive control packet from server.")
    length = b""
    for _ in range(4):
        chunk = yield from sock.receive_exact(1)
        if isinstance(chunk, Failed):
            raise MqttError(chunk.error)
        length += chunk
        if chunk[0] < 128:
            break
    size, _ = _length(length, 0)
    body = yield from sock.receive_exact(size)
    if isinstance(body, Failed):
        raise MqttError(body.error)
    return first + length + body


def _wait_for(sock: Socket, kind: str, timeout: float) -> Generator[Step, object, Packet]:
    """``Helper.receive``: packets until one of ``kind``; others are skipped until ``timeout``
    seconds have passed (checked after each)."""
    end = (yield from clock()) + timeout
    while True:
        found = parse((yield from _receive_packet(sock)))
        if found.kind == kind:
            return found
        if timeout > 0 and (yield from clock()) >= end:
            if timeout != int(timeout):  # Lua's "%d" of a fraction is an error
                raise _Crash("%d of a fractional timeout")
            raise MqttError(f"No messages received in {int(timeout)} seconds matching desired types.")


def _tryssl(view: PortView, data: bytes) -> Generator[Step, object, tuple[Socket, bytes]]:
    """``comm.tryssl`` that keeps the connection: CONNECT over the likelier of TCP and TLS,
    then over the other if no reply came."""
    first = ssl_first(view)
    for tls in (first, not first):
        sock = yield from open_socket(COMM_TIMEOUT, tls=tls)
        if isinstance(sock, Failed):
            continue
        yield from sock.send(data)
        reply = yield from sock.receive()
        if not isinstance(reply, Failed):
            return sock, reply
        yield from sock.close()
    # the Oops error of the last try, as Nmap prints it
    raise MqttError(f"The script encountered an error: {'tcp' if first else 'ssl'} failed")


def _listen(sock: Socket) -> Generator[Step, object, tuple[dict[bytes, bytes], str | None]]:
    """The PUBLISH packets of :data:`LISTEN` seconds (at most :data:`MAX_MESSAGES`): each
    topic's last payload, and the error that ended the listening, if one did."""
    end = (yield from clock()) + LISTEN
    topics: dict[bytes, bytes] = {}
    for _ in range(MAX_MESSAGES):
        left = end - (yield from clock())
        if left <= 0:
            break
        try:
            found = yield from _wait_for(sock, "PUBLISH", left)
        except MqttError as error:
            return topics, str(error)
        topics[found.topic] = found.payload
    return topics, None


def _session(view: PortView) -> Generator[Step, object, Outcome | None]:
    sock, reply = yield from _tryssl(view, connect_packet(client_id()))
    if len(reply) != 4:
        raise MqttError("More bytes were returned from tryssl() than expected.")
    connack = parse(reply)
    if connack.kind != "CONNACK":
        raise MqttError(f"Received control packet type '{connack.kind}' instead of 'CONNACK'.")
    if not connack.accepted:
        raise MqttError(f"Connection rejected: {connack.reason}")
    yield from sock.send(subscribe_packet())
    suback = yield from _wait_for(sock, "SUBACK", REQUEST_WAIT)
    if not any(suback.granted):
        raise MqttError("Every topic filter was rejected.")
    topics, error = yield from _listen(sock)
    yield from sock.send(DISCONNECT)
    yield from sock.close()
    if error is not None and not topics:
        raise MqttError(error)
    text = {k.decode("utf-8", "replace"): v.decode("utf-8", "replace") for k, v in sorted(topics.items())}
    output = format_table({HEADING: text})
    broker = topics.get(b"$SYS/broker/version")
    if broker is None:
        return Outcome(output=output)
    return Outcome(output=output, version=replace(view.service, name=broker.decode("latin-1")))


def run(view: PortView) -> Exchange:
    try:
        return (yield from _session(view))
    except MqttError as error:
        return Outcome(output=str(error))
    except _Crash:
        return None


PLUGIN = Plugin("mqtt-subscribe", rule, run, summary="an MQTT broker's topics and its version")
