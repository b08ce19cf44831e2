"""The HTTP family of version plugins against scripted servers: the cases the emulations do not
cover (other versions, other branches of each script, hostile replies), the requests each
sends, and what each leaves alone. What Nmap does in each case is read from the script; the
emulation tests (test_emulations.py) compare the common cases with Nmap itself."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from sigscan.engine.plugin import Outcome, ProbeState
from sigscan.plugins import load
from sigscan.plugins.https_redirect import to_itself
from sigscan.plugins.lib.fingerprint import FingerprintError
from sigscan.plugins.lib.http import budget
from tests.plugins.drive import NOW, Server, drive, outcome, view

NOT_FOUND = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"


def pages(found: dict[str, bytes], missing: bytes = NOT_FOUND) -> Server:
    """A server of ``"METHOD /path"`` → reply; ``missing`` for the rest."""
    def answer(sent: bytes) -> bytes:
        method, _, rest = sent.partition(b" ")
        key = f"{method.decode()} {rest.split(b' ', 1)[0].decode()}"
        return found.get(key, missing)
    return Server(answer)


def ok(body: bytes, headers: bytes = b"") -> bytes:
    return b"HTTP/1.1 200 OK\r\n" + headers + b"Content-Length: %d\r\n\r\n" % len(body) + body


def run(plugin_name: str, server: Server, /, **where: object) -> tuple[Outcome | None, list[bytes]]:
    plugin = load(plugin_name)
    done = drive(plugin.run(view(**where)), server)  # type: ignore[arg-type]
    return outcome(done), done.requests


def paths(requests: list[bytes]) -> list[str]:
    return [r.split(b" ")[1].decode() for r in requests]


# --------------------------------------------------------------------------- hnap-info


def test_hnap_info_asks_for_hnap1_and_reports_nothing_as_nmap_7_93() -> None:
    hnap = ok(b"<soap:Envelope><soap:Body><GetDeviceSettingsResponse><Type>Gateway</Type>"
              b"<VendorName>Linksys</VendorName><ModelName>E1200</ModelName>"
              b"</GetDeviceSettingsResponse></soap:Body></soap:Envelope>")
    result, requests = run("hnap-info", pages({"GET /HNAP1": hnap}))
    assert result is None
    assert paths(requests) == [f"/nmaplowercheck{int(NOW)}", "/HNAP1"]


def test_hnap_info_stops_where_every_page_is_200() -> None:
    result, requests = run("hnap-info", pages({}, missing=ok(b"same")))
    assert result is None and "/HNAP1" not in paths(requests) and len(requests) == 3


# --------------------------------------------------------------------------- http-trane-info


def obix(fields: dict[str, str]) -> bytes:
    return b"".join(b'<str name="%s" val="%s" />\n' % (k.encode(), v.encode()) for k, v in fields.items())


ABOUT = {"serverName": "sc1", "serverTime": "t1", "serverBootTime": "t0", "vendorName": "Trane",
         "productName": "Tracer SC", "productVersion": "v4.40", "kernelVersion": "2.6",
         "hardwareType": "HwVer12AB", "hardwareSerialNumber": "E1"}


def trane(summary: bytes, about: dict[str, str] = ABOUT) -> Server:
    return pages({"GET /evox/about": ok(obix(about)), "GET /evox/equipment/installedSummary": summary})


def test_trane_reads_devices_from_where_the_previous_equipment_uri_ended() -> None:
    summary = ok(obix({"equipmentUri": "/e/1", "displayName": "first"})
                 + obix({"equipmentUri": "/e/2"}) + obix({"equipmentUri": "/e/3", "displayName": "third"}))
    result, requests = run("http-trane-info", trane(summary), cpe=("cpe:/a:x:y",))
    assert result is not None and result.output is not None and result.version is not None
    devices = result.output.split("  devices: \n")[1]
    # each device's fields are searched from the end of the previous equipmentUri: the
    # second device (which has no name) finds the first's, which follows the first's uri
    assert [line.strip() for line in devices.splitlines() if "displayName" in line] == [
        "displayName: first", "displayName: first", "displayName: third"]
    assert result.output.startswith("\n  serverName: sc1 \n  serverTime: t1 \n")
    version = result.version
    assert (version.name, version.product, version.version, version.devicetype, version.cpe) == (
        "http", "Tracer SC ", "v4.40 ", "HwVer12AB ", ("cpe:/a:x:y", "cpe:/h:Trane :Tracer SC "))
    assert result.probestate is ProbeState.HARDMATCHED
    assert paths(requests)[1:] == ["/evox/about", "/evox/equipment/installedSummary"]


def test_trane_skips_the_devices_on_error_code_17_and_names_missing_fields() -> None:
    result, _ = run("http-trane-info", trane(ok(b"Error code: 00017")))
    assert result is not None and result.output is not None and "devices" not in result.output
    partial = obix({"equipmentUri": "/e/1"})
    result, _ = run("http-trane-info", trane(ok(partial)))
    assert result is not None and result.output is not None
    assert "      displayName: Not available" in result.output


@pytest.mark.parametrize(("server", "printed"), [
    (pages({"GET /evox/about": ok(b"<html>no obix</html>")}), "Problem with XML parsing of /evox/about"),
    (trane(b"HTTP/1.1 500 Internal Server Error\r\n\r\n"), "Request returned a network error."),
    (trane(b"garbage"), "Request returned a network error."),  # an unreadable reply is an http error
])
def test_trane_prints_the_scripts_messages(server: Server, printed: str) -> None:
    result, _ = run("http-trane-info", server)
    assert result == Outcome(output=printed)


def test_trane_ends_with_an_error_where_the_script_does() -> None:
    missing_field = {k: v for k, v in ABOUT.items() if k != "kernelVersion"}
    with pytest.raises(TypeError):
        run("http-trane-info", trane(ok(b""), about=missing_field))
    with pytest.raises(TypeError):  # a 200 equipment page with no equipmentUri at all
        run("http-trane-info", trane(ok(b"<list/>")))


# --------------------------------------------------------------------------- vmware-version


def sdk(about: bytes) -> Server:
    return pages({"POST /sdk": ok(b"<RetrieveServiceContentResponse><returnval><about>" + about
                                  + b"</about></returnval></RetrieveServiceContentResponse>")})


def test_vmware_keeps_a_product_the_probes_found_and_adds_its_cpe() -> None:
    result, requests = run("vmware-version", sdk(b"<name>VMware ESX</name><version>4.1.0</version>"
                                                 b"<build>348481</build><osType>vmnix-x86</osType>"),
                           product="Apache httpd")
    assert result is not None and result.version is not None
    assert (result.version.product, result.version.version, result.version.cpe) == (
        "Apache httpd", None, ("cpe:/o:vmware:ESX:4.1.0",))
    assert result.output == ("\n  Server version: VMware ESX 4.1.0\n  Build: 348481\n"
                             "  Locale version: nil nil\n  OS type: vmnix-x86")
    assert requests[0].startswith(b"POST /sdk HTTP/1.1\r\n") and b"Content-Length: 441\r\n" in requests[0]


@pytest.mark.parametrize("server", [
    pages({"POST /sdk": b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n"}),
    sdk(b"<version>1</version>"),  # no name
    pages({}),
])
def test_vmware_leaves_other_servers_alone(server: Server) -> None:
    assert run("vmware-version", server)[0] is None


def test_vmware_rule_skips_excluded_ports_and_low_intensity() -> None:
    rule = load("vmware-version").rule
    assert rule(view(80)) and not rule(view(80, excluded=True)) and not rule(view(80, intensity=6))


# --------------------------------------------------------------------------- docker-version


def docker(body: bytes) -> Server:
    return pages({"GET /version": ok(body)})


def test_docker_prints_the_object_and_sets_the_version() -> None:
    body = json.dumps({"Version": "24.0.7", "GitCommit": "311b9ff", "Os": "linux"}).encode()
    result, requests = run("docker-version", docker(body), port=2375, name="docker")
    assert result is not None and result.version is not None
    assert result.output == "\n  Version: 24.0.7\n  GitCommit: 311b9ff\n  Os: linux"
    assert (result.version.name, result.version.product, result.version.version) == ("docker", "Docker", "24.0.7")
    assert paths(requests) == ["/version"]


@pytest.mark.parametrize("body", [
    b'{"Version": "1"}',                 # no GitCommit
    b'{"Version": false, "GitCommit": "x"}',
    b"not json", b"[1, 2]", b'"Version"', b"null",
])
def test_docker_needs_an_object_with_version_and_git_commit(body: bytes) -> None:
    assert run("docker-version", docker(body), port=2375)[0] is None


def test_docker_a_null_version_counts_but_sets_none_and_a_number_document_is_an_error() -> None:
    result, _ = run("docker-version", docker(b'{"Version": null, "GitCommit": "x"}'), port=2375)
    assert result is not None and result.version is not None and result.version.version is None
    with pytest.raises(TypeError):
        run("docker-version", docker(b"42"), port=2375)


def test_docker_rule_takes_its_ports_or_names() -> None:
    rule = load("docker-version").rule
    assert rule(view(2376, name=None, conf=3)) and rule(view(4243, name="docker"))
    assert not rule(view(4243, name="http")) and not rule(view(2375, intensity=6))


# --------------------------------------------------------------------------- mcafee-epo-agent


NALOG = (b'<?xml version="1.0"?>\n<naLog><ComputerName>PC1</ComputerName><version>4.5.0.1852</version>'
         b"<ePOServerName>EPO</ePOServerName><AgentGUID>G-1</AgentGUID></naLog>")


def test_mcafee_asks_as_msie_and_sets_the_agent() -> None:
    result, requests = run("mcafee-epo-agent", pages({"GET /": ok(NALOG)}), port=8081, name="http")
    assert result is not None and result.version is not None
    assert (result.version.product, result.version.version, result.version.hostname,
            result.version.extrainfo) == ("McAfee ePolicy Orchestrator Agent", "4.5.0.1852", "PC1",
                                          "ePOServerName: EPO, AgentGuid: G-1")
    assert result.output is None
    assert b"\r\nUser-Agent: Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.0; mcafee-epo-agent)\r\n" in requests[0]


def test_mcafee_leaves_other_pages_alone() -> None:
    assert run("mcafee-epo-agent", pages({"GET /": ok(b"<naLog>no xml prolog</naLog>")}), port=8081)[0] is None


@pytest.mark.parametrize(("where", "runs"), [
    ({"port": 8081, "product": None}, True),
    ({"port": 80, "product": "Network Associates ePolicy Orchestrator"}, True),
    ({"port": 80, "product": "McAfee ePO Agent"}, True),
    ({"port": 8081, "product": "Apache httpd"}, False),   # a product that is no agent: not even on 8081
    ({"port": 8081, "product": None, "intensity": 6}, False),
])
def test_mcafee_rule(where: dict[str, object], runs: bool) -> None:
    assert load("mcafee-epo-agent").rule(view(**where)) is runs  # type: ignore[arg-type]


# --------------------------------------------------------------------------- ovs-agent-version


BASEHTTP = b"Server: BaseHTTP/0.3 Python/2.4.4\r\n"


@pytest.mark.parametrize(("found", "version", "extrainfo"), [
    ({"GET /": ok(b"<title>Python: OVSAgentServer Document</title>", BASEHTTP)}, "2.2",
     "BaseHTTP 0.3; Python SimpleXMLRPCServer; Python 2.4.4"),
    ({"GET /": b"HTTP/1.0 501 No\r\n\r\n",
      "POST /": b"HTTP/1.0 403 No\r\n" + BASEHTTP + b"\r\nMessage: Unauthorized access attempt from "
                b"('10.0.0.1', 3322)!."}, "3.0.1", "BaseHTTP 0.3; Python SimpleXMLRPCServer; Python 2.4.4"),
    ({"GET /": b"HTTP/1.0 501 No\r\n\r\n",
      "POST /": b"HTTP/1.0 403 No\r\nServer: other\r\n\r\nMessage: Unauthorized HTTP Access Attempt "
                b"from ('10.0.0.1', 3322)!."}, "3.0", "kept"),
])
def test_ovs_agent_versions(found: dict[str, bytes], version: str, extrainfo: str) -> None:
    result, _ = run("ovs-agent-version", pages(found), port=8899, product="BaseHTTPServer", extrainfo="kept")
    assert result is not None and result.version is not None
    assert (result.version.name, result.version.product, result.version.version,
            result.version.extrainfo) == ("ovs-agent", "Oracle Virtual Server Agent", version, extrainfo)


def test_ovs_agent_asks_no_further_unless_get_is_501() -> None:
    result, requests = run("ovs-agent-version", pages({"GET /": ok(b"hello")}), port=8899)
    assert result is None and len(requests) == 1


# --------------------------------------------------------------------------- https-redirect


def redirect(location: bytes) -> bytes:
    return b"HTTP/1.1 301 Moved\r\nLocation: " + location + b"\r\n\r\n"


@pytest.mark.parametrize(("port", "location", "hostname", "itself"), [
    (8443, b"https://192.0.2.7:8443/", None, True),
    (443, b"https://192.0.2.7/x", None, True),          # 443 when no port is named
    (8443, b"https://WEB.example:8443/", "web.example", True),
    (8443, b"https://:8443/", None, True),              # no host
    (8443, b"https://bad-name:8443/", None, True),      # refused by IDNA: nil, as the target's name
    (8443, b"https://bad-name:8443/", "web.example", False),
    (8443, b"https://192.0.2.8:8443/", None, False),
    (8443, b"http://192.0.2.7:8443/", None, False),
    (8443, b"https://192.0.2.7:9443/", None, False),
])
def test_what_redirects_to_itself(port: int, location: bytes, hostname: str | None, itself: bool) -> None:
    assert to_itself(view(port, hostname=hostname), redirect(location)) is itself


def test_https_redirect_reads_the_fingerprint_first() -> None:
    from sigscan.engine.fingerprint import service_fingerprint

    fp = service_fingerprint(8080, "tcp", [("GetRequest", redirect(b"https://192.0.2.7:8080/"))],
                             intensity=7, tls=False, unix_time=NOW)
    result, requests = run("https-redirect", Server(lambda s: b""), port=8080, conf=3, servicefp=fp)
    assert requests == []
    assert result is not None and result.version is not None
    assert (result.version.tunnel, result.version.servicefp, result.probestate) == ("ssl", fp, ProbeState.SOFTMATCHED)


def test_https_redirect_asks_itself_and_a_port_that_only_speaks_tls_is_tls() -> None:
    result, requests = run("https-redirect", Server(lambda s: redirect(b"https://192.0.2.7:80/")), port=80)
    assert result is not None and result.version is not None and result.version.tunnel == "ssl"
    assert requests == [b"GET / HTTP/1.0\r\n\r\n"]
    tls_only = Server(lambda s: b"HTTP/1.0 200 OK\r\n\r\n", plain=False, tls=True)
    result, _ = run("https-redirect", tls_only, port=80)
    assert result is not None and result.version is not None and result.version.tunnel == "ssl"
    assert run("https-redirect", Server(lambda s: b"HTTP/1.0 200 OK\r\n\r\n"), port=80)[0] is None


def test_https_redirect_rule_skips_tls_ports_and_a_bad_fingerprint_is_an_error() -> None:
    rule = load("https-redirect").rule
    assert rule(view(8080)) and not rule(view(8080, tunnel="ssl")) and not rule(view(22, name="ssh"))
    with pytest.raises(FingerprintError):
        run("https-redirect", Server(lambda s: b""), port=8080, servicefp='%r(GetRequest,3,"\\\\xz")')


# --------------------------------------------------------------------------- all of them


HOSTILE: list[Callable[[bytes], bytes]] = [
    lambda s: b"",
    lambda s: b"\x00" * 5000,
    lambda s: b"HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\n",
    lambda s: b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n",
    lambda s: b"HTTP/1.1 302 Found\r\nLocation: /%zz\r\n\r\n",
    lambda s: b"HTTP/1.1 200 OK\r\n\r\n" + b"<" * 10000,
]


@pytest.mark.parametrize("name", ["hnap-info", "http-trane-info", "vmware-version", "docker-version",
                                  "mcafee-epo-agent", "ovs-agent-version", "https-redirect"])
@pytest.mark.parametrize("answer", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_replies_end_quietly(name: str, answer: Callable[[bytes], bytes]) -> None:
    result, _ = run(name, Server(answer), port=8899 if name == "ovs-agent-version" else 8081)
    assert result is None or isinstance(result, Outcome)


def test_a_relative_location_lua_cannot_substitute_ends_the_script_as_in_nmap() -> None:
    with pytest.raises(ValueError):
        run("docker-version", Server(lambda s: b"HTTP/1.1 302 Found\r\nLocation: %zz\r\n\r\n"), port=2375)


def test_each_plugins_time_bound_covers_its_requests() -> None:
    for name, requests in (("hnap-info", 4), ("http-trane-info", 5), ("docker-version", 1),
                           ("vmware-version", 1), ("mcafee-epo-agent", 1), ("ovs-agent-version", 2)):
        assert load(name).timeout >= budget(requests)
