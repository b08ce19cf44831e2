"""HTTP APIs on their own ports, for the scripts that ask them their version:

- 2375: the Docker Engine API (docs.docker.com/engine/api: ``GET /version`` answers a JSON
  object with ``Version``, ``ApiVersion``, ``GitCommit`` … and, since API 1.35, ``Platform``
  and ``Components``; any unknown path ``404 {"message":"page not found"}``);
- 2376: the same API answering with JSON that stretches ``json.lua`` (a number for
  ``Version``, ``null``, booleans, an empty object, a nested array, an exponent);
- 8081: a McAfee ePolicy Orchestrator agent (Agent-ListenServer-HttpSvr: its log page, an
  ``<?xml …?><naLog>`` document);
- 8082: an ePO agent that refuses browsers without MSIE's user agent (``403``, as Nmap's
  probes see it) and whose log names no version or computer;
- 8899: an Oracle VM Server agent 3.0 (Python 2.5's BaseHTTPServer with SimpleXMLRPCServer:
  ``GET`` is ``501 Unsupported method``, an XML-RPC call without credentials ``403
  Unauthorized HTTP Access Attempt from (ADDRESS, PORT)!``, in BaseHTTPServer's error page).
"""

from __future__ import annotations

import json
from collections.abc import Callable

from tests.plugins.emulators.base import tcp
from tests.plugins.httpkit import BAD_REQUEST, Request, response, serve

PLUGINS = ("docker-version", "mcafee-epo-agent", "ovs-agent-version")
SILENT = ("mcafee-epo-agent", "ovs-agent-version")
UNORDERED = ("docker-version",)  # Nmap prints a JSON object's keys in Lua's hash order
EFFECTS = {
    ("tcp", 2375): {"name": "docker", "product": "Docker", "version": "20.10.24"},
    ("tcp", 2376): {"name": "docker", "product": "Docker", "version": "1.5"},
    ("tcp", 8081): {"name": "http", "product": "McAfee ePolicy Orchestrator Agent",
                    "version": "4.8.0.1938", "hostname": "FINANCE-PC7",
                    "extrainfo": "ePOServerName: EPOSRV01, AgentGuid: 7F0D2E6A-1C55-4C3B-9B67-0A1B2C3D4E5F"},
    ("tcp", 8082): {"product": "McAfee ePolicy Orchestrator Agent", "hostname": "",
                    "extrainfo": "ePOServerName: EPOSRV02, AgentGuid: "},
    ("tcp", 8899): {"name": "ovs-agent", "product": "Oracle Virtual Server Agent", "version": "3.0",
                    "extrainfo": "BaseHTTP 0.3; Python SimpleXMLRPCServer; Python 2.5.2"},
}
DATE = ("Date", "Tue, 14 May 2024 15:21:07 GMT")
JSON = ("Content-Type", "application/json")
NOT_FOUND = b'{"message":"page not found"}\n'

VERSION = {
    "Platform": {"Name": "Docker Engine - Community"},
    "Components": [{"Name": "Engine", "Version": "20.10.24",
                    "Details": {"ApiVersion": "1.41", "Os": "linux", "Arch": "amd64"}}],
    "Version": "20.10.24", "ApiVersion": "1.41", "MinAPIVersion": "1.12", "GitCommit": "5d6db84",
    "GoVersion": "go1.19.7", "Os": "linux", "Arch": "amd64", "KernelVersion": "6.1.0-21-amd64",
    "BuildTime": "2023-04-04T10:49:59.000000000+00:00",
}
ODD_VERSION = (b'{"Version": 1.5, "GitCommit": "abc1234", "Os": null, "Experimental": true,\n'
               b' "Legacy": false, "Limits": {}, "Big": 1e20, "Hex": 0x1F,\n'
               b' "Nested": {"List": [1, "two", false, null, 2.25], "Escaped": "a\\u00e9\\/b"}}')


def docker(version_body: bytes) -> Callable[[Request | None], bytes]:
    def route(request: Request | None) -> bytes:
        if request is None:
            return response(400, b"400 Bad Request", (("Content-Type", "text/plain"),))
        if request.method == "GET" and request.path in ("/version", "/v1.41/version"):
            return response(200, version_body, (JSON, DATE), version=request.version)
        return response(404, NOT_FOUND, (JSON, DATE), version=request.version)
    return route


NALOG = b"""<?xml version="1.0" encoding="UTF-8"?><?xml-stylesheet type="text/xsl" href="FrameworkLog.xsl"?>
<naLog>%(computer)s%(version)s<ePOServerName>%(server)s</ePOServerName>
<AgentGUID>%(guid)s</AgentGUID><Log><Component>Agent</Component><Message>Agent started</Message></Log>
</naLog>
"""
EPO_SERVER = (("Server", "Agent-ListenServer-HttpSvr/1.0"),)


def epo_agent(log: bytes, msie_only: bool) -> Callable[[Request | None], bytes]:
    def route(request: Request | None) -> bytes:
        if request is None:
            return BAD_REQUEST
        if msie_only and "MSIE" not in (request.header("User-Agent") or ""):
            return response(403, b"", EPO_SERVER, version="HTTP/1.0")
        if request.method != "GET":
            return response(403, b"", EPO_SERVER, version="HTTP/1.0")
        return response(200, log, (*EPO_SERVER, ("Content-Type", "text/xml")), version="HTTP/1.0")
    return route


def python_error(code: int, message: str) -> bytes:
    """BaseHTTPServer's ``send_error`` (Python 2.5): the message as the reason phrase and in
    its error page, no length (the close ends it)."""
    explain = {403: "Request forbidden -- authorization will not help",
               501: "Server does not support this operation"}[code]
    page = (f"<head>\n<title>Error response</title>\n</head>\n<body>\n<h1>Error response</h1>\n"
            f"<p>Error code {code}.\n<p>Message: {message}.\n"
            f"<p>Error code explanation: {code} = {explain}.\n</body>\n")
    head = (f"HTTP/1.0 {code} {message}\r\nServer: BaseHTTP/0.3 Python/2.5.2\r\n"
            f"Date: Tue, 14 May 2024 15:21:07 GMT\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n")
    return (head + page).encode("latin-1")


def ovs_agent(request: Request | None) -> bytes:
    if request is None:
        return python_error(501, "Unsupported method ('')")
    if request.method == "POST":
        address, port = request.remote
        return python_error(403, f"Unauthorized HTTP Access Attempt from ('{address}', {port})!")
    return python_error(501, f"Unsupported method ('{request.method}')")


SERVERS = (
    tcp(2375, serve(docker(json.dumps(VERSION).encode()))),
    tcp(2376, serve(docker(ODD_VERSION))),
    tcp(8081, serve(epo_agent(NALOG % {
        b"computer": b"<ComputerName>FINANCE-PC7</ComputerName>", b"version": b"<version>4.8.0.1938</version>",
        b"server": b"EPOSRV01", b"guid": b"7F0D2E6A-1C55-4C3B-9B67-0A1B2C3D4E5F"}, msie_only=False))),
    tcp(8082, serve(epo_agent(NALOG % {b"computer": b"", b"version": b"", b"server": b"EPOSRV02",
                                       b"guid": b""}, msie_only=True))),
    tcp(8899, serve(ovs_agent)),
)
