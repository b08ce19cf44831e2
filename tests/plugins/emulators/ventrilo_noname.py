"""A Ventrilo status port (3784/udp) whose detailed status names no ``NAME`` among its client
fields while a client sits in a channel: ``ventrilo-info`` sets the port's version and then
fails printing the client (Nmap prints that the script failed, the version stays)."""

from __future__ import annotations

from sigscan.plugins.lib.ventrilo import decode_head
from tests.plugins.emulators import ventrilo
from tests.plugins.emulators.base import udp

PLUGINS = ("ventrilo-info",)
TEXT = (ventrilo.GENERIC + b"CHANNELCOUNT: 1\nCHANNELFIELDS: CID,PID,PROT,NAME,COMM\n"
        b"CHANNEL: CID=4,PID=0,PROT=0,NAME=Only room,COMM=\n"
        b"CLIENTCOUNT: 1\nCLIENTFIELDS: UID,ADMIN,CID,PHAN,PING,SEC,COMM\n"
        b"CLIENT: UID=3,ADMIN=0,CID=4,PHAN=0,PING=20,SEC=600,COMM=nameless\n")


def status(datagram: bytes) -> list[bytes]:
    answer = ventrilo.status(datagram)
    if answer and decode_head(datagram).cmd == 2:
        return ventrilo.packets(2, decode_head(datagram).id, TEXT)
    return answer


SERVERS = (udp(3784, status),)
