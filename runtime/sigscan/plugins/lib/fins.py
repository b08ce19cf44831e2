"""OMRON FINS, as ``omron-info`` speaks it: the Controller Data Read command (0501) over UDP,
and over TCP inside FINS/TCP frames after the node address exchange, and the reply's fields at
the offsets the script reads them.

A FINS command is a 10-byte header (ICF, RSV, GCT, DNA, DA1, DA2, SNA, SA1, SA2, SID), the
command code and its parameters; a response has ICF 0xC0 or 0xC1 and, after the command code,
a two-byte end code and the data. FINS/TCP wraps each frame in ``FINS``, a length, a command
(0 node address request, 1 its answer, 2 a FINS frame) and an error code, all 32-bit big-endian.
"""

from __future__ import annotations

import struct

from sigscan.plugins.lib.lua import Value, text, unpack_uint, unpack_z

MAGIC = b"FINS"
ICF_COMMAND = 0x80  # command, response required
GCT = 0x02  # gateways allowed
CONTROLLER_DATA_READ = 0x0501
TCP_NODE_REQUEST, TCP_NODE_ANSWER, TCP_FRAME = 0, 1, 2
RESPONSE_STARTS = frozenset({0xC0, 0xC1, MAGIC[0]})  # what the script takes for an answer
MEMORY_CARDS = {0: "No Memory Card", 1: "SPRAM", 2: "EPROM", 3: "EEPROM"}
END_CODES = {2081: "Data cannot be changed (0x2108)",  # read little-endian, as the script does
             290: "The mode is wrong (executing) (0x2201)",
             0: "Normal completion (0x0000)"}


def fins_tcp(command: int, body: bytes) -> bytes:
    return MAGIC + struct.pack(">III", 8 + len(body), command, 0) + body


def command(da1: int, sa1: int, sa2: int, sid: int, code: int, params: bytes) -> bytes:
    """A FINS command frame to node ``da1`` of the local network."""
    return struct.pack(">BBBBBBBBBBH", ICF_COMMAND, 0, GCT, 0, da1, 0, 0, sa1, sa2, sid,
                       code) + params


# UDP: from node 0x63 (unit 0), service ID 0xEF, all the controller data
UDP_READ = command(0, 0x63, 0, 0xEF, CONTROLLER_DATA_READ, b"\x00")
# TCP: ask for a node address (client node 0: the server picks one)
TCP_NODE_ADDRESS = fins_tcp(TCP_NODE_REQUEST, struct.pack(">I", 0))


def tcp_read(server_node: int) -> bytes:
    """The script's TCP read: to the node it took from byte 24 of the answer, source unit
    0xEF, service ID 5."""
    return fins_tcp(TCP_FRAME, command(server_node, 0, 0xEF, 0x05, CONTROLLER_DATA_READ, b"\x00"))


def controller_data(response: bytes, shift: int) -> dict[str, Value]:
    """The script's table for a response whose first byte it took for FINS; ``shift`` is 16
    over TCP (the FINS/TCP header), 0 over UDP. Raises ScriptError where the script fails."""
    code, _ = unpack_uint(response, 13 + shift, 2, big=False)
    if code not in END_CODES:
        return {"Response Code": "Unknown Response Code"}
    found: dict[str, Value] = {"Response Code": END_CODES[code]}
    if code != 0:
        return found
    for name, offset in (("Controller Model", 15), ("Controller Version", 35),
                         ("For System Use", 55)):
        value, _ = unpack_z(response, offset + shift)
        found[name] = text(value)
    pos = 95 + shift
    for name, size in (("Program Area Size", 2), ("IOM size", 1), ("No. DM Words", 2),
                       ("Timer/Counter", 1), ("Expansion DM Size", 1),
                       ("No. of steps/transitions", 2), ("Kind of Memory Card", 1),
                       ("Memory Card Size", 2)):
        number, pos = unpack_uint(response, pos, size, big=True)
        found[name] = (MEMORY_CARDS.get(number, "Unknown Memory Card Type")
                       if name == "Kind of Memory Card" else number)
    return found
