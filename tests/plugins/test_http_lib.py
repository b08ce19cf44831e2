"""The version plugins' HTTP client (``plugins/lib/http.py``) and the Lua behaviour it and the
plugins rest on (``url``, ``luajson``, ``nse``), against scripted servers: requests as
``http.lua`` builds them (the bytes Nmap 7.93 was seen sending to an emulation with
``--script version``), responses read as ``next_response`` reads them, redirects followed by
its rules, ``identify_404``; hostile replies end in an error response, never an exception."""

from __future__ import annotations

import gzip

import pytest

from sigscan.plugins.lib import http, luajson, url
from sigscan.plugins.lib.nse import NULL, printable, tonumber, tostring
from sigscan.plugins.lib.output import format_table
from tests.plugins.drive import NOW, Server, drive, view

AGENT = b"User-Agent: Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)\r\n"


def fixed(reply: bytes) -> Server:
    return Server(lambda sent: reply)


def get(reply: bytes, path: str = "/", *, chunk: int = 1 << 20, **where: object) -> http.Response:
    run = drive(http.get(view(**where), path), fixed(reply), chunk=chunk)  # type: ignore[arg-type]
    assert isinstance(run.result, http.Response)
    return run.result


# --------------------------------------------------------------------------- requests


def test_a_get_is_built_as_nmap_builds_it() -> None:
    run = drive(http.get(view(8080), "/version"), fixed(b"HTTP/1.1 404 Not Found\r\n\r\n"))
    assert run.requests == [b"GET /version HTTP/1.1\r\nConnection: close\r\nHost: 192.0.2.7:8080\r\n"
                            + AGENT + b"\r\n"]


@pytest.mark.parametrize(("port", "tunnel", "hostname", "host"), [
    (80, None, None, "192.0.2.7"),            # the default port of plain HTTP
    (443, None, None, "192.0.2.7"),           # a likely TLS port: https's default
    (80, "ssl", None, "192.0.2.7:80"),        # TLS on http's port: neither default
    (8080, None, "web.example", "web.example:8080"),
])
def test_the_host_header_names_the_port_unless_it_is_the_schemes_default(
        port: int, tunnel: str | None, hostname: str | None, host: str) -> None:
    assert http.host_field(view(port, tunnel=tunnel, hostname=hostname), port, None) == host


def test_a_post_carries_its_length_and_the_callers_headers_replace_defaults() -> None:
    request = http.build_request(view(8899), "POST", "/", content=b"<x/>",
                                 header={"Content-Type": "text/xml", "User-Agent": "MSIE"})
    assert request == (b"POST / HTTP/1.1\r\nConnection: close\r\nHost: 192.0.2.7:8899\r\n"
                       b"User-Agent: MSIE\r\nContent-Length: 4\r\nContent-Type: text/xml\r\n\r\n<x/>")


def test_tls_is_tried_first_on_a_likely_tls_port_then_plain() -> None:
    run = drive(http.get(view(443, conf=3), "/"), Server(lambda s: b"HTTP/1.1 200 OK\r\n\r\nx", tls=False))
    assert isinstance(run.result, http.Response)
    assert (run.result.status, run.result.ssl) == (200, False)
    both = drive(http.get(view(80), "/"), Server(lambda s: b"HTTP/1.1 200 OK\r\n\r\nx", plain=False, tls=True))
    assert isinstance(both.result, http.Response) and both.result.ssl is True
    assert [c.tls for c in both.connections] == [True]


def test_no_connection_at_all_is_an_error_response() -> None:
    run = drive(http.get(view(), "/"), Server(lambda s: b"", plain=False))
    assert isinstance(run.result, http.Response)
    assert (run.result.status, run.result.status_line, run.result.body) == (None, "Error creating socket.", None)


# --------------------------------------------------------------------------- responses


def test_headers_are_lowercased_folded_and_repeated_fields_joined() -> None:
    reply = get(b"HTTP/1.1 200 OK\r\nX-Thing: one\r\n  two\r\nX-Thing: three\r\nBad Header\r\n"
                b"Content-Length: 2\r\n\r\nokEXTRA", chunk=5)
    assert reply.header == {"x-thing": "one two, three", "content-length": "2"}
    assert (reply.status, reply.version, reply.body) == (200, "1.1", b"ok")


def test_a_chunked_body_is_dechunked_across_split_reads() -> None:
    reply = get(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n5;ext=1\r\npedia\r\n"
                b"0\r\n\r\n", chunk=3)
    assert reply.body == b"Wikipedia"


def test_trailers_after_the_last_chunk_are_an_error_as_in_nmap() -> None:
    reply = get(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nX-T: 1\r\n\r\n")
    assert reply.status is None and "Didn't find CRLF after chunk-data" in reply.status_line


def test_informational_responses_are_skipped_and_gzip_is_undone() -> None:
    body = gzip.compress(b"hello")
    reply = get(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n"
                b"Content-Length: %d\r\n\r\n" % len(body) + body)
    assert (reply.status, reply.body, reply.header.get("content-length")) == (200, b"hello", "5")
    assert "content-encoding" not in reply.header


def test_a_body_without_length_runs_to_the_close_and_head_like_statuses_have_none() -> None:
    assert get(b"HTTP/1.0 200 OK\r\n\r\nall of it").body == b"all of it"
    assert get(b"HTTP/1.1 204 No Content\r\n\r\nstray").body == b""


@pytest.mark.parametrize("reply", [
    b"SSH-2.0-OpenSSH_9.2\r\n",                                   # no status line
    b"HTTP/1.1 200OK\r\n\r\n",                                    # the status ends at a space
    b"HTTP/1.1 200 OK\r\nContent-Length: twelve\r\n\r\nbody",     # a length that is no number
    b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nshort",        # a body cut short
    b"HTTP/1.1 200 OK\r\nContent-Length: 3000000\r\n\r\n",        # past the 2 MiB bound
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",  # no chunk size
    b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n\r\nnot gzip",  # a corrupt encoding
    b"HTTP/1.1 200 OK\r\nX: y",                                   # the header never ends
    b"",                                                          # nothing
])
def test_a_reply_nmap_cannot_read_is_an_error_response(reply: bytes) -> None:
    response = get(reply)
    assert response.status is None and response.body is None and "Error" in response.status_line


# --------------------------------------------------------------------------- redirects


def routes(pages: dict[bytes, bytes]) -> Server:
    def answer(sent: bytes) -> bytes:
        path = sent.split(b" ")[1] if b" " in sent else b""
        return pages.get(path, b"HTTP/1.1 404 Not Found\r\n\r\n")
    return Server(answer)


def moved(location: bytes, status: int = 302) -> bytes:
    return b"HTTP/1.1 %d Found\r\nLocation: %s\r\n\r\n" % (status, location)


def test_a_relative_redirect_is_followed_on_the_same_port() -> None:
    server = routes({b"/dir/a": moved(b"b?x=1"), b"/dir/b?x=1": b"HTTP/1.1 200 OK\r\n\r\nthere"})
    run = drive(http.get(view(8080), "/dir/a"), server)
    assert isinstance(run.result, http.Response)
    assert (run.result.status, run.result.body, run.result.location) == (200, b"there", ("b?x=1",))
    assert run.requests[1].startswith(b"GET /dir/b?x=1 HTTP/1.1\r\nConnection: close\r\nHost: 192.0.2.7:8080\r\n")


@pytest.mark.parametrize("location", [
    b"http://192.0.2.7:8080/",          # the target's own root
    b"http://192.0.2.99:8080/x",        # another host
    b"http://192.0.2.7:9090/x",         # another port
    b"http://user@192.0.2.7:8080/x",    # credentials
])
def test_redirects_nmap_will_not_follow_end_the_get(location: bytes) -> None:
    run = drive(http.get(view(8080), "/a"), routes({b"/a": moved(location)}))
    assert isinstance(run.result, http.Response)
    assert run.result.status == 302 and run.result.location == (location.decode(),)
    assert len(run.requests) == 1


def test_at_most_five_redirects_are_followed() -> None:
    pages = {b"/%d" % i: moved(b"/%d" % (i + 1), 301) for i in range(10)}
    run = drive(http.get(view(), "/0"), routes(pages))
    assert len(run.requests) == 6
    assert isinstance(run.result, http.Response) and run.result.location[-1] == "/6"


# --------------------------------------------------------------------------- identify_404


@pytest.mark.parametrize(("pages", "ok", "status"), [
    ({}, True, 404),
    ({b"*": b"HTTP/1.1 200 OK\r\n\r\nSame page at 10:42:17"}, True, 200),
    ({b"*": b"HTTP/1.1 403 Forbidden\r\n\r\n"}, True, 403),
])
def test_identify_404_tells_how_missing_pages_are_answered(pages: dict[bytes, bytes], ok: bool,
                                                           status: int) -> None:
    server = Server(lambda sent: pages.get(b"*", b"HTTP/1.1 404 Not Found\r\n\r\n"))
    run = drive(http.identify_404(view()), server)
    assert run.result == http.NotFound(ok, status)
    assert run.requests[0].startswith(b"GET /nmaplowercheck%d HTTP/1.1\r\n" % int(NOW))


def test_identify_404_is_unsure_when_missing_pages_differ() -> None:
    count = iter(range(100))
    run = drive(http.identify_404(view()), Server(lambda s: b"HTTP/1.1 200 OK\r\n\r\npage %d" % next(count)))
    assert isinstance(run.result, http.NotFound) and not run.result.ok and not run.result.all_200
    assert [r.split(b" ")[1] for r in run.requests] == [
        b"/nmaplowercheck%d" % NOW, b"/NmapUpperCheck%d" % NOW, b"/Nmap/folder/check%d" % NOW]


# --------------------------------------------------------------------------- url.lua


def test_url_parse_splits_as_url_lua_does() -> None:
    parts = url.parse("HTTPS://User:pw@Web.Example:8443/a%7Eb/c;p?q=1#frag")
    assert (parts.scheme, parts.userinfo, parts.host, parts.port, parts.path, parts.params,
            parts.query, parts.fragment) == ("https", "User:pw", "Web.Example", 8443, "/a~b/c", "p",
                                             "q=1", "frag")
    assert parts.ascii_host == "web.example"
    assert url.parse("https://:8180/").host is None
    assert url.to_ascii("not-valid") is None and url.to_ascii("ab-c") is None


@pytest.mark.parametrize(("base", "relative", "result"), [
    ("/a/b", "c", "/a/c"), ("/a/b", "../c", "/c"), ("/a/b/", "./c d", "/a/b/c%20d"),
    ("/a/b", "/x/../y", "/y"), ("/a", "", "/"), ("/a/b", "%%2", "/a/%252"),
])
def test_url_absolute_resolves_as_url_lua_does(base: str, relative: str, result: str) -> None:
    assert url.absolute(base, relative) == result


def test_a_percent_sign_lua_cannot_substitute_is_an_error() -> None:
    with pytest.raises(ValueError):
        url.absolute("/a/b", "x%2")


# --------------------------------------------------------------------------- json.lua, Lua numbers


@pytest.mark.parametrize(("text", "value"), [
    ('{"a": 1 , "b": [1, "x"]}', {"a": 1, "b": [1, "x"]}),
    ("[1 , 2]", [1, 2]),
    ("0x1F", 31), (".5", 0.5), ("5.", 5.0), ("1e2", 100.0), ("-3", -3),
    ('"a\\u00e9\\/\\q"', "a\xc3\xa9/q"),
    ('"\\ud83d\\ude00"', "\xf0\x9f\x98\x80"),
    ('"raw\ttab"', "raw\ttab"),
    ("null", NULL), ("[true, false]", [True, False]),
])
def test_json_lua_parses(text: str, value: object) -> None:
    assert luajson.parse(text) == value


@pytest.mark.parametrize("text", [
    "[1, 2 ,3]", "- 5", "truex", '"\\udc00"', '"\\ud800x"', '{"a" 1}', "[1,]", '"open', "",
    "[" * 300 + "]" * 300,
])
def test_json_lua_refuses(text: str) -> None:
    with pytest.raises(luajson.JsonError):
        luajson.parse(text)


@pytest.mark.parametrize(("text", "number"), [
    ("12", 12), (" 0x10 ", 16), ("1e2", 100.0), ("9223372036854775808", 9.223372036854776e18),
    ("0xFFFFFFFFFFFFFFFF", -1), ("0x1p4", 16.0), ("inf", None), ("nan", None), ("12abc", None),
])
def test_lua_tonumber(text: str, number: int | float | None) -> None:
    assert tonumber(text) == number and type(tonumber(text)) is type(number)


@pytest.mark.parametrize(("number", "text"), [
    (1.0, "1.0"), (1e15, "1e+15"), (0.1, "0.1"), (1 / 3, "0.33333333333333"), (-7, "-7"),
    (float("inf"), "inf"), (True, "true"),
])
def test_lua_tostring(number: int | float, text: str) -> None:
    assert tostring(number) == text


def test_structured_output_is_nmaps() -> None:
    value = luajson.parse('{"b": {"c": [1, null, 2.5]}, "a": "x\\u0001\\u00e9\\r"}')
    # bytes stay bytes (one character each); the writers escape them as Nmap does
    assert format_table(printable(value)) == "\n  b: \n    c: \n      1\n      \n      2.5\n  a: x\x01\xc3\xa9\r"
