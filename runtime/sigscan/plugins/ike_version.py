"""``ike-version``: an IKEv1 responder's vendor IDs, looked up in Nmap's vendor-ID table.

Mirrors Nmap 7.93's script and its ``ike`` library (:mod:`sigscan.plugins.lib.ike`): on
500/udp or a port named ``isakmp`` (intensity ≥ 7, not excluded) it offers 120 transforms in
up to four first messages, each on a new socket with a 1 s wait for one datagram, stopping at
the first useful reply (one that is not Informational): Aggressive Mode with Diffie-Hellman
group 2 and the identity ``vpngroup``, then group 1, then group 2 with an empty identity, then
Main Mode. A useful reply makes the port ``open``; its vendor IDs are looked up: a vendor row
gives the product and version (and the OS and device type, which it may blank), attribute rows
are listed, and either a vendor or an attribute that names an OS, device type or CPE makes the
port hard-matched. The output is the script's table::

    vendor_id: strongSwan 4.3.6
    attributes:
      XAUTH
      Dead Peer Detection v1.0

The script ends with an error (no output, no change) where the library's parsing would fail: a
payload length that runs past the reply or under 4 bytes, or a useful reply with no vendor ID
payload at all (the state is then already ``open``). Nmap binds its socket to port 500 when it
can; a plugin's socket has an ephemeral port (as Nmap's has when 500 is taken on the scanning
host), which responders answer the same way.
"""

from __future__ import annotations

import os
from dataclasses import replace

from sigscan.engine.plugin import Exchange, Outcome, Plugin, PortView, ProbeState, exchange
from sigscan.engine.results import PortState
from sigscan.plugins import rules
from sigscan.plugins.lib.ike import (
    AGGRESSIVE,
    MAIN,
    Info,
    Malformed,
    Response,
    fingerprints,
    lookup,
    parse_response,
    request,
)

TIMEOUT = 1.0  # ike.send_request's socket timeout, seconds
ATTEMPTS = ((AGGRESSIVE, 2, b"vpngroup"), (AGGRESSIVE, 1, b"vpngroup"), (AGGRESSIVE, 2, b""),
            (MAIN, None, b""))

rule = rules.version_port_or_service(500, "isakmp", "udp")


def run(view: PortView) -> Exchange:
    response: Response | None = None
    for mode, diffie, ident in ATTEMPTS:
        packet = request(mode, view.port, view.proto, diffie, ident, os.urandom(220))
        reply = yield from exchange(packet, TIMEOUT)
        if not reply.ok:
            continue
        try:
            response = parse_response(reply.data)
        except Malformed as error:
            return Outcome(note=f"reply not parsed ({error}), as the script fails on it")
        if response is not None:
            break
    if response is None:
        return None
    if response.vids is None:
        return Outcome(state=PortState.OPEN, note="a reply with no vendor ID (the script fails on it)")
    rows = fingerprints()
    if not rows:
        return Outcome(state=PortState.OPEN, note="no ike-fingerprints.lua of an installed Nmap to "
                                                  "look the vendor IDs up in")
    return _outcome(view, lookup(response.vids, rows))


def _outcome(view: PortView, info: Info) -> Outcome:
    service, set_version, vendor_id = view.service, False, None
    cpe = list(service.cpe)
    if info.vendor is not None:
        set_version, row = True, info.vendor
        if row.vendor:
            vendor_id = row.vendor
            service = replace(service, product=row.vendor)
        if row.version:
            service = replace(service, version=row.version)
            vendor_id = f"{vendor_id or ''} {row.version}"
        service = replace(service, ostype=info.ostype, devicetype=row.devicetype)
        cpe += [row.cpe] if row.cpe else []
    for attrib in info.attribs:
        if attrib.ostype or attrib.devicetype or attrib.cpe:
            set_version = True
            service = replace(service, ostype=service.ostype or attrib.ostype,
                              devicetype=service.devicetype or attrib.devicetype)
            cpe += [attrib.cpe] if attrib.cpe else []
    lines = [f"  vendor_id: {vendor_id}"] if vendor_id is not None else []
    texts = [a.text or "" for a in info.attribs]
    if texts:
        lines += ["  attributes: ", *(f"    {t}" for t in texts)]
    output = "\n" + "\n".join(lines) if lines else None
    return Outcome(output=output, state=PortState.OPEN,
                   version=replace(service, cpe=tuple(cpe)) if set_version else None,
                   probestate=ProbeState.HARDMATCHED)


PLUGIN = Plugin("ike-version", rule, run, summary="IKE vendor IDs, looked up in Nmap's table")
