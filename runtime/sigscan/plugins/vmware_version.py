"""``vmware-version``: a VMware server's (vCenter, ESX, ESXi) SOAP API ``about`` record.

Mirrors Nmap 7.93's script: on an HTTP port (intensity ≥ 7, not excluded) it posts the
vSphere API's ``RetrieveServiceContent`` call to ``/sdk``. A 200 answer with a ``<name>`` gives
the product ``NAME SOAP API`` and its ``<version>`` when the probe phase found no product, and
always a ``cpe:/o:vmware:NAME:VERSION`` (the name without its ``VMware `` prefix; ``nil`` for
a missing version, as Lua's ``string.format`` writes it), set as a hard match; the output lists
the server version, build, locale, OS type and product line (those found).
"""

from __future__ import annotations

import re
from dataclasses import replace

from sigscan.engine.plugin import Exchange, Outcome, Plugin, PortView, ProbeState
from sigscan.plugins import rules
from sigscan.plugins.lib import http
from sigscan.plugins.lib.markup import element
from sigscan.plugins.lib.nse import Value, printable
from sigscan.plugins.lib.output import format_table

REQUEST = (
    b'<soap:Envelope xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
    b'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    b'xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Header><operationID>'
    b"00000001-00000001</operationID></soap:Header><soap:Body><RetrieveServiceContent "
    b'xmlns="urn:internalvim25"><_this xsi:type="ManagedObjectReference" type="ServiceInstance">'
    b"ServiceInstance</_this></RetrieveServiceContent></soap:Body></soap:Envelope>")
_PREFIX = re.compile(r"^[Vv][Mm][Ww]are ")


def _lua(value: str | None) -> str:
    """A value as Lua's ``string.format("%s")`` writes it."""
    return "nil" if value is None else value


def rule(view: PortView) -> bool:
    return view.intensity >= 7 and not view.excluded and rules.http(view)


def run(view: PortView) -> Exchange:
    result = yield from http.post(view, "/sdk", REQUEST)
    if result.status != 200:
        return None
    body = result.text
    name = element(body, "name")
    if name is None:
        return None
    version = element(body, "version")
    fields = {key: element(body, key) for key in ("build", "localeVersion", "localeBuild", "osType",
                                                   "productLineId")}
    service = view.service
    if service.product is None:
        service = replace(service, product=f"{name} SOAP API", version=version)
    cpe = f"cpe:/o:vmware:{_PREFIX.sub('', name, count=1)}:{_lua(version)}"
    service = replace(service, cpe=(*service.cpe, cpe))
    shown: dict[str, str | None] = {
        "Server version": f"{name} {_lua(version)}",
        "Build": fields["build"],
        "Locale version": f"{_lua(fields['localeVersion'])} {_lua(fields['localeBuild'])}",
        "OS type": fields["osType"],
        "Product Line ID": fields["productLineId"],
    }
    output: dict[str, Value] = {k: v for k, v in shown.items() if v is not None}
    return Outcome(output=format_table(printable(output)), version=service, probestate=ProbeState.HARDMATCHED)


PLUGIN = Plugin("vmware-version", rule, run, timeout=http.budget(2),
                summary="a VMware server's SOAP API version")
