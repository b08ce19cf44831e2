"""``amqp-info``: an AMQP 0-9-1 server's properties from its ``connection.start``, and the
product, version and protocol they give.

Mirrors Nmap 7.93's script and its ``amqp`` library: on TCP port 5672 or an open port named
``amqp``, it sends the AMQP 0-9-1 protocol header and reads the ``connection.start`` method
frame: the protocol version (``0-8`` or ``0-9``), the server-properties field table (strings,
booleans and nested tables, as the library reads them), then the mechanisms and locales. The
output lists them (``stdnse.format_output``); the version becomes name ``amqp``, product and
version the properties' ``product`` and ``version``, extra info the protocol version, hard
matched. A failure prints the library's error line and changes nothing.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, replace

from sigscan.engine.plugin import Exchange, Outcome, Plugin, PortView, Step
from sigscan.plugins import rules
from sigscan.plugins.lib.nse_socket import NSE_TIMEOUT, Failed, Socket, open_socket
from sigscan.plugins.lib.stdnse import Items, format_output

PROTOCOL_HEADER = b"AMQP\x00\x00\x09\x01"  # AMQP 0-9-1, the library's default client version
CONNECTION_START = 0x000A000A  # class 10 (connection), method 10 (start)
VERSIONS = {0x0800: "0-8", 0x0009: "0-9"}  # the server's major, minor
MAX_DEPTH = 32  # nested field tables followed; deeper ones stop the handshake (a bound of ours)

rule = rules.version_port_or_service(5672, "amqp", "tcp", "open")


def _text(data: bytes) -> str:
    """Bytes in the output: the server's UTF-8."""
    return data.decode("utf-8", "replace")


def _field(data: bytes | None) -> str | None:
    """Bytes in a version field: one character each (Nmap shows each unprintable byte as ``.``)."""
    return None if data is None else data.decode("latin-1")


class HandshakeError(Exception):
    """The library's error line for a failed handshake."""


@dataclass
class Properties:
    """What the handshake found: the output lines, and the product and version properties."""

    lines: list[str | Items]
    product: bytes | None = None
    version: bytes | None = None


class _Reader:
    """The library's reads: fixed-size pieces off the socket, each failure its error line."""

    def __init__(self, sock: Socket) -> None:
        self.sock = sock

    def take(self, size: int, what: str) -> Generator[Step, object, bytes]:
        data = yield from self.sock.receive_exact(size)
        if isinstance(data, Failed):
            raise HandshakeError(f"ERROR: AMQP:handshake connection closed unexpectedly while reading {what}")
        return data

    def number(self, size: int, what: str) -> Generator[Step, object, int]:
        return int.from_bytes((yield from self.take(size, what)), "big")

    def string(self, key: str) -> Generator[Step, object, bytes]:
        """A long string (4-byte length), as ``decodeString`` reads it."""
        size = yield from self.number(4, f"value size for {key}")
        return (yield from self.take(size, f"value for {key}"))


def _table(reader: _Reader, size: int, found: Properties,
           depth: int = 0) -> Generator[Step, object, list[str | Items]]:
    """``decodeTable``: ``key: value`` lines, a nested table as ``key: `` then its lines. The
    count of bytes read is the library's: a value of a type it does not read is not skipped."""
    if depth > MAX_DEPTH:
        raise HandshakeError("ERROR: AMQP:handshake field tables nested too deep")
    lines: list[str | Items] = []
    read = 0
    while read < size:
        length = yield from reader.number(1, "key length")
        key = _text((yield from reader.take(length, "key")))
        kind = yield from reader.take(1, f"value type for {key}")
        read += 2 + length
        if kind == b"F":
            inner = yield from reader.number(4, "table size")
            lines += [f"{key}: ", (yield from _table(reader, inner, found, depth + 1))]
            read += 4 + inner
        elif kind == b"S":
            value = yield from reader.string(key)
            read += 4 + len(value)
            if key == "product":
                found.product = value
            elif key == "version":
                found.version = value
            lines.append(f"{key}: {_text(value)}")
        elif kind == b"t":
            flag = yield from reader.number(1, f"value for {key}")
            read += 1
            lines.append(f"{key}: {'YES' if flag == 1 else 'NO'}")
    return lines


def handshake(sock: Socket) -> Generator[Step, object, tuple[str, Properties]]:
    """``AMQP:handshake``: the protocol version and the server's properties."""
    reader = _Reader(sock)
    yield from sock.send(PROTOCOL_HEADER)
    header = yield from reader.take(11, "frame header")
    frame_type, method = header[0], int.from_bytes(header[7:11], "big")
    if frame_type != 1:
        raise HandshakeError(f"ERROR: AQMP:handshake expected header (1) frame, but was {frame_type}")
    if method != CONNECTION_START:
        raise HandshakeError("ERROR: AQMP:handshake expected connection.start (0x000A000A) method, "
                             f"but was {method:x}")
    number = yield from reader.number(2, "version")
    protocol = VERSIONS.get(number)
    if protocol is None:
        raise HandshakeError(f"ERROR: AMQP:handshake unsupported version ({number:x})")
    size = yield from reader.number(4, "server properties size")
    found = Properties([])
    found.lines = yield from _table(reader, size, found)
    found.lines.append(f"mechanisms: {_text((yield from reader.string('mechanisms')))}")
    found.lines.append(f"locales: {_text((yield from reader.string('locales')))}")
    return protocol, found


def run(view: PortView) -> Exchange:
    sock = yield from open_socket(NSE_TIMEOUT)
    if isinstance(sock, Failed):
        return Outcome(output=f"Unable to open connection: {sock.error}")
    try:
        protocol, found = yield from handshake(sock)
    except HandshakeError as error:
        yield from sock.close()
        return Outcome(output=str(error))
    yield from sock.close()
    version = replace(view.service, name="amqp", product=_field(found.product),
                      version=_field(found.version), extrainfo=protocol)
    return Outcome(output=format_output(found.lines), version=version)


# A silent server costs Nmap one NSE read timeout (30 s) before it prints its error line: the
# run's bound leaves room for that and the connect.
PLUGIN = Plugin("amqp-info", rule, run, timeout=NSE_TIMEOUT + 10.0,
                summary="an AMQP server's properties, product and version")
