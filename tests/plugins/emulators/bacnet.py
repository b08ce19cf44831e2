"""A BACnet/IP controller (47808/udp) that answers ReadProperty requests for its device object.

BACnet/IP (ASHRAE 135, Annex J) puts a BVLC header (``0x81``, a function — 0x0A original
unicast NPDU — and the 16-bit length of the whole packet) before the NPDU (version 1 and a
control byte) and the APDU. A confirmed request (type 0) of service ReadProperty (12) names an
object (context tag 0: 10 bits of type, 22 of instance; instance 4194303 of a device object
means "this device") and a property (context tag 1). A ComplexACK (type 3) repeats the invoke
ID, service, object and property, and carries the value between opening and closing tags 3 as
an application-tagged value: an unsigned (tag 2), a character string (tag 7: length, then a
character set byte — 0 UTF-8, 4 UCS-2 — and the text; a length above 4 goes in the next byte)
or an object identifier (tag 12). A property the device lacks gets an Error PDU (type 5: error
class ``property``, code ``unknown-property``). Any other datagram gets a single ``0xFF`` byte
back (:data:`~tests.plugins.emulators.base.UDP_NAK`).

Here the description is UCS-2, the model name short enough for its length to sit in the tag,
and the location missing.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from tests.plugins.emulators.base import UDP_NAK, udp

PLUGINS = ("bacnet-info",)
DEVICE, WILDCARD = 8, 0x3FFFFF
ERROR = bytes((0x91, 0x02, 0x91, 0x20))  # error class property, code unknown-property


def character_string(charset: int, value: str) -> bytes:
    body = bytes((charset,)) + value.encode("utf-16-be" if charset == 4 else "utf-8")
    if len(body) <= 4:
        return bytes((0x70 | len(body),)) + body
    return bytes((0x75, len(body))) + body


def unsigned(value: int) -> bytes:
    size = max(1, (value.bit_length() + 7) // 8)
    return bytes((0x20 | size,)) + value.to_bytes(size, "big")


def object_identifier(kind: int, instance: int) -> bytes:
    return b"\xc4" + struct.pack(">I", kind << 22 | instance)


def bvlc(npdu_apdu: bytes) -> bytes:
    return struct.pack(">BBH", 0x81, 0x0A, 4 + len(npdu_apdu)) + npdu_apdu


@dataclass(frozen=True)
class Device:
    """A device object ``instance`` whose properties have the encoded ``values``; a property
    it lacks is answered with an Error PDU."""

    instance: int
    values: dict[int, bytes]

    def handle(self, datagram: bytes) -> list[bytes]:
        if (len(datagram) != 17 or datagram[:2] != b"\x81\x0a" or datagram[2:4] != b"\x00\x11"
                or datagram[4] != 0x01):
            return [UDP_NAK]
        apdu = datagram[6:]  # NPDU without network addresses: version and control
        if apdu[0] >> 4 != 0 or apdu[3] != 0x0C or apdu[4] != 0x0C or apdu[9] != 0x19:
            return [UDP_NAK]
        invoke, object_id, prop = apdu[2], struct.unpack(">I", apdu[5:9])[0], apdu[10]
        if object_id >> 22 != DEVICE or (object_id & WILDCARD) not in (self.instance, WILDCARD):
            return [UDP_NAK]
        own = struct.pack(">I", DEVICE << 22 | self.instance)
        value = self.values.get(prop)
        if value is None:
            return [bvlc(b"\x01\x00" + bytes((0x50, invoke, 0x0C)) + ERROR)]
        return [bvlc(b"\x01\x00" + bytes((0x30, invoke, 0x0C, 0x0C)) + own + bytes((0x19, prop))
                     + b"\x3e" + value + b"\x3f")]


AHU = Device(120034, {0x4B: object_identifier(DEVICE, 120034),
                      0x78: unsigned(5),
                      0x79: character_string(0, "Example Building Controls"),
                      0x2C: character_string(0, "4.2.1"),
                      0x0C: character_string(0, "BAS-App 7.0"),
                      0x4D: character_string(0, "AHU-3 Controller"),
                      0x46: character_string(0, "E10"),
                      0x1C: character_string(4, "Air handler 3, roof")})
SERVERS = (udp(47808, AHU.handle),)
