"""A Quake 3 (ioquake3) server's answer to ``getstatus`` on 27960/udp, in the out-of-band
format the id Tech 3 network protocol documents: ``\\xff\\xff\\xff\\xff`` then
``statusResponse``, a line of ``\\key\\value`` server options, one ``frags ping "name"`` line per
player, and a final line break. ``getinfo`` and
other queries get nothing."""

from __future__ import annotations

from tests.plugins.emulators.base import udp

PLUGINS = ("quake3-info",)
OPTIONS = {
    "sv_hostname": "Sigscan Arena", "version": "ioq3 1.36_GIT_70d07d9 linux-x86_64 Nov 23 2022",
    "fraglimit": "20", "timelimit": "15", "mapname": "q3dm17", "g_gametype": "0",
    "sv_maxclients": "16", "protocol": "68", "gamename": "baseq3",
}
PLAYERS = ((9, 48, "Alice"), (12, 33, "Bob"), (9, 51, "Carol"), (0, 999, "Dave"))


def answer(datagram: bytes) -> list[bytes]:
    if not datagram.startswith(b"\xff\xff\xff\xffgetstatus"):
        return []
    options = "".join(f"\\{key}\\{value}" for key, value in OPTIONS.items())
    players = "".join(f'{frags} {ping} "{name}"\n' for frags, ping, name in PLAYERS)
    return [f"\xff\xff\xff\xffstatusResponse\n{options}\n{players}".encode("latin-1")]


SERVERS = (udp(27960, answer),)
