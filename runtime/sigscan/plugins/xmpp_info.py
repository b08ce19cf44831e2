"""``xmpp-info``: what an XMPP server announces when a stream opens (RFC 6120): its stream
attributes, stream features, SASL mechanisms, compression methods and errors; and the server
software guessed from the stream IDs it gives.

Mirrors Nmap 7.93's script and the tag reader of its ``xmpp`` library: on TCP port 5222 or 5269
or a port named ``jabber``, ``xmpp-client`` or ``xmpp-server``, it opens three streams, each
read tag by tag (up to each ``>``, at most 256 bytes) until ``</stream:features>`` or the end:

1. to the host ``.`` (a name no server serves), 2. to the host's name (the name given to the
   scan; an address has none, so ``to=''``), 3. the same with STARTTLS first.

The namespace is ``jabber:client`` on a port named ``xmpp-client``, else ``jabber:server``.
The two stream IDs of 1 and 2 are matched against the script's table of server IDs (Prosody,
ejabberd, Openfire, …); a hit becomes the product, hard matched, as does an ejabberd
capabilities node. The output says whether the server minded the name, and what stream 2
found (``info``); or, when STARTTLS worked, what streams 2 and 3 had in common (``info``) and
what only one of them had (``pre_tls``, ``post_tls``).

Differences from Nmap, each where Nmap's own output is not reproducible or not reachable:

- the keys of ``info`` without STARTTLS, and the items of each list compared across
  STARTTLS, follow Lua's hash order in Nmap, which changes from run to run; the plugin keeps
  the order the script writes them in;
- the host's name: for an address given without ``-n``, Nmap uses its reverse DNS name;
  sigscan does no reverse lookups, so it uses the name given, or none (as ``nmap -n``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Generator
from dataclasses import dataclass, field, replace

from sigscan.engine.plugin import Exchange, Outcome, Plugin, PortView, Step, starttls
from sigscan.plugins import rules
from sigscan.plugins.lib.nse_socket import Failed, Socket, open_socket
from sigscan.plugins.lib.stdnse import Table, format_table

SOCKET_TIMEOUT = 10.0  # seconds, the script's client:set_timeout
TAG_LIMIT = 256  # bytes read for a tag at most (match.pattern_limit(">", 256))
MAX_TAGS = 10_000  # tags read from one stream at most (a bound of ours; Nmap reads on)
ALT_SERVER_NAME = "."
KEYED_GROUPS = ("xmpp", "capabilities")
LIST_GROUPS = ("features", "compression_methods", "auth_mechanisms", "errors", "unknown")
KNOWN_FEATURES = frozenset({"starttls", "compression", "mechanisms", "register", "dialback",
                            "session", "auth", "bind", "c", "sm", "amp", "ver"})
FEATURE_NAMES = {"ver": "Roster Versioning", "dialback": "Server Dialback",
                 "session": "IM Session Establishment", "bind": "Resource Binding",
                 "amp": "Advanced Message Processing", "register": "In-Band Registration"}
CAPS_HINTS = {"http://www.process-one.net/en/ejabberd/": "ejabberd"}

_TAG = re.compile(rb"([^<]*)<(/?)([?:A-Za-z0-9-]+)")
_SPACE = rb"[ \t\n\v\f\r]"
_ATTR_SINGLE = re.compile(_SPACE + rb"([A-Za-z0-9:]+)='([^']+)'")
_ATTR_DOUBLE = re.compile(_SPACE + rb'([A-Za-z0-9:]+)="([^"]+)"')

rule = rules.version_port_or_service((5222, 5269), ("jabber", "xmpp-client", "xmpp-server"))


class _Crash(Exception):
    """Where the Lua script stops with an error: it gives nothing."""


# -- tags (xmpp.XML.parse_tag) ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Tag:
    name: str
    attrs: dict[str, str]
    start: bool
    finish: bool
    contents: str


def _text(data: bytes) -> str:
    return data.decode("utf-8", "replace")


def parse_tag(chunk: bytes) -> Tag | None:
    """The first tag in ``chunk`` (what came before it is its ``contents``), as the library's
    patterns read it: attributes with empty values are not seen; None when there is no tag."""
    found = _TAG.search(chunk)
    if found is None:
        return None
    attrs: dict[str, str] = {}
    for pattern in (_ATTR_SINGLE, _ATTR_DOUBLE):
        for key, value in pattern.findall(chunk):
            attrs[_text(key)] = _text(value)
    empty = found.group(2)
    return Tag(_text(found.group(3)), attrs, start=not empty,
               finish=bool(empty) or chunk.endswith(b"/>"), contents=_text(found.group(1)))


def _receive_tag(sock: Socket) -> Generator[Step, object, Tag | None]:
    chunk = yield from sock.receive_until(b">", TAG_LIMIT)
    return None if isinstance(chunk, Failed) else parse_tag(chunk)


# -- one stream (the script's scan) ---------------------------------------------------------------


@dataclass
class StreamResult:
    """What one stream showed: the script's result table."""

    stream_id: str | None = None
    xmpp: Table = field(default_factory=Table)
    features: list[str] = field(default_factory=list)
    capabilities: dict[str, str] = field(default_factory=dict)
    compression_methods: list[str] = field(default_factory=list)
    auth_mechanisms: list[str] = field(default_factory=list)
    errors: list[object] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)

    def table(self) -> dict[str, object]:
        keyed: dict[str, object] = {} if self.stream_id is None else {"stream_id": self.stream_id}
        return keyed | {"xmpp": self.xmpp, "features": self.features,
                        "capabilities": self.capabilities,
                        "compression_methods": self.compression_methods,
                        "auth_mechanisms": self.auth_mechanisms, "errors": self.errors,
                        "unknown": self.unknown}


def request(server_name: str, xmlns: str) -> bytes:
    return (f"<?xml version='1.0'?><stream:stream xmlns:stream='http://etherx.jabber.org/streams'"
            f" xmlns={xmlns} xml:lang='ru-RU' to='{server_name}' version='1.0'>").encode()


class _Reader:
    """The script's loop over the tags of one stream, with its stack of open tags."""

    def __init__(self, server_name: str, result: StreamResult, version: _Version) -> None:
        self.server_name, self.result, self.version = server_name, result, version
        self.stack = [""]
        self.starttls = self.required = self.in_error = self.got_text = False

    def inside(self, *names: str) -> bool:
        """Whether the open tags end with ``stream:features`` and then ``names``."""
        wanted = ("stream:features", *names)
        return len(self.stack) >= len(wanted) and tuple(self.stack[-len(wanted):]) == wanted

    def see(self, tag: Tag) -> None:
        result, features = self.result, self.inside()
        if features and tag.name not in KNOWN_FEATURES:
            result.unknown.append(tag.name)
        if tag.name == "stream:stream" and tag.start:
            self._stream(tag)
        if tag.name == "sm" and tag.start and features:
            # The script reads the version with the Lua pattern "^urn:xmpp:sm:(%.)", which
            # wants a literal dot: any real namespace stops the script with an error.
            if not tag.attrs.get("xmlns", "").startswith("urn:xmpp:sm:."):
                raise _Crash("stream management version")
            result.features.append("Stream management v.")
        self._feature(tag, features)
        self._error(tag)
        if tag.start and not tag.finish:
            self.stack.append(tag.name)
        elif not tag.start and tag.finish and len(self.stack) > 1:
            self.stack.pop()

    def _stream(self, tag: Tag) -> None:
        xmpp, attrs = self.result.xmpp, tag.attrs
        if (attrs.get("xmlns:ack") == "http://www.xmpp.org/extensions/xep-0198.html#ns"
                and not xmpp.keys):
            # table.insert on an output_table puts it after all its keys: once the table has
            # keys, the item lands past the list part and no output shows it
            xmpp.items.append("Stream Management")
        if "xml:lang" in attrs:
            xmpp.keys["lang"] = attrs["xml:lang"]
        if "from" in attrs and attrs["from"] != self.server_name:
            xmpp.keys["server name"] = attrs["from"]
        self.result.stream_id = attrs.get("id")
        xmpp.keys["version"] = attrs.get("version", "(none)")

    def _feature(self, tag: Tag, features: bool) -> None:
        result, name = self.result, tag.name
        if name == "starttls" and features:
            self.starttls = True
        elif name == "address" and tag.finish and features:
            result.features.append(f"MY IP: {tag.contents}")
        elif name in FEATURE_NAMES and features:
            result.features.append(FEATURE_NAMES[name])
        elif name == "auth" and features:
            result.auth_mechanisms.append("Non-SASL")
        elif name == "required" and self.inside("starttls"):
            self.required = True
        elif name == "method" and self.inside("compression", "method"):
            if tag.finish:
                result.compression_methods.append(tag.contents)
        elif name == "mechanism" and self.inside("mechanisms", "mechanism"):
            if tag.finish:
                result.auth_mechanisms.append(tag.contents)
        elif name == "c" and features and "node" in tag.attrs:
            result.capabilities["node"] = tag.attrs["node"]
            hint = CAPS_HINTS.get(tag.attrs["node"])
            if hint is not None:  # set at once, as the script's set_port_version
                self.version.set_product(hint)
            if "ver" in tag.attrs:
                result.capabilities["ver"] = tag.attrs["ver"]
            else:
                result.capabilities.pop("ver", None)

    def _error(self, tag: Tag) -> None:
        errors = self.result.errors
        if tag.name == "stream:error":
            if tag.start:
                self.in_error = True
            elif not self.got_text:
                if tag.contents:
                    errors.append({"text": tag.contents})
                self.in_error = False
        elif self.in_error:
            if tag.name == "text":
                if tag.finish:
                    self.got_text = True
                    errors.append({"text": tag.contents})
            else:
                errors.append(tag.name)


def _starttls(sock: Socket, server_name: str, xmlns: str) -> Generator[Step, object, bool]:
    """The script's connect_tls: STARTTLS asked in a first stream; True once the connection
    is TLS (the server said ``<proceed/>`` and the handshake worked)."""
    yield from sock.send(request(server_name, xmlns) + b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
    for _ in range(MAX_TAGS):
        tag = yield from _receive_tag(sock)
        if tag is None or tag.name == "failure":
            return False
        if tag.name == "proceed" and tag.finish:
            opened = yield from starttls(sock.conn)
            return opened.conn is not None
    return False


def scan(view: PortView, server_name: str, tls: bool,
         version: _Version) -> Generator[Step, object, StreamResult | None]:
    """One stream (the script's ``scan``): None when it could not be opened, or, with
    ``tls``, when STARTTLS did not give a TLS connection."""
    xmlns = "'jabber:client'" if view.name == "xmpp-client" else "'jabber:server'"
    sock = yield from open_socket(SOCKET_TIMEOUT)
    if isinstance(sock, Failed):
        return None
    if tls and not (yield from _starttls(sock, server_name, xmlns)):
        yield from sock.close()
        return None
    yield from sock.send(request(server_name, xmlns))
    result = StreamResult()
    reader = _Reader(server_name, result, version)
    for _ in range(MAX_TAGS):
        tag = yield from _receive_tag(sock)
        if tag is None:
            result.errors.append("(timeout)")
            break
        if tag.name == "stream:features" and tag.finish:
            break
        reader.see(tag)  # may raise _Crash: the run's end closes the connection
    yield from sock.close()
    if reader.starttls:
        result.features.append("TLS (required)" if reader.required else "TLS")
    return result


# -- the server's software (the script's id_database) ---------------------------------------------


def _hex(count: int, optional: int = 0) -> str:
    return f"[0-9a-f]{{{count}}}" + "[0-9a-f]?" * optional


_UUID = f"{_hex(8)}-{_hex(4)}-{_hex(4)}-{_hex(4)}-{_hex(12)}"


def _citadel(id1: str, id2: str) -> bool:
    first, second = int(id1, 16), int(id2, 16)
    return second - first < 20 and second > first


@dataclass(frozen=True, slots=True)
class ServerIds:
    """One line of the script's table: the patterns of the ID given to ``.`` and of the one
    given to the host's name (None: there must be no ID), and a further check."""

    alt: str | None
    plain: str | None
    name: str
    check: Callable[[str, str], bool] | None = None


SERVER_IDS = (
    ServerIds(f"^{_UUID}$", "^$", "prosody"),
    ServerIds(f"^{_hex(8)}$", f"^{_hex(8)}$", "Citadel", _citadel),
    ServerIds("^[0-9]{9}$", None, "jabberd"),
    ServerIds("^[0-9]{10}$", None, "jabberd"),
    ServerIds("^[0-9a-z]{40}$", "^[0-9a-z]{40}$", "jabberd2"),
    ServerIds(f"^{_hex(16)}$", f"^{_hex(16)}$", "Isode M-Link"),
    ServerIds("^[0-9]{8}[0-9]?[0-9]?$", "^[0-9]{8}[0-9]?[0-9]?$", "ejabberd"),
    ServerIds(f"^{_hex(6, 2)}$", f"^{_hex(6, 2)}$", "Openfire"),
    ServerIds(f"^{_UUID}$", "^tigase-error-tigase$", "Tigase"),
    ServerIds("^tigase-error-tigase$", "^tigase-error-tigase$", "Tigase"),
    ServerIds("^c2s_", "^c2s_", "VKontakte/XMPP"),
)


def _fits(value: str | None, pattern: str | None) -> bool:
    if value is None or pattern is None:
        return value is None and pattern is None
    # Lua's "$" is the very end; Python's would also take a last newline
    return re.search(pattern.replace("$", r"\Z"), value) is not None


def server_software(alt_id: str | None, plain_id: str | None) -> str | None:
    """The product the two stream IDs point to, if any (the script's server_info)."""
    for ids in SERVER_IDS:
        if not (_fits(alt_id, ids.alt) and _fits(plain_id, ids.plain)):
            continue
        if ids.check is None or (alt_id is not None and plain_id is not None
                                 and ids.check(alt_id, plain_id)):
            return ids.name
    return None


# -- the streams before and after STARTTLS (the script's factor) ----------------------------------


def _entries(value: Table | dict[str, str]) -> list[tuple[int | str, object]]:
    """A keyed group's entries in order: list items under their positions, then the keys."""
    if isinstance(value, Table):
        return [*enumerate(value.items, 1), *value.keys.items()]
    return list(value.items())


def _put(table: Table, key: int | str, value: object) -> None:
    if isinstance(key, int):
        table.items.append(value)
    else:
        table.keys[key] = value


def _compare_keyed(first: Table | dict[str, str],
                   second: Table | dict[str, str]) -> tuple[Table, Table, Table]:
    one, two = dict(_entries(first)), dict(_entries(second))
    both, only_one, only_two = Table(), Table(), Table()
    for key, value in one.items():
        if key in two and two[key] == value:
            _put(both, key, value)
        else:
            _put(only_one, key, value)
            if key in two:
                _put(only_two, key, two[key])
    for key, value in two.items():
        if key not in one:
            _put(only_two, key, value)
    return both, only_one, only_two


def _same(a: object, b: object) -> bool:
    """Lua's ``==``: strings by value, tables by identity."""
    return a is b if isinstance(a, dict) or isinstance(b, dict) else a == b


def _compare_lists(one: list[object], two: list[object]) -> tuple[list[object], list[object], list[object]]:
    seen: list[object] = []  # the script's union: each value of the first list once
    for value in one:
        if not any(_same(value, v) for v in seen):
            seen.append(value)
    in_both = [v for v in seen if any(_same(v, w) for w in two)]
    only_one = [v for v in seen if not any(_same(v, w) for w in two)]
    only_two = [w for w in two if not any(_same(v, w) for v in seen)]
    return in_both, only_one, only_two


def factor(first: StreamResult, second: StreamResult) -> tuple[Table, Table, Table]:
    """What two streams had in common, and what only the first and only the second had."""
    both, only_one, only_two = Table(), Table(), Table()
    tables = (both, only_one, only_two)
    for name in KEYED_GROUPS:
        for table, part in zip(tables, _compare_keyed(getattr(first, name), getattr(second, name)),
                               strict=True):
            table.keys[name] = part
    for name in LIST_GROUPS:
        for table, items in zip(tables, _compare_lists(getattr(first, name), getattr(second, name)),
                                strict=True):
            if items:
                table.keys[name] = items
    return both, only_one, only_two


# -- the run ---------------------------------------------------------------------------------------


class _Version:
    """The port's version as the script's ``nmap.set_port_version`` calls leave it."""

    def __init__(self, view: PortView) -> None:
        self.service = view.service
        self.changed = False

    def set_product(self, product: str) -> None:
        self.service, self.changed = replace(self.service, product=product), True

    def outcome(self, output: str | None = None) -> Outcome | None:
        if output is None and not self.changed:
            return None
        return Outcome(output=output, version=self.service if self.changed else None)


def _streams(view: PortView, version: _Version) -> Generator[Step, object, Table | None]:
    """The three streams and the output table; None when one of the first two failed."""
    server_name = view.hostname or ""
    alt = yield from scan(view, ALT_SERVER_NAME, False, version)
    plain = yield from scan(view, server_name, False, version)
    if alt is None or plain is None:
        return None
    product = server_software(alt.stream_id, plain.stream_id)
    if product is not None:
        version.set_product(product)
    secured = yield from scan(view, server_name, True, version)
    output = Table()
    if not alt.errors and not plain.errors:
        output.items.append("Ignores server name")
    elif len(alt.errors) != len(plain.errors):
        output.items.append("Respects server name")
    if secured is None:
        output.items.append("STARTTLS Failed")
        output.keys["info"] = plain.table()
    else:
        output.keys["info"], output.keys["pre_tls"], output.keys["post_tls"] = factor(plain, secured)
    return output


def run(view: PortView) -> Exchange:
    version = _Version(view)
    try:
        output = yield from _streams(view, version)
    except _Crash:  # the script stops; what it set before stays set
        return version.outcome()
    if output is None:
        return version.outcome()
    return version.outcome(format_table(output))


# A silent server costs Nmap one tag timeout (10 s) per stream, three streams, before it prints
# its "(timeout)" errors: the run's bound leaves room for that and the connects.
PLUGIN = Plugin("xmpp-info", rule, run, timeout=3 * SOCKET_TIMEOUT + 10.0,
                summary="an XMPP server's stream features and software")
