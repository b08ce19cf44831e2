"""A game server's All-Seeing Eye status reply (1258/udp), after the protocol's public
descriptions (qstat's and the ``allseeingeye`` match line of Nmap's probe file): ``EYE1``, then
strings each prefixed by a byte giving its length plus one (game, port, name, game type, map,
version, password flag, players, max players), key/value settings ended by ``\\x01``, then one
record per player (a flags byte saying which of name, team, skin, score, ping and time follow).

The status query ``s`` is answered; so is anything else, as ASE servers answer any datagram
on that port (Nmap's probes then see the same reply).

Nmap 7.93's script reads the length byte as the string's length, so on such a reply it fails
(``ERROR: Script execution failed``): port 1258 shows that. Port 27138 answers with the
lengths as the script reads them (as in the script's own example output), so that its
parsing, extrainfo and output are compared too."""

from __future__ import annotations

from collections.abc import Callable

from tests.plugins.emulators.base import udp

PLUGINS = ("allseeingeye-info",)


def _status(_s: Callable[[str], bytes]) -> bytes:
    head = b"EYE1" + b"".join(_s(v) for v in ("chrome", "27015", "Sigscan Net", "Team Death Match",
                                              "Data/Levels/Narrow.map", "1.2.0.0ww", "0", "2", "16"))
    settings = b"".join(_s(k) + _s(v) for k, v in (("Dedicated", "No"), ("Time Limit", "30")))
    players = b"\x3f" + b"".join(_s(v) for v in ("Alice", "Red", "", "12", "48", "310"))
    return head + settings + b"\x01" + players


def _spec(text: str) -> bytes:
    data = text.encode("latin-1")
    return bytes([len(data) + 1]) + data


def _exact(text: str) -> bytes:
    data = text.encode("latin-1")
    return bytes([len(data)]) + data


SERVERS = (udp(1258, lambda datagram: [_status(_spec)]),
           udp(27138, lambda datagram: [_status(_exact)]))
