"""Web servers of devices, for the scripts that ask them for their own pages:

- 80: a Trane Tracer SC. ``/evox/about`` is an oBIX ``About`` object (OASIS oBIX 1.1: ``str``
  and ``abstime`` children with ``name`` and ``val``, here written ``val="…" />`` as the
  Tracer writes them) with Trane's kernel and hardware fields; ``/evox/equipment/installedSummary``
  an oBIX list of two equipment objects; every other page 404.
- 8088: the same Tracer, whose equipment page fails with ``500 Internal Server Error``.
- 8180: a server whose ``/evox/about`` is a 200 page of no oBIX at all.
- 8000: a server that answers 200 with the same page for every path (the scripts' 404 check
  then stops them).
- 8080: a VMware ESXi host's vSphere API (``POST /sdk``, ``RetrieveServiceContent``: the
  ``ServiceContent`` and its ``AboutInfo``), with no ``Server`` header Nmap knows, so the script
  names the product; 7080: a vCenter behind Apache (Nmap's probes name Apache, which stays),
  whose ``AboutInfo`` has no ``version``.
- 631: an HNAP device (``/HNAP1`` answers ``GetDeviceSettingsResponse``, HNAP 1.2): Nmap 7.93's
  hnap-info asks and reports nothing (see the plugin).
"""

from __future__ import annotations

from collections.abc import Callable

from tests.plugins.emulators.base import tcp
from tests.plugins.httpkit import BAD_REQUEST, Request, response, serve

PLUGINS = ("http-trane-info", "vmware-version", "hnap-info")
SILENT = ("hnap-info",)
UNORDERED = ("http-trane-info",)  # Nmap prints each device's fields in Lua's hash order
EFFECTS = {
    ("tcp", 80): {"name": "http", "product": "Tracer SC ", "version": "v4.40.1211 (release) "},
    ("tcp", 8080): {"product": "VMware ESXi SOAP API", "version": "6.7.0"},
    ("tcp", 7080): {"product": "Apache httpd"},
    ("tcp", 631): {"name": "ipp", "product": ""},  # the script would say hnap, Linksys E1200 if it could
}
HTML = (("Content-Type", "text/html"),)
XML = (("Content-Type", "text/xml; charset=utf-8"),)
NOT_FOUND = b"<html><body><h1>404 Not Found</h1></body></html>\n"

ABOUT = b"""<?xml version="1.0" encoding="UTF-8"?>
<obj href="/evox/about" is="obix:About">
  <str name="obixVersion" val="1.0" />
  <str name="serverName" val="TracerSC-HQ" />
  <abstime name="serverTime" val="2024-05-14T10:21:07-05:00" />
  <abstime name="serverBootTime" val="2024-04-02T06:00:31-05:00" />
  <str name="vendorName" val="Trane" />
  <uri name="vendorUrl" val="http://www.trane.com" />
  <str name="productName" val="Tracer SC" />
  <str name="productVersion" val="v4.40.1211 (release)" />
  <str name="kernelVersion" val="2.6.30_HwVer12AB-hydra" />
  <str name="hardwareType" val="HwVer12AB" />
  <str name="hardwareSerialNumber" val="E12A04567" />
</obj>
"""

EQUIPMENT = b"""<?xml version="1.0" encoding="UTF-8"?>
<list href="/evox/equipment/installedSummary" of="obix:obj">
  <obj href="/evox/equipment/dac/generic/1">
    <str name="equipmentUri" val="/equipment/dac/generic/1" />
    <str name="displayName" val="RTU-01" />
    <str name="equipmentFamily" val="AirHandler" />
    <str name="roleDocument" val="BCI-I_9a8c9b8116cd__RTU_Ipak_VAV" />
    <bool name="isOffline" val="false" />
    <str name="deviceName" val="RTU-01" />
  </obj>
  <obj href="/evox/equipment/vav/2">
    <str name="equipmentUri" val="/equipment/vav/2" />
    <str name="displayName" val="VAV-2-17" />
    <str name="equipmentFamily" val="VariableAirVolume" />
    <bool name="isOffline" val="true" />
    <str name="deviceName" val="VAV-2-17" />
  </obj>
</list>
"""

SERVICE_CONTENT = b"""<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenc="http://schemas.xmlsoap.org/soap/encoding/"
 xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"
 xmlns:xsd="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<soapenv:Body>
<RetrieveServiceContentResponse xmlns="urn:vim25"><returnval>
<rootFolder type="Folder">ha-folder-root</rootFolder>
<propertyCollector type="PropertyCollector">ha-property-collector</propertyCollector>
<about><name>%(name)s</name><fullName>%(name)s %(version)s build-8169922</fullName>
<vendor>VMware, Inc.</vendor>%(version_element)s<build>8169922</build>
<localeVersion>INTL</localeVersion><localeBuild>000</localeBuild><osType>%(os)s</osType>
<productLineId>%(line)s</productLineId><apiType>HostAgent</apiType><apiVersion>6.7</apiVersion>
</about></returnval></RetrieveServiceContentResponse>
</soapenv:Body>
</soapenv:Envelope>
"""

HNAP = b"""<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
 xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">
<soap:Body><GetDeviceSettingsResponse xmlns="http://purenetworks.com/HNAP1/">
<GetDeviceSettingsResult>OK</GetDeviceSettingsResult>
<Type>GatewayWithWiFi</Type><DeviceName>Ingraham</DeviceName><VendorName>Linksys</VendorName>
<ModelDescription>Linksys E1200</ModelDescription><ModelName>E1200</ModelName>
<FirmwareVersion>1.0.00 build 11</FirmwareVersion><PresentationURL>http://192.168.1.1/</PresentationURL>
<SOAPActions><string>http://purenetworks.com/HNAP1/GetDeviceSettings</string>
<string>http://purenetworks.com/HNAP1/SetDeviceSettings</string></SOAPActions>
</GetDeviceSettingsResponse></soap:Body></soap:Envelope>
"""


def pages(found: dict[str, tuple[int, bytes, tuple[tuple[str, str], ...]]],
          server: tuple[tuple[str, str], ...] = ()) -> Callable[[Request | None], bytes]:
    """A server of fixed pages by method and path (``"GET /"``); 404 for the others."""
    def route(request: Request | None) -> bytes:
        if request is None:
            return BAD_REQUEST
        status, body, headers = found.get(f"{request.method} {request.path}", (404, NOT_FOUND, HTML))
        return response(status, body, server + headers, version=request.version)
    return route


def same_page(request: Request | None) -> bytes:
    if request is None:
        return BAD_REQUEST
    return response(200, b"<html><body>Welcome</body></html>\n", HTML, version=request.version)


def vmware(name: bytes, version: bytes | None, os: bytes, line: bytes) -> bytes:
    return SERVICE_CONTENT % {
        b"name": name, b"version": version or b"", b"os": os, b"line": line,
        b"version_element": b"<version>%s</version>" % version if version else b""}


INDEX = (200, b"<html><head><title>Tracer SC</title></head><body></body></html>\n", HTML)
TRANE = {"GET /": INDEX, "GET /evox/about": (200, ABOUT, XML),
         "GET /evox/equipment/installedSummary": (200, EQUIPMENT, XML)}
TRANE_FAILING = {**TRANE, "GET /evox/equipment/installedSummary": (500, b"failure\n", HTML)}
NOT_OBIX = {"GET /evox/about": (200, b"<html><body>about this site</body></html>\n", HTML)}
ESXI = {"POST /sdk": (200, vmware(b"VMware ESXi", b"6.7.0", b"vmnix-x86", b"embeddedEsx"), XML)}
VCENTER = {"POST /sdk": (200, vmware(b"VMware vCenter Server", None, b"linux-x64", b"vpx"), XML),
           "GET /": (200, b"<html><body>vSphere</body></html>\n", HTML)}
HNAP_DEVICE = {"GET /": (200, b"<html><body>Linksys</body></html>\n", HTML),
               "GET /HNAP1": (200, HNAP, XML)}

SERVERS = (
    tcp(80, serve(pages(TRANE))),
    tcp(8088, serve(pages(TRANE_FAILING))),
    tcp(8180, serve(pages(NOT_OBIX))),
    tcp(8000, serve(same_page)),
    tcp(8080, serve(pages(ESXI))),
    tcp(7080, serve(pages(VCENTER, (("Server", "Apache/2.4.57 (Debian)"),)))),
    tcp(631, serve(pages(HNAP_DEVICE))),
)
