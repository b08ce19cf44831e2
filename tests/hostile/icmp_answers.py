"""A router that answers every TCP SYN with an ICMP error, chosen by the destination port.

Run inside a network namespace of the test's own (``python -m tests.hostile.icmp_answers DEVICE
SECONDS``): it makes the TUN device DEVICE there, prints ``ready``, and for SECONDS at most reads
the IPv4 packets routed to the device and writes back, for a SYN to a port of :data:`ANSWERS`, the
ICMP message (type, code) quoting the SYN's IP header and first 8 bytes, as a router would. The
kernel then fails the connect with the errno it gives that ICMP error; a SYN to any other port is
left unanswered.
"""

from __future__ import annotations

import fcntl
import os
import select
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TUN, IFF_NO_PI = 0x0001, 0x1000
ICMP = 1
TCP = 6

# port -> (ICMP type, code)
ANSWERS: dict[int, tuple[int, int]] = {
    1001: (3, 0),  # net unreachable
    1002: (3, 1),  # host unreachable
    1003: (3, 2),  # protocol unreachable
    1004: (3, 3),  # port unreachable
    1005: (3, 4),  # fragmentation needed (not an error for a SYN: no answer)
    1006: (3, 5),  # source route failed
    1007: (3, 6),  # destination network unknown
    1008: (3, 7),  # destination host unknown
    1009: (3, 8),  # source host isolated
    1010: (3, 9),  # network administratively prohibited
    1011: (3, 10),  # host administratively prohibited
    1012: (3, 11),  # network unreachable for TOS
    1013: (3, 12),  # host unreachable for TOS
    1014: (3, 13),  # communication administratively prohibited
    1015: (3, 14),  # host precedence violation
    1016: (3, 15),  # precedence cutoff in effect
    1020: (11, 0),  # time exceeded in transit
    1021: (12, 0),  # parameter problem
    1022: (4, 0),  # source quench (ignored by the kernel: no answer)
}


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def answer(packet: bytes) -> bytes | None:
    """The ICMP error for PACKET (an IPv4 datagram), or None to leave it unanswered."""
    if len(packet) < 20 or packet[0] >> 4 != 4 or packet[9] != TCP:
        return None
    header = (packet[0] & 0x0F) * 4
    (port,) = struct.unpack("!H", packet[header + 2:header + 4])
    if port not in ANSWERS:
        return None
    kind, code = ANSWERS[port]
    icmp = struct.pack("!BBHI", kind, code, 0, 0) + packet[:header + 8]
    icmp = icmp[:2] + struct.pack("!H", checksum(icmp)) + icmp[4:]
    source, destination = packet[16:20], packet[12:16]  # from the router's side: swapped
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(icmp), 0, 0, 64, ICMP, 0, source, destination)
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    return ip + icmp


def serve(device: str, seconds: float) -> None:
    tun = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(tun, TUNSETIFF, struct.pack("16sH", device.encode(), IFF_TUN | IFF_NO_PI))
    print("ready", flush=True)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        readable, _, _ = select.select([tun], [], [], 0.2)
        if readable:
            reply = answer(os.read(tun, 65535))
            if reply is not None:
                os.write(tun, reply)


if __name__ == "__main__":
    serve(sys.argv[1], float(sys.argv[2]))
