"""A Ventrilo status port (3784/udp) that answers the generic status request well and the
detailed one with a datagram shorter than a packet header: Nmap's probe names the port, and
``ventrilo-info`` fails reading the answer (Nmap prints that the script failed)."""

from __future__ import annotations

from sigscan.plugins.lib.ventrilo import decode_head
from tests.plugins.emulators import ventrilo
from tests.plugins.emulators.base import udp

PLUGINS = ("ventrilo-info",)


def status(datagram: bytes) -> list[bytes]:
    answer = ventrilo.status(datagram)
    if answer and decode_head(datagram).cmd == 2:
        return [b"\x12\x34VENTRILO"]
    return answer


SERVERS = (udp(3784, status),)
