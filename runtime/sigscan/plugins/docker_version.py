"""``docker-version``: the Docker Engine API's ``/version``.

Mirrors Nmap 7.93's script: on ports 2375 and 2376 or a port named ``docker``/``docker-s``
(intensity ≥ 7, not excluded) it fetches ``/version`` (``http.get``: TLS first on 2376) and,
when the answer is 200 with a JSON object that has ``Version`` and ``GitCommit``, sets the
service to ``docker``, product ``Docker``, that version (hard match) and prints the whole
object. Nmap prints an object's keys in Lua's hash order, which changes from run to run;
sigscan prints them in the order the server sent them.
"""

from __future__ import annotations

from dataclasses import replace

from sigscan.engine.plugin import Exchange, Outcome, Plugin, PortView, ProbeState
from sigscan.plugins import rules
from sigscan.plugins.lib import http, luajson
from sigscan.plugins.lib.nse import lua_string, printable
from sigscan.plugins.lib.output import format_table

rule = rules.version_port_or_service((2375, 2376), ("docker", "docker-s"), "tcp")


def _truthy(value: object) -> bool:
    return value is not None and value is not False


def run(view: PortView) -> Exchange:
    response = yield from http.get(view, "/version")
    if response.status != 200 or response.body is None:
        return None
    try:
        document = luajson.parse(response.text)
    except luajson.JsonError:
        return None
    if isinstance(document, bool | int | float):
        raise TypeError(f"attempt to index a {type(document).__name__} value (the JSON document)")
    if not isinstance(document, dict):  # a string, an array or null: no such keys
        return None
    if not (_truthy(document.get("Version")) and _truthy(document.get("GitCommit"))):
        return None
    version = replace(view.service, name="docker", product="Docker",
                      version=lua_string(document["Version"]))
    return Outcome(output=format_table(printable(document)), version=version, probestate=ProbeState.HARDMATCHED)


PLUGIN = Plugin("docker-version", rule, run, timeout=http.budget(2),
                summary="the Docker Engine API's /version")
