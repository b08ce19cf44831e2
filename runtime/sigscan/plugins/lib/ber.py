"""ASN.1 BER as Nmap's ``snmp.decode`` reads it (``asn1.ASN1Decoder`` with the SNMP tags).

:func:`decode` gives what the Lua decoder gives, shaped for Python: an INTEGER (and the SNMP
Counter, Gauge, TimeTicks, Counter64, UInteger32) is an ``int``, an OCTET STRING (and Opaque)
``bytes``, a BOOLEAN a ``bool``, NULL ``False``, an OBJECT IDENTIFIER an :class:`Oid`, a
SEQUENCE (and the request PDUs) a ``list``. It keeps the Lua decoder's ways, because they decide
what a script sees:

- a tag it has no decoder for (the Response-PDU ``0xa2`` among them) gives None and leaves the
  position after the length, so the value's own bytes are read next as if they were elements
  of the enclosing sequence; a None element is not added to a sequence;
- a sequence stops when fewer than two of its bytes are left (``while sPos < len``);
- an integer longer than 16 bytes is None and its bytes are read next;
- NULL and BOOLEAN do not skip their content by its length.

Where the Lua code raises an error (a truncated value, an integer that does not fit 64 bits),
:class:`BerError` is raised; the script would stop there, so a plugin returns nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

INTEGER_TAGS = frozenset({0x02, 0x41, 0x42, 0x43, 0x46, 0x47})
STRING_TAGS = frozenset({0x04, 0x44})
OID_TAGS = frozenset({0x06, 0x45})
SEQUENCE_TAGS = frozenset({0x30, 0xa0, 0xa1, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8})
MAX_INTEGER = 16  # bytes the Lua decoder reads as an integer
MAX_DEPTH = 200  # nested sequences; deeper input is refused (a bound for the recursion here)


class BerError(ValueError):
    """Input the Lua decoder stops on with an error."""


@dataclass(frozen=True, slots=True)
class Oid:
    parts: tuple[int, ...]


def _need(data: bytes, pos: int, size: int) -> None:
    if size < 0 or pos + size > len(data):
        raise BerError(f"{size} bytes wanted at {pos}, {len(data) - pos} left")


def _length(data: bytes, pos: int) -> tuple[int, int]:
    _need(data, pos, 1)
    first = data[pos]
    pos += 1
    if first <= 128:  # 128 (indefinite) is read as a length of 128, as Nmap does
        return first, pos
    size = first - 128
    _need(data, pos, size)
    return int.from_bytes(data[pos:pos + size], "big"), pos + size


def _integer(data: bytes, size: int, pos: int) -> tuple[int | None, int]:
    if size > MAX_INTEGER:
        return None, pos
    if size == 0:
        raise BerError("an integer of 0 bytes")
    _need(data, pos, size)
    value = int.from_bytes(data[pos:pos + size], "big", signed=True)
    if not -(1 << 63) <= value < (1 << 63):
        raise BerError("an integer that does not fit 64 bits")
    return value, pos + size


def _oid(data: bytes, size: int, pos: int) -> tuple[Oid, int]:
    last = pos + size - 1
    parts: list[int] = []
    if pos <= last:
        _need(data, pos, 1)
        parts += [data[pos] // 40, data[pos] % 40]
        pos += 1
    while pos <= last:
        number = 0
        while True:  # a component may run past the value, as in the Lua decoder
            _need(data, pos, 1)
            octet = data[pos]
            pos += 1
            number = number * 128 + (octet & 0x7F)
            if octet < 128:
                break
        parts.append(number)
    return Oid(tuple(parts)), pos


def _sequence(data: bytes, size: int, pos: int, depth: int) -> tuple[list[object], int]:
    _need(data, pos, size)
    inner = data[pos:pos + size]
    items: list[object] = []
    at = 0
    while at + 1 < size:  # Lua: while sPos < len, sPos counted from 1
        item, at = _decode(inner, at, depth + 1)
        if item is not None:
            items.append(item)
    return items, pos + size


def _decode(data: bytes, pos: int, depth: int) -> tuple[object, int]:
    if depth > MAX_DEPTH:
        raise BerError(f"sequences nested more than {MAX_DEPTH} deep")
    _need(data, pos, 1)
    tag = data[pos]
    size, pos = _length(data, pos + 1)
    if tag in INTEGER_TAGS:
        return _integer(data, size, pos)
    if tag in STRING_TAGS:
        _need(data, pos, size)
        return data[pos:pos + size], pos + size
    if tag in SEQUENCE_TAGS:
        return _sequence(data, size, pos, depth)
    if tag in OID_TAGS:
        return _oid(data, size, pos)
    if tag == 0x01:
        return (data[pos] != 0 if pos < len(data) else True), pos + 1
    if tag == 0x05:
        return False, pos
    return None, pos


def decode(data: bytes, pos: int = 0) -> tuple[object, int]:
    """The value at ``pos`` and the position after it (see the module's docstring)."""
    return _decode(data, pos, 0)
