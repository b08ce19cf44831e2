"""Siemens S7comm over ISO-on-TCP (RFC 1006 TPKT, ISO 8073 COTP class 0), as ``s7-info``
speaks it: the requests it sends and the fields it reads back, at the offsets it reads them.

A TPKT is ``03 00 LENGTH(2)``; a COTP data TPDU ``02 F0 80``; an S7 PDU starts with the
protocol ID ``0x32``, the ROSCTR (1 job, 3 ack-data, 7 userdata), a reserved word, the PDU
reference, and the parameter and data lengths. Reading an SZL (system status list) is a
userdata PDU of the CPU-functions group (``0x44``: request, group 4), subfunction 1, with the
SZL ID and index in its data.
"""

from __future__ import annotations

import struct

from sigscan.plugins.lib.lua import byte, text, unpack_z

COTP_CR, COTP_CC, COTP_DT = 0xE0, 0xD0, 0xF0
PROTOCOL_ID = 0x32
ROSCTR_JOB, ROSCTR_USERDATA = 0x01, 0x07
TPDU_SIZE_1024 = 0x0A


def tpkt(payload: bytes) -> bytes:
    return struct.pack(">BBH", 3, 0, 4 + len(payload)) + payload


def connection_request(source_ref: int, called_tsap: int) -> bytes:
    """A COTP CR, calling TSAP 0x0100, TPDU size 1024."""
    params = (struct.pack(">BBH", 0xC1, 2, 0x0100) + struct.pack(">BBH", 0xC2, 2, called_tsap)
              + bytes((0xC0, 1, TPDU_SIZE_1024)))
    fixed = struct.pack(">BHHB", COTP_CR, 0, source_ref, 0)
    return tpkt(bytes((len(fixed) + len(params),)) + fixed + params)


def s7_pdu(rosctr: int, params: bytes, data: bytes = b"") -> bytes:
    """An S7 PDU in a COTP data TPDU in a TPKT (PDU reference 0)."""
    header = struct.pack(">BBHHHH", PROTOCOL_ID, rosctr, 0, 0, len(params), len(data))
    return tpkt(bytes((2, COTP_DT, 0x80)) + header + params + data)


def read_szl(szl_id: int, index: int) -> bytes:
    params = bytes((0x00, 0x01, 0x12, 0x04, 0x11, 0x44, 0x01, 0x00))
    data = struct.pack(">BBHHH", 0xFF, 0x09, 4, szl_id, index)
    return s7_pdu(ROSCTR_USERDATA, params, data)


COTP_TSAP_0102 = connection_request(0x0014, 0x0102)
COTP_TSAP_0200 = connection_request(0x0005, 0x0200)
# setup communication: function 0xF0, 1 job calling and called, PDU size 480
SETUP_COMMUNICATION = s7_pdu(ROSCTR_JOB, struct.pack(">BBHHH", 0xF0, 0, 1, 1, 480))
READ_SZL_0011 = read_szl(0x0011, 0x0001)
READ_SZL_001C = read_szl(0x001C, 0x0001)

# SZL 0x001C: (field, 1-based offset of its text when the reply has no 4-byte shift), in the
# order the script sets them
COMPONENTS = (("System Name", 40), ("Module Type", 74), ("Serial Number", 176),
              ("Plant Identification", 108), ("Copyright", 142))


def parse_module_identification(response: bytes) -> dict[str, str] | None:
    """SZL 0x0011 read as the script reads it: the order number of the module at byte 44, the
    hardware at 72, the firmware version from bytes 123-125; None unless S7 and ≥ 125 bytes."""
    if byte(response, 8) != PROTOCOL_ID or len(response) < 125:
        return None
    module, _ = unpack_z(response, 44)
    hardware, _ = unpack_z(response, 72)
    return {"Module": text(module), "Basic Hardware": text(hardware),
            "Version": ".".join(str(b) for b in response[122:125])}


def parse_component_identification(response: bytes) -> dict[str, str]:
    """SZL 0x001C's texts at the script's offsets (4 bytes further unless byte 31 is 0x1C),
    each only when the reply goes past its offset."""
    shift = 0 if byte(response, 31) == 0x1C else 4
    found: dict[str, str] = {}
    for name, offset in COMPONENTS:
        if len(response) > offset + shift:
            value, _ = unpack_z(response, offset + shift)
            found[name] = text(value)
    return found


def drop_empty(fields: dict[str, str]) -> dict[str, str]:
    """The script's ``for key in pairs(output) do if empty then output[key] = nil``: removing an
    entry of an ``output_table`` while iterating it skips the entry after it, which stays even
    when empty."""
    kept = dict(fields)
    order = list(fields)
    index = 0
    while index < len(order):
        if kept[order[index]] == "":
            del kept[order[index]]
            del order[index]
        index += 1
    return kept
