"""``http-trane-info``: a Trane Tracer SC HVAC controller's ``/evox`` pages.

Mirrors Nmap 7.93's script: on an HTTP port (intensity ≥ 7) whose server does not answer 200
for every page (``http.identify_404``), it fetches ``/evox/about``. When that status line has
``200``, it reads nine ``name" val=…/>`` fields (a page without ``serverName`` prints
``Problem with XML parsing of /evox/about``; one without another field ends the script with an
error, as in Nmap), then ``/evox/equipment/installedSummary``, whose devices it lists (one per
``equipmentUri``, each field searched from where the previous device's ``equipmentUri`` ended,
as the script does). A second request that failed prints ``Request returned a network
error.``; otherwise the port becomes ``http`` with the Tracer's product, version and hardware
type and a ``cpe:/h:VENDOR:PRODUCT`` (hard match), and the fields are printed. Nmap prints a
device's fields in Lua's hash order, which changes from run to run; sigscan in the script's
list order.
"""

from __future__ import annotations

import re
from dataclasses import replace

from sigscan.engine.plugin import Exchange, Outcome, Plugin, PortView, ProbeState
from sigscan.plugins import rules
from sigscan.plugins.lib import http
from sigscan.plugins.lib.nse import Value, printable
from sigscan.plugins.lib.output import format_table

ABOUT = ("serverName", "serverTime", "serverBootTime", "vendorName", "productName", "productVersion",
         "kernelVersion", "hardwareType", "hardwareSerialNumber")
DEVICE = ("equipmentUri", "displayName", "deviceName", "equipmentFamily", "roleDocument", "isOffline")
MARK = "equipmentUri"
NOT_AVAILABLE = "Not available"
XML_PROBLEM = "Problem with XML parsing of /evox/about"
NETWORK_ERROR = "Request returned a network error."


def _field(body: str, key: str, start: int = 0) -> str | None:
    """The script's ``body:match(key .. '" val=([^<]*)/>', init)``, quotes removed later."""
    found = re.compile(re.escape(key) + r'" val=([^<]*)/>').search(body, start)
    return found.group(1) if found else None


def _body(response: http.Response) -> str:
    if response.body is None:
        raise TypeError("attempt to index a nil value (field 'body')")
    return response.text


def devices(body: str) -> list[Value]:
    """The devices of an ``installedSummary`` page, read as the script reads them."""
    last = body.rfind(MARK)
    if last < 0:
        raise TypeError("attempt to concatenate a nil value (local 'lastequipmentUri')")
    last += len(MARK)  # Lua's 1-based index of the last character of the last mark
    found: list[Value] = []
    start = 1  # where each search begins, 1-based as in the script
    while start < last:
        device: dict[str, Value] = {}
        for key in DEVICE:
            value = _field(body, key, start - 1)
            device[key] = NOT_AVAILABLE if value is None else value.replace('"', "")
        mark = body.find(MARK, start - 1)
        start = mark + len(MARK)  # a mark always follows: the last one lies ahead
        found.append(device)
    return found


def rule(view: PortView) -> bool:
    return rules.http(view) and view.intensity >= 7


def run(view: PortView) -> Exchange:
    missing = yield from http.identify_404(view)
    if missing.all_200:
        return None
    about = yield from http.get(view, "/evox/about")
    if "200" not in about.status_line:
        return None
    body = _body(about)
    if _field(body, "serverName") is None:
        return Outcome(output=XML_PROBLEM)
    output: dict[str, Value] = {}
    for key in ABOUT:
        value = _field(body, key)
        if value is None:
            raise TypeError(f"attempt to concatenate a nil value (field '{key}')")
        output[key] = value.replace('"', "")
    summary = yield from http.get(view, "/evox/equipment/installedSummary")
    if "200" in summary.status_line:
        listed = _body(summary)
        if "Error code: 00017" not in listed:
            output["devices"] = devices(listed)
    if "Error" in summary.status_line:
        return Outcome(output=NETWORK_ERROR)
    cpe = f"cpe:/h:{output['vendorName']}:{output['productName']}"
    version = replace(view.service, name="http", product=str(output["productName"]),
                      version=str(output["productVersion"]), devicetype=str(output["hardwareType"]),
                      cpe=(*view.service.cpe, cpe))
    return Outcome(output=format_table(printable(output)), version=version, probestate=ProbeState.HARDMATCHED)


PLUGIN = Plugin("http-trane-info", rule, run, timeout=http.budget(6),
                summary="a Trane Tracer SC controller's /evox pages")
