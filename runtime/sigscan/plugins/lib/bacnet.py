"""BACnet/IP (ASHRAE 135 Annex J), as ``bacnet-info`` speaks it: a confirmed ReadProperty of
the device object, and the answer's fields at the offsets the script reads them.

A BACnet/IP packet is a BVLC header (``0x81``, the function — 0x0A original unicast — and the
packet's 16-bit length), an NPDU (version 1, a control byte; 0x04 asks for a reply) and an
APDU: here a confirmed request (type 0) for ReadProperty (service 12) of the device object
with the wildcard instance 4194303, naming the property in a one-byte context tag. The script
reads the answer's APDU type at byte 7 (0x50 is an Error PDU) and the property value's
application tag at byte 18, the value after it.
"""

from __future__ import annotations

import struct

from sigscan.plugins.lib.lua import ScriptError, byte, unpack_fixed, unpack_uint

BVLC_TYPE = 0x81
ORIGINAL_UNICAST = 0x0A
ERROR_PDU = 0x50
DEVICE_WILDCARD = (8 << 22) | 0x3FFFFF  # object type device, instance 4194303
CHARSET_UTF8, CHARSET_UCS2 = 0, 4

# property identifiers; PROPERTIES are the character strings the script reads last, in order
OBJECT_IDENTIFIER = 0x4B
VENDOR_IDENTIFIER = 0x78
VENDOR_NAME = 0x79
PROPERTIES = (("Firmware", 0x2C), ("Application Software", 0x0C), ("Object Name", 0x4D),
              ("Model Name", 0x46), ("Description", 0x1C), ("Location", 0x3A))


def read_property(prop: int) -> bytes:
    apdu = struct.pack(">BBBBBIBB", 0x00, 0x05, 0x01, 0x0C, 0x0C, DEVICE_WILDCARD, 0x19, prop)
    npdu = bytes((0x01, 0x04))
    return struct.pack(">BBH", BVLC_TYPE, ORIGINAL_UNICAST, 4 + len(npdu) + len(apdu)) + npdu + apdu


def is_bacnet(response: bytes) -> bool:
    return byte(response, 1) == BVLC_TYPE


def is_error(response: bytes) -> bool:
    return byte(response, 7) == ERROR_PDU


def vendor_number(response: bytes) -> int | None:
    """The vendor number of an answer that is no Error PDU: one byte after tag 0x21, two after
    0x22, None after any other tag."""
    tag = byte(response, 18)
    if tag == 0x21:
        number = byte(response, 19)
        if number is None:  # string.format("%d", nil)
            raise ScriptError("bad argument #3 to 'format' (number expected, got nil)")
        return number
    if tag == 0x22:
        number, _ = unpack_uint(response, 19, 2, big=True)
        return number
    return None


def utf16be_to_utf8(data: bytes) -> bytes:
    """``unicode.transcode(data, utf16_dec, utf8_enc, true)``: 16-bit units, a surrogate taking
    the next unit whatever it is; code points UTF-8 cannot carry are dropped; an odd byte at
    the end is an error."""
    out = bytearray()
    pos = 1
    while pos <= len(data):
        unit, pos = unpack_uint(data, pos, 2, big=True)
        if 0xD800 <= unit <= 0xDFFF:
            low, pos = unpack_uint(data, pos, 2, big=True)
            unit = 0x10000 + ((unit - 0xD800) << 10) + low - 0xDC00
        if 0 <= unit <= 0x10FFFF:
            out += chr(unit).encode("utf-8", "surrogatepass")
    return bytes(out)


def character_string(packet: bytes) -> bytes:
    """The script's ``field_size``: the character string value of an answer (its length in the
    tag byte, or in the next byte when the tag says 5), UCS-2 turned into UTF-8."""
    tag = byte(packet, 18)
    if tag is None:
        raise ScriptError("attempt to perform arithmetic on a nil value (local 'value')")
    if tag % 0x10 < 5:
        size, offset = tag % 0x10 - 1, 19
    else:
        extended = byte(packet, 19)
        if extended is None:
            raise ScriptError("attempt to perform arithmetic on a nil value")
        size, offset = extended - 1, 20
    charset, pos = unpack_uint(packet, offset, 1, big=True)
    if size < 0:
        raise ScriptError("missing size for format option 'c'")
    info, _ = unpack_fixed(packet, pos, size)
    return utf16be_to_utf8(info) if charset == CHARSET_UCS2 else info


def instance(response: bytes) -> int:
    """The device instance of the answer to the object-identifier query (the low 24 bits of
    the identifier)."""
    number, _ = unpack_uint(response, 20, 3, big=True)
    return number
