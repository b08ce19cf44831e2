"""``fox-info``: what a Tridium Niagara station says about itself in its Fox hello.

Mirrors Nmap 7.93's script: on 1911/tcp, 4911/tcp or a port called ``niagara-fox`` it sends
the Fox ``hello`` (``comm.tryssl``: over TLS first where ``comm`` would try it first, then the
other way) and, when the answer begins ``fox a 0`` and holds a ``{``, prints the string fields it
knows (``key=s:value`` lines: the Fox, application, VM and OS versions, host name and address,
time zone up to its first ``;``, host and VM IDs, brand, a ``fatal`` error) in the order they
came. If it found any, the port becomes ``niagara-fox``, hard-matched, with the host name
(unless it is an IP address) and, when TLS carried the exchange, the ``ssl`` tunnel.
"""

from __future__ import annotations

import re
from collections.abc import Generator
from dataclasses import replace

from sigscan.engine.plugin import Plugin, PortView, Step
from sigscan.plugins import rules
from sigscan.plugins.lib.comm import opencon, ssl_first
from sigscan.plugins.lib.ipops import is_ip
from sigscan.plugins.lib.lua import format_table, text
from sigscan.plugins.lib.nsock import received
from sigscan.plugins.lib.script import Script, nse_script

HELLO = b"fox a 1 -1 fox hello\n{\nfox.version=s:1.0\nid=i:1\n};;\n"
FIELDS = frozenset({"hostName", "hostAddress", "fox.version", "app.name", "app.version",
                    "vm.name", "vm.version", "os.name", "timeZone", "hostId", "vmUuid",
                    "brandId", "fatal"})
_FIELD = re.compile(rb"\n([A-Za-z0-9.]+)=s:([^\n]+)")

rule = rules.version_port_or_service((1911, 4911), "niagara-fox")


def fields(response: bytes) -> tuple[dict[str, str], str | None]:
    """The fields the script prints, in the order they were first set, and the host name it
    puts into ``port.version`` (the last ``hostName`` that is no IP address)."""
    found: dict[str, str] = {}
    hostname = None
    for match in _FIELD.finditer(response):
        key, value = text(match.group(1)), text(match.group(2))
        if key not in FIELDS:
            continue
        if key == "hostName" and not is_ip(value):
            hostname = value
        if key == "timeZone":
            value = value.split(";", 1)[0]
            if not value:  # "^[^;]+" found nothing: the key is set to nil, which removes it
                found.pop(key, None)
                continue
        found[key] = value
    return found, hostname


def body(view: PortView, script: Script) -> Generator[Step, object, str | None]:
    tls = ssl_first(view)
    reply = yield from opencon(HELLO, tls=tls)
    if received(reply) is None:
        tls = not tls
        reply = yield from opencon(HELLO, tls=tls)
    response = received(reply)
    if response is None or b"{" not in response or not response.startswith(b"fox a 0"):
        return None
    found, hostname = fields(response)
    if not found:
        return None
    current = script.port_version
    script.set_port_version(replace(current, name="niagara-fox",
                                    hostname=hostname or current.hostname,
                                    tunnel="ssl" if tls else current.tunnel))
    return format_table(found)


PLUGIN = Plugin("fox-info", rule, nse_script(body), timeout=35.0,
                summary="a Niagara Fox station's versions, host and IDs")
