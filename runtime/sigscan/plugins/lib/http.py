"""Nmap's ``http`` library on the plugin step protocol: as much of it as the version plugins
rely on.

- Requests are built as ``http.lua`` builds them: ``METHOD PATH HTTP/1.1``, ``Connection:
  close``, ``Host`` (the target, with ``:PORT`` unless the port is its scheme's default),
  Nmap's ``User-Agent``, ``Content-Length`` for a body (and for every POST), then the caller's
  headers, which replace defaults of the same name.
- Each request goes over ``comm.tryssl`` (TLS first on a likely TLS port, then the other) or,
  once a redirect named a scheme, over that scheme alone; the connection stays open until the
  response is read.
- Responses are read as ``next_response`` reads them: the status line, header fields (names
  lower-cased, folded lines joined, repeated fields joined with ``", "``), a body framed by
  ``Transfer-Encoding`` (chunked), ``Content-Length`` or the end of the connection, bodies of
  ``HEAD``/1xx/204/304 empty, ``gzip`` content decoded, 1xx responses skipped, at most
  :data:`MAX_BODY` bytes. A failure gives a :class:`Response` whose ``status`` is None and whose
  ``status_line`` says why (``http_error``).
- ``get`` follows redirects (301, 302, 303, 307, 300) the way ``http.get`` does: at most five,
  to the same host and port only, never to ``/`` on the target itself.
- ``identify_404``: how the server answers for pages that do not exist.

What is left out: the cache (each plugin run asks again), pipelining, cookies, authentication,
and the TLS check ``shortport.ssl`` makes on unidentified ports 80 and 443 to choose the
``Host`` header (the port's likely-TLS status is used instead).
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Generator, Mapping
from dataclasses import dataclass, field, replace

from sigscan.engine.plugin import PortView, Reply, Step, clock, close, connect, receive, send
from sigscan.plugins import rules
from sigscan.plugins.lib import url
from sigscan.plugins.lib.comm import CONNECT_TIMEOUT, REQUEST_TIMEOUT, ssl_first
from sigscan.plugins.lib.nse import tonumber

USER_AGENT = "Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)"
MAX_REDIRECTS = 5  # http.lua's MAX_REDIRECT_COUNT
MAX_BODY = 2 * 1024 * 1024  # http.lua's MAX_BODY_SIZE
READ_TIMEOUT = REQUEST_TIMEOUT + CONNECT_TIMEOUT  # what comm sets on the socket once connected
REQUEST_BOUND = 2 * (8.0 + READ_TIMEOUT)  # seconds one request may take against a silent server
REDIRECT_STATUSES = frozenset({300, 301, 302, 303, 307})
TOO_LARGE = "response body too large"

_STATUS_LINE = re.compile(rb"HTTP/([0-9]+\.[0-9]+) +([0-9]+)(?=[ \r\n]) *(.*?)\r?\n\Z", re.DOTALL)
_TOKEN = re.compile(rb'[^()<>@,;:\\"/\[\]?={} \x00-\x1f\x7f]+')
_CHUNK_SIZE = re.compile(rb"[ \t]*([0-9A-Fa-f]+)")
_NEWLINE = re.compile(rb"\r?\n")
_FOLD = re.compile(rb"\r?\n[ \t]")


@dataclass(frozen=True, slots=True)
class Response:
    """An HTTP response as ``http.lua`` returns it. ``header`` has lower-cased names; ``body``
    is None after a failure, when ``status`` is None and ``status_line`` is the reason.
    ``location`` lists the ``Location`` headers of the redirects ``get`` met."""

    status: int | None
    status_line: str
    version: str | None = None
    header: Mapping[str, str] = field(default_factory=dict)
    rawheader: tuple[str, ...] = ()
    body: bytes | None = None
    ssl: bool = False
    location: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        """The body, one character per byte ("" when there is none)."""
        return (self.body or b"").decode("latin-1")


def budget(requests: int) -> float:
    """A plugin's time bound when it makes ``requests`` requests: each may meet a silent
    server over TLS and then over TCP, as Nmap's would."""
    return requests * REQUEST_BOUND


def error(message: str) -> Response:
    """``http_error``."""
    return Response(None, message)


class _Failed(Exception):
    """Reading a response failed (``next_response`` returned nil and this message)."""


# --------------------------------------------------------------------------- requests


def host_field(view: PortView, port: int, scheme: str | None, host: str | None = None) -> str:
    """``get_host_field``: the target, with ``:PORT`` unless ``port`` is the default of the
    request's scheme (or of the port's own, TLS or not). ``host`` replaces the target for a
    redirect, which also no longer knows the port's service."""
    name = host if host is not None else view.target
    if scheme is not None:
        if port == url.default_port(scheme):
            return name
    else:
        default = url.default_scheme(port)
        if default is not None:
            tls = host is None and rules.ssl(view)
            if (tls and default == "https") or (not tls and default == "http"):
                return name
    return f"{name}:{port}"


def build_request(view: PortView, method: str, path: str, *, header: Mapping[str, str] | None = None,
                  content: bytes | None = None, scheme: str | None = None,
                  host: str | None = None) -> bytes:
    """``build_request``."""
    fields: dict[str, str] = {"Connection": "close",
                              "Host": host_field(view, view.port, scheme, host),
                              "User-Agent": USER_AGENT}
    if content is None and method == "POST":
        content = b""
    if content is not None:
        fields["Content-Length"] = str(len(content))
    fields.update(header or {})
    lines = "".join(f"{name}: {value}\r\n" for name, value in fields.items())
    return f"{method} {path} HTTP/1.1\r\n{lines}\r\n".encode("latin-1") + (content or b"")


# --------------------------------------------------------------------------- reading


class _Reader:
    """One connection's unread bytes and the reads that add to them (``socket:receive``)."""

    def __init__(self, conn: int, data: bytes) -> None:
        self.conn, self.data = conn, data

    def more(self) -> Generator[Step, object, bool]:
        reply = yield from receive(self.conn, READ_TIMEOUT)
        self.data += reply.data
        return reply.ok

    def line(self) -> Generator[Step, object, bytes]:
        """``recv_line``: up to and including the next ``\\n``."""
        while b"\n" not in self.data:
            if not (yield from self.more()):
                raise _Failed("EOF")
        end = self.data.index(b"\n") + 1
        line, self.data = self.data[:end], self.data[end:]
        return line

    def exactly(self, size: int, limit: int | None) -> Generator[Step, object, bytes]:
        """``recv_length``: ``size`` bytes."""
        while len(self.data) < size:
            if limit is not None and len(self.data) > limit:
                raise _Failed(TOO_LARGE)
            if not (yield from self.more()):
                raise _Failed("EOF")
        if limit is not None and size > limit:
            raise _Failed(TOO_LARGE)
        part, self.data = self.data[:size], self.data[size:]
        return part

    def rest(self, limit: int | None) -> Generator[Step, object, bytes]:
        """``recv_all``: everything until the connection ends."""
        while True:
            if limit is not None and len(self.data) > limit:
                raise _Failed(TOO_LARGE)
            if not (yield from self.more()):
                part, self.data = self.data, b""
                return part

    def chunked(self, limit: int | None) -> Generator[Step, object, bytes]:
        """``recv_chunked``: the dechunked body."""
        chunks: list[bytes] = []
        while True:
            try:
                line = yield from self.line()
            except _Failed as failed:
                raise _Failed(f"Chunk size not received; {failed}") from None
            size = _CHUNK_SIZE.match(line)
            if size is None:
                raise _Failed(f"Chunked encoding didn't find hex; got {line[:11]!r}.")
            length = int(size.group(1), 16)
            room = None if limit is None else limit - sum(map(len, chunks))
            try:
                chunks.append((yield from self.exactly(length, room)))
            except _Failed as failed:
                raise _Failed(str(failed) if str(failed) == TOO_LARGE
                              else f"Incomplete chunk; {failed}") from None
            try:
                after = yield from self.line()
            except _Failed:
                after = b"\r\n"  # a server that ends without the CRLF: tolerated
            if not _NEWLINE.match(after):
                raise _Failed(f"Didn't find CRLF after chunk-data; got {after!r}.")
            if length == 0:
                return b"".join(chunks)


def _skip_lws(text: bytes, pos: int) -> int:
    while True:
        while pos < len(text) and text[pos] in b" \t":
            pos += 1
        folded = _FOLD.match(text, pos)
        if folded is None:
            return pos
        pos = folded.end()


def parse_header(block: bytes) -> dict[str, str]:
    """``parse_header``: the fields of a header block (each line ending in a new line)."""
    fields: dict[str, str] = {}
    pos = 0
    while pos < len(block):
        name = None
        token = _TOKEN.match(block, pos)
        if token is not None:
            if block[token.end():token.end() + 1] == b":":
                name = token.group().decode("latin-1").lower()
            pos = token.end() + 1
        pos = _skip_lws(block, pos)
        words = []
        while pos < len(block) and not _NEWLINE.match(block, pos):
            start = pos
            while pos < len(block) and block[pos] not in b" \t" and not _NEWLINE.match(block, pos):
                pos += 1
            words.append(block[start:pos])
            pos = _skip_lws(block, pos)
        if name is not None:
            value = b" ".join(words).decode("latin-1")
            fields[name] = f"{fields[name]}, {value}" if name in fields else value
        end = _NEWLINE.match(block, pos)
        if end is None:
            raise _Failed(f"Header field named {name!r} didn't end with CRLF")
        pos = end.end()
    return fields


def _connection_tokens(value: str | None) -> set[str]:
    """The tokens ``recv_body`` reads out of a ``Connection`` header (one separator each)."""
    found: set[str] = set()
    raw, pos = (value or "").encode("latin-1"), 0
    while (token := _TOKEN.match(raw, pos)) is not None:
        found.add(token.group().decode("latin-1").lower())
        pos = token.end() + 1
    return found


def _body(reader: _Reader, method: str, status: int, version: str,
          header: Mapping[str, str]) -> Generator[Step, object, bytes]:
    """``recv_body``: RFC 2616 section 4.4, as Nmap applies it."""
    tokens = _connection_tokens(header.get("connection"))
    if method.upper() == "HEAD" or 100 <= status <= 199 or status in (204, 304):
        if "close" in tokens or (version == "1.0" and "keep-alive" not in tokens):
            return (yield from reader.rest(MAX_BODY))
        return b""
    for name in ("transfer-encoding", "transfer-coding"):
        if header.get(name) is not None and header[name] != "identity":
            return (yield from reader.chunked(MAX_BODY))
    if "content-length" in header and "transfer-encoding" not in header:
        length = tonumber(header["content-length"])
        if length is None:
            raise _Failed(f"Content-Length {header['content-length']!r} is non-numeric")
        if length != int(length) or length < 0:
            raise _Failed(f"Content-Length {header['content-length']!r} cannot be read")
        return (yield from reader.exactly(int(length), MAX_BODY))
    return (yield from reader.rest(MAX_BODY))


def _decode(body: bytes, encodings: str) -> tuple[bytes, list[str]]:
    """``decode_body``: the body with its encodings undone from the first; the ones left."""
    left = re.split(r"[^A-Za-z0-9]+", encodings)
    while left:
        name = left[0].lower()
        if name == "identity":
            left.pop(0)
        elif name == "gzip":
            try:
                inflater = zlib.decompressobj(47)
                body = inflater.decompress(body, MAX_BODY + 1)
            except zlib.error:
                raise _Failed("Corrupted Content-Encoding: gzip") from None
            if len(body) > MAX_BODY:
                raise _Failed(f"Decoded {TOO_LARGE}")
            left.pop(0)
        else:
            break
    return body, left


def next_response(reader: _Reader, method: str) -> Generator[Step, object, Response]:
    """``next_response``: one response off the connection (:class:`_Failed` when it cannot
    be read)."""
    status_line = yield from reader.line()
    parsed = _STATUS_LINE.match(status_line)
    if parsed is None:
        raise _Failed(f"Error parsing status-line {status_line.decode('latin-1')!r}.")
    version, status = parsed.group(1).decode(), int(parsed.group(2))
    lines = []
    while (line := (yield from reader.line())) not in (b"\r\n", b"\n"):
        lines.append(line)
    block = b"".join(lines)
    header = parse_header(block)
    rawheader = tuple(re.split(r"\r?\n", block.decode("latin-1")))
    body = yield from _body(reader, method, status, version, header)
    if "content-encoding" in header:
        body, left = _decode(body, header["content-encoding"])
        if "content-length" in header:
            header["content-length"] = str(len(body))
        del header["content-encoding"]
        if left:
            header["content-encoding"] = ", ".join(left)
    return Response(status, status_line.decode("latin-1"), version, header, rawheader, body)


# --------------------------------------------------------------------------- exchanges


def _open(tls: bool, data: bytes) -> Generator[Step, object, _Reader | None]:
    """``comm.opencon``: connect, send, read once; the connection stays open."""
    opened = yield from connect(tls)
    if opened.conn is None:
        return None
    yield from send(opened.conn, data)
    reply: Reply = yield from receive(opened.conn, READ_TIMEOUT)
    if not reply.ok:
        yield from close(opened.conn)
        return None
    return _Reader(opened.conn, reply.data)


def request(view: PortView, data: bytes, *, scheme: str | None = None,
            redirected: bool = False) -> Generator[Step, object, Response]:
    """``http.request``: ``data`` sent over TLS or TCP (``do_connect``), the response read,
    1xx responses skipped. ``redirected``: the request follows a redirect, so only the port
    number tells whether to try TLS first."""
    if view.proto != "tcp":
        return error("Unsupported protocol.")
    if scheme in ("http", "https"):
        order = [scheme == "https"]
    else:
        first = view.port in rules.SSL_PORTS if redirected else ssl_first(view)
        order = [first, not first]
    reader, tls = None, False
    for tls in order:
        reader = yield from _open(tls, data)
        if reader is not None:
            break
    if reader is None:
        return error("Error creating socket.")
    method = data.split(b" ", 1)[0].decode("latin-1")
    try:
        while True:
            response = yield from next_response(reader, method)
            if not (response.status is not None and 100 <= response.status <= 199):
                break
    except _Failed as failed:
        response = error(f"Error in next_response function; {failed}")
    yield from close(reader.conn)  # (never in a finally: a closed generator must not yield)
    return response if response.status is None else replace(response, ssl=tls)


def generic_request(view: PortView, method: str, path: str, *, header: Mapping[str, str] | None = None,
                    content: bytes | None = None, scheme: str | None = None,
                    host: str | None = None) -> Generator[Step, object, Response]:
    """``http.generic_request``."""
    data = build_request(view, method, path, header=header, content=content, scheme=scheme, host=host)
    return (yield from request(view, data, scheme=scheme, redirected=host is not None))


def post(view: PortView, path: str, content: bytes, *,
         header: Mapping[str, str] | None = None) -> Generator[Step, object, Response]:
    """``http.post`` (no redirects)."""
    return (yield from generic_request(view, "POST", path, header=header, content=content))


def _domain(host: str) -> str:
    found = re.search(r"\..+\..+", host)
    return (found.group() if found else host).lower()


def parse_redirect(view: PortView, path: str, response: Response) -> url.Url | None:
    """``parse_redirect``: where a redirect points (host and port filled in, the path made
    absolute against the request's), or None."""
    location = response.header.get("location")
    if response.status not in REDIRECT_STATUSES or location is None:
        return None
    target = url.parse(location)
    host = target.host if target.host is not None else view.target
    port = target.port or url.default_port(target.scheme) or view.port
    resolved = url.absolute(path, target.path)
    if target.query is not None:
        resolved = f"{resolved}?{target.query}"
    return replace(target, host=host, port=port, path=resolved)


def redirect_ok(view: PortView, target: url.Url) -> bool:
    """``http.lua``'s redirect rules, for a target ``parse_redirect`` filled in."""
    if target.userinfo is not None or target.host is None:
        return False
    if view.hostname is None:
        if target.host != view.host:
            return False
    elif _domain(view.hostname) != _domain(target.host):
        return False
    if target.port != view.port:
        return False
    return not (target.path == "/" and target.host == view.target)


def get(view: PortView, path: str, *, header: Mapping[str, str] | None = None,
        redirects: int = MAX_REDIRECTS) -> Generator[Step, object, Response]:
    """``http.get``: the response to ``GET path``, after at most ``redirects`` redirects.
    A redirect to another host of the target's domain (which Nmap would follow, connecting
    there) is not followed: a plugin talks to its port only."""
    scheme: str | None = None
    host: str | None = None
    current = path
    locations: list[str] = []
    while True:
        response = yield from generic_request(view, "GET", current, header=header, scheme=scheme,
                                              host=host)
        target = parse_redirect(view, path, response)
        if target is None:
            break
        scheme = target.scheme or scheme
        locations.append(response.header["location"])
        if redirects == 0 or not redirect_ok(view, target) or target.host != view.target:
            break
        redirects -= 1
        host, current = target.host, target.path
    return replace(response, location=tuple(locations))


# --------------------------------------------------------------------------- identify_404


_CLEAN = [re.compile(p) for p in (
    rb"[0-9]?[0-9]:[0-9][0-9]:[0-9][0-9]", rb"[0-9][0-9]:[0-9][0-9]", rb"AM", rb"am", rb"PM", rb"pm",
    rb"[0-9]{8}", rb"[0-9]{4}-[0-9][0-9]-[0-9][0-9]", rb"[0-9]{4}/[0-9][0-9]/[0-9][0-9]",
    rb"[0-9][0-9]-[0-9][0-9]-[0-9]{4}", rb"[0-9][0-9]/[0-9][0-9]/[0-9]{4}",
    rb"[0-9]{6}", rb"[0-9][0-9]-[0-9][0-9]-[0-9][0-9]", rb"[0-9][0-9]/[0-9][0-9]/[0-9][0-9]",
    rb"/[^ ]+", rb"[a-zA-Z]:\\[^ ]+")]
_BAD_STATUSES = (301, 302, 400, 401, 403, 499, 501, 503)


def clean_404(body: bytes) -> bytes:
    """``clean_404``: the body without the parts that change between requests (times, dates,
    paths)."""
    for pattern in _CLEAN:
        body = pattern.sub(b"", body)
    return body


@dataclass(frozen=True, slots=True)
class NotFound:
    """What ``identify_404`` returns: ``ok`` and ``status`` (the status a missing page gets;
    a message instead when ``ok`` is False)."""

    ok: bool
    status: int | str | None

    @property
    def all_200(self) -> bool:
        """The scripts' test: every page answers 200, so the server cannot tell."""
        return self.ok and self.status == 200


def identify_404(view: PortView) -> Generator[Step, object, NotFound]:
    """``http.identify_404``: three pages that cannot exist, asked for as Nmap names them."""
    now = int((yield from clock()))
    first = yield from get(view, f"/nmaplowercheck{now}", redirects=0)
    if first.status == 404:
        return NotFound(True, 404)
    if first.status == 200:
        second = yield from get(view, f"/NmapUpperCheck{now}")
        third = yield from get(view, f"/Nmap/folder/check{now}")
        for which, other in (("second", second), ("third", third)):
            if other.status != 200:
                status = other.status if other.status is not None else -1
                return NotFound(False, f"HTTP 404 status changed for {which} request (became {status}).")
        clean = clean_404(first.body or b"")
        if clean != clean_404(second.body or b"") or clean != clean_404(third.body or b""):
            return NotFound(False, "Two known 404 pages returned valid and different pages; "
                                   "unable to identify valid response.")
        return NotFound(True, 200)
    return NotFound(True, first.status)
