"""``ventrilo-info``: a Ventrilo server's status (name, version, uptime, channels, clients) over
its UDP status port.

Mirrors Nmap 7.93's script. On 3784 or a port named ``ventrilo``, TCP or UDP (intensity ≥ 7,
not excluded), it sends the detailed status request (command 2, request id ``0x33CF``, empty
password; :mod:`sigscan.plugins.lib.ventrilo`) to the UDP port of the same number, up to 3
times, waiting 2 s for an answer each time. An answer makes the UDP port ``open`` (here: when
the plugin runs on it). Then it gathers the reply's packets (2 s for each next one): packets
with another id are skipped, but their header's counts still take part in the checks; a packet
numbered past the count, longer than 492 bytes, or more data than announced ends the run, as do
counts that cannot add up, a missing packet and a checksum that does not match. Nothing is
said then.

The reply's ``KEY: value`` lines are read in the script's order, each search starting where the
last match ended (a line that is missing reads ``n/a`` and leaves the position); the
``CHANNEL:`` and ``CLIENT:`` lines are read field by field as ``CHANNELFIELDS`` and
``CLIENTFIELDS`` name them (the names are Lua patterns, :mod:`sigscan.plugins.lib.luapattern`).
Channels are kept by ``CID`` after a ``<top level lobby>`` of CID 0, clients go to their
channel (or to ``<clients with unrecognized CIDs>``). The port becomes ``ventrilo``,
hard-matched, product ``Ventrilo``, version and OS type the reply's ``VERSION`` and
``PLATFORM``, extrainfo ``voice port`` (TCP) or ``status port`` (UDP) then ``; name: …;
uptime: Hh:Mm; auth: none|pw|user/pw`` (or the code as it came). The output is the script's own text: each key on a
line, the channels with their fields (``n/a`` for a field a channel lacks) and their clients
indented under them.

Where the script's Lua fails (a packet shorter than its header, a malformed field pattern, a
channel or client with no ``NAME`` field at the point of printing, a ``clients`` field), the
plugin gives the output Nmap prints for a failed script, with the changes the script made
before failing (the open UDP port; the version, when printing failed).

Differences: Nmap runs the exchange once per port number and shares the answer between the TCP
and UDP ports (a registry under a mutex); here each port's run asks on its own. Nmap's TCP run
also sets the UDP port ``open`` when that port is in the scan; a plugin changes only its own
port. Where the script would loop forever (``CHANNEL:`` lines none of whose fields is found) or
search without end (a field name with quantifiers; searches or an output past the bounds
below), or a field name holds what the pattern translation does not carry (``%b``, ``()``),
the plugin stops with a note.
"""

from __future__ import annotations

import math
import re
from collections.abc import Generator
from dataclasses import dataclass, field, replace

from sigscan.engine.plugin import (
    SCRIPT_ERROR,
    Exchange,
    Outcome,
    Plugin,
    PortView,
    ProbeState,
    Reply,
    Step,
    close,
    connect,
    receive,
    send,
)
from sigscan.engine.results import PortState
from sigscan.plugins import rules
from sigscan.plugins.lib import ventrilo
from sigscan.plugins.lib.luapattern import (
    LuaPattern,
    PatternError,
    Untranslated,
    compile_pattern,
    find,
)

TIMEOUT = 2.0  # the script's socket timeout, seconds
TRIES = 3  # requests sent before giving up
IDENT = 0x33CF  # the script's request id
REQUEST = ventrilo.request(2, IDENT, head_key=0x49DE, data_key=0x49DE)
SEARCH_BUDGET = 200_000_000  # what the reading of a reply may spend on searches (see _Parser)
OUTPUT_LIMIT = 1 << 20  # characters of output before the plugin gives up
AUTH = {b"0": b"none", b"1": b"pw", b"2": b"user/pw"}
NA = b"n/a"

rule = rules.version_port_or_service(3784, "ventrilo", ("tcp", "udp"))


class _LuaError(Exception):
    """Where the script's Lua raises an error: Nmap prints SCRIPT_ERROR."""


class _Unbounded(Exception):
    """Where the script would run without end, or this plugin gives up (see the module)."""


# --------------------------------------------------------------------------- the exchange


def _head(packet: bytes) -> ventrilo.Head:
    """The header as the script reads it: shorter than 20 bytes, or a zero low key byte
    (its bytes come back as text, compared with a number later), is a Lua error."""
    if len(packet) < ventrilo.HEAD_SIZE or packet[1] == 0:
        raise _LuaError(f"a packet of {len(packet)} bytes that the script cannot read")
    return ventrilo.decode_head(packet)


def _data(packet: bytes, size: int, key: int) -> bytes:
    """The data as the script reads it: with a zero low key byte, the decimal values of the
    bytes run together; else short data is a Lua error."""
    data = packet[ventrilo.HEAD_SIZE:ventrilo.HEAD_SIZE + size]
    if key & 0xFF == 0:
        return b"".join(b"%d" % byte for byte in data)
    if len(data) < size:
        raise _LuaError(f"{len(data)} data bytes where the header says {size}")
    return ventrilo.decode_data(data, key)


def _gather(conn: int, reply: Reply) -> Generator[Step, object, tuple[bytes | None, str]]:
    """The reply's plain data (None when the script gives up), and why it gave up."""
    parts: dict[int, bytes] = {}
    length, head_crc = 0, None
    while True:
        head = _head(reply.data)
        if head.id == IDENT:
            length += head.len
            head_crc = head.crc
            if head.pck >= head.totpck or head.len > ventrilo.MAX_DATA or length > head.totlen:
                return None, "invalid response"
            parts[head.pck] = _data(reply.data, head.len, head.datakey)
        count = len(parts)
        if count > head.totpck or length > head.totlen or (
                (count == head.totpck) != (length == head.totlen)):
            return None, f"invalid state ({count}/{head.totpck} packets, {length}/{head.totlen} bytes)"
        if count == head.totpck:
            break
        reply = yield from receive(conn, TIMEOUT)
        if not reply.ok:
            return None, "response packets stopped coming midway"
    data = b"".join(_run_of(parts))
    if ventrilo.crc(data) != head_crc:
        return None, "invalid CRC sum"
    return data, ""


def _run_of(parts: dict[int, bytes]) -> list[bytes]:
    """The packets' data from number 0 on, up to the first one missing (only headers that
    disagree on the packet count leave a gap)."""
    out: list[bytes] = []
    while len(out) in parts:
        out.append(parts[len(out)])
    return out


def run(view: PortView) -> Exchange:
    opened = yield from connect(udp=True)
    if opened.conn is None:
        return None
    conn = opened.conn
    for _ in range(TRIES):
        yield from send(conn, REQUEST)
        reply = yield from receive(conn, TIMEOUT)
        if reply.ok:
            break
    else:
        yield from close(conn)
        return None
    state = PortState.OPEN if view.proto == "udp" else None
    try:
        data, why = yield from _gather(conn, reply)
    except _LuaError as error:
        yield from close(conn)
        return Outcome(output=SCRIPT_ERROR, state=state, note=str(error))
    yield from close(conn)
    if data is None:
        return Outcome(state=state, note=why)
    return _outcome(view, data, state)


def _outcome(view: PortView, data: bytes, state: PortState | None) -> Outcome:
    try:
        info = _Parser(data).info()
    except (Untranslated, _Unbounded) as error:
        return Outcome(state=state, note=f"reply not read: {error}")
    except (_LuaError, PatternError) as error:  # a malformed pattern is Lua's error too
        return Outcome(output=SCRIPT_ERROR, state=state, note=str(error))
    values = info.values
    role = "voice port" if view.proto == "tcp" else "status port"
    extrainfo = (f"{role}; name: {_text(values['name'])}; "
                 f"uptime: {_text(_uptime(values['uptime']))}; auth: {_text(_auth(values['auth']))}")
    service = replace(view.service, name="ventrilo", product="Ventrilo",
                      version=_text(values["version"]), ostype=_text(values["platform"]),
                      extrainfo=extrainfo)
    found = Outcome(version=service, probestate=ProbeState.HARDMATCHED, state=state)
    try:
        return replace(found, output=_text(_render(info)))
    except _LuaError as error:  # after nmap.set_port_version: the version stays
        return replace(found, output=SCRIPT_ERROR, note=str(error))
    except _Unbounded as error:
        return replace(found, note=f"output not made: {error}")


def _text(value: bytes) -> str:
    return value.decode("latin-1")


def _auth(code: bytes) -> bytes:
    return AUTH.get(code, code)


# --------------------------------------------------------------------------- reading the reply

Client = dict[bytes, bytes]
Channel = dict[bytes, "bytes | list[Client]"]


@dataclass
class _Info:
    """The script's output table, the parts its text shows: ``values`` by the table's keys."""

    values: dict[str, bytes] = field(default_factory=dict)
    channelfields: list[bytes] = field(default_factory=list)
    clientfields: list[bytes] = field(default_factory=list)
    channels: dict[bytes, Channel] = field(default_factory=dict)


_KEYS = ("name", "phonetic", "comment", "auth", "maxclients", "voicecodec", "voiceformat",
         "uptime", "platform", "version")
_FIELDS = re.compile(rb"[^,\n]+")
_LUA_SPECIALS = frozenset(b"^$*+?.([%-")


@dataclass(frozen=True, slots=True)
class _Literal:
    """A pattern ``<prefix>([^…]*)`` whose prefix has no special character: searched for as
    text, its capture what ``value`` takes after it (what Lua finds, without a regex)."""

    prefix: bytes
    value: re.Pattern[bytes]

    items = 1  # a text search costs about a byte's comparison per byte tried


_LINE_VALUE, _FIELD_VALUE = re.compile(rb"[^\n]*"), re.compile(rb"[^,\n]*")
_LINES = {key: _Literal(key.upper().encode() + b": ", _LINE_VALUE)
          for key in (*_KEYS, "channelcount", "channelfields", "clientcount", "clientfields")}
SEARCH_COST = 256  # what a search costs before it tries a byte
COMPILE_COST = 50_000  # what translating a field name that is a real Lua pattern costs


def _find(data: bytes, pattern: _Literal | LuaPattern, init: int) -> tuple[int, int, bytes | None] | None:
    if isinstance(pattern, LuaPattern):
        return find(data, pattern, init)
    if init > len(data) + 1:
        return None
    at = data.find(pattern.prefix, max(init - 1, 0))
    if at < 0:
        return None
    value = pattern.value.match(data, at + len(pattern.prefix))
    assert value is not None  # a starred class matches the empty string
    return at + 1, value.end(), value.group()


class _Parser:
    """The script's reading of the reply (its ``o_table``), position for position. Searches
    are paid for from a budget (:data:`SEARCH_BUDGET`, a fraction of a second's work): each
    costs the bytes it may try times its pattern's items, plus a fixed part; translating a
    field name that is a Lua pattern costs :data:`COMPILE_COST`. A real server's reply, 64 KiB
    with a field missing from every line, costs a fifth of it."""

    def __init__(self, data: bytes) -> None:
        self.data, self.pos, self.budget = data, 0, SEARCH_BUDGET
        self._fields: dict[bytes, _Literal | LuaPattern] = {}

    def spend(self, cost: int) -> None:
        self.budget -= cost
        if self.budget < 0:
            raise _Unbounded("the reply takes too many searches")

    def find(self, pattern: _Literal | LuaPattern) -> bytes:
        """``pos, value = str_find(data, pattern, pos)``: the first capture, the position
        moved to the match's end; ``n/a`` and the position kept when nothing matches."""
        found = _find(self.data, pattern, self.pos)
        end = len(self.data) if found is None else found[1]
        self.spend((end - self.pos + 1) * pattern.items + SEARCH_COST)
        if found is None:
            return NA
        self.pos = found[1]
        return NA if found[2] is None else found[2]

    def field(self, name: bytes) -> _Literal | LuaPattern:
        """The pattern ``name .. "=([^,\\n]*)"``, made when first used, as Lua meets it."""
        pattern = self._fields.get(name)
        if pattern is None:
            if not any(code in _LUA_SPECIALS for code in name):
                pattern = _Literal(name + b"=", _FIELD_VALUE)
            else:
                self.spend(COMPILE_COST)
                pattern = compile_pattern(name + b"=([^,\n]*)")
                if pattern.quantified > 1:
                    raise _Unbounded(f"the field name {name!r} has quantifiers")
            self._fields[name] = pattern
        return pattern

    def at(self, word: bytes) -> bool:
        """``string.sub(data, pos + 2, pos + 1 + #word) == word``."""
        return self.data[self.pos + 1:self.pos + 1 + len(word)] == word

    def records(self, word: bytes, names: list[bytes]) -> list[Client]:
        """The ``CHANNEL:`` or ``CLIENT:`` records while the next line starts with ``word``,
        each read field by field."""
        out: list[Client] = []
        while self.at(word):
            start = self.pos
            out.append({name: self.find(self.field(name)) for name in names})
            if self.pos == start:
                raise _Unbounded("the script loops forever on this reply (no field found)")
        return out

    def info(self) -> _Info:
        info = _Info()
        for key in (*_KEYS, "channelcount"):
            info.values[key] = self.find(_LINES[key])
        info.channelfields = _FIELDS.findall(self.find(_LINES["channelfields"]))
        info.channels[b"0"] = {b"NAME": b"<top level lobby>", b"CID": b"0"}
        for record in self.records(b"CHANNEL: ", info.channelfields):
            if b"CID" in record:
                info.channels[record[b"CID"]] = dict(record)
        info.values["clientcount"] = self.find(_LINES["clientcount"])
        info.clientfields = _FIELDS.findall(self.find(_LINES["clientfields"]))
        for client in self.records(b"CLIENT: ", info.clientfields):
            if b"CID" in client:
                _seat(info.channels, client[b"CID"], client)
        return info


def _seat(channels: dict[bytes, Channel], cid: bytes, client: Client) -> None:
    """Put a client in its channel, as the script does (``table.insert`` into a channel whose
    ``clients`` is no table is a Lua error)."""
    if cid not in channels:
        if b"-1" not in channels:
            channels[b"-1"] = {b"NAME": b"<clients with unrecognized CIDs>", b"CID": b"-1",
                               b"clients": []}
        cid = b"-1"
    elif b"clients" not in channels[cid]:
        channels[cid][b"clients"] = []
    clients = channels[cid].get(b"clients")
    if not isinstance(clients, list):
        raise _LuaError("table.insert into a channel's clients that is no table")
    clients.append(client)


# --------------------------------------------------------------------------- the script's text


class _Text:
    """The script's string buffer: concatenating anything but a string is a Lua error."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.size = 0

    def add(self, *values: object) -> None:
        for value in values:
            if not isinstance(value, bytes):
                raise _LuaError(f"bad #2 operand to strbuf concat operation ({type(value).__name__})")
            self.parts.append(value)
            self.size += len(value)
        if self.size > OUTPUT_LIMIT:
            raise _Unbounded(f"the output passes {OUTPUT_LIMIT} characters")


_LABELS = (("name", b"name"), ("phonetic", b"phonetic"), ("comment", b"comment"),
           ("auth", b"auth"), ("maxclients", b"max. clients"), ("voicecodec", b"voice codec"),
           ("voiceformat", b"voice format"), ("uptime", b"uptime"), ("platform", b"platform"),
           ("version", b"version"), ("channelcount", b"channel count"))


def _render(info: _Info) -> bytes:
    """The script's ``o_str``."""
    out = _Text()
    for key, label in _LABELS:
        value = info.values[key]
        if key == "auth":
            value = _auth(value)
        elif key == "uptime":
            value = _uptime(value)
        out.add(b"\n" + label + b": ", value)
    out.add(b"\nchannel fields: ", b", ".join(info.channelfields))
    out.add(b"\nclient count: ", info.values["clientcount"])
    out.add(b"\nclient fields: ", b", ".join(info.clientfields))
    out.add(b"\nchannels:")
    for channel in info.channels.values():
        _render_channel(out, channel, info)
    return b"".join(out.parts)


def _render_channel(out: _Text, channel: Channel, info: _Info) -> None:
    out.add(b"\n", channel.get(b"NAME"), b" (")
    last = len(info.channelfields)
    for j, name in enumerate(info.channelfields, 1):
        if name not in (b"NAME", NA):
            out.add(name, b": ", channel.get(name, NA))
            if j != last:
                out.add(b", ")
    out.add(b"): ")
    clients = channel.get(b"clients")
    if clients is None:
        out.add(b"<empty>")
        return
    if not isinstance(clients, list):  # a field's text: ipairs reads no client from it
        return
    last = len(info.clientfields)
    for client in clients:
        out.add(b"\n  ", client.get(b"NAME"), b" (")
        for k, name in enumerate(info.clientfields, 1):
            if name not in (b"NAME", b"CID"):
                out.add(name, b": ", client.get(name))
                if k != last:
                    out.add(b", ")


# --------------------------------------------------------------------------- Lua numbers

_SPACE = " \t\n\v\f\r"
_INT = re.compile(rf"[{_SPACE}]*([-+]?)(0[xX][0-9A-Fa-f]+|[0-9]+)[{_SPACE}]*\Z")
_FLOAT = re.compile(rf"[{_SPACE}]*[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?[{_SPACE}]*\Z")
_HEX_FLOAT = re.compile(rf"[{_SPACE}]*([-+]?)0[xX]([0-9A-Fa-f]*)(?:\.([0-9A-Fa-f]*))?"
                        rf"(?:[pP]([-+]?[0-9]+))?[{_SPACE}]*\Z")
_MIN = -(1 << 63)
Number = int | float


def _wrap(value: int) -> int:
    return (value - _MIN) % (1 << 64) + _MIN


def _tonumber(text: bytes) -> Number | None:
    """Lua 5.3's ``tonumber`` of a string (hexadecimal integers wrap, decimal ones too large
    become floats, never ``inf`` or ``nan`` by name)."""
    string = text.decode("latin-1")
    found = _INT.match(string)
    if found:
        sign, digits = found.groups()
        value = int(digits, 16) if digits[1:2] in ("x", "X") else int(digits)
        value = -value if sign == "-" else value
        if digits[1:2] in ("x", "X") or _MIN <= value < -_MIN:
            return _wrap(value)
        return float(value)
    if "n" in string.lower():
        return None
    if _FLOAT.match(string):
        return float(string.strip(_SPACE))
    found = _HEX_FLOAT.match(string)
    if found and (found.group(2) or found.group(3)):
        try:
            return float.fromhex(string.strip(_SPACE))
        except OverflowError:  # strtod gives an infinity
            return -math.inf if found.group(1) == "-" else math.inf
    return None


def _floor(value: float) -> Number:
    """``math.floor`` of a float: an integer when it fits in 64 bits."""
    if math.isfinite(value) and _MIN <= math.floor(value) < -_MIN:
        return math.floor(value)
    return value


def _sub(a: Number, b: Number) -> Number:
    return _wrap(a - b) if isinstance(a, int) and isinstance(b, int) else float(a) - float(b)


def _mul(a: Number, b: int) -> Number:
    return _wrap(a * b) if isinstance(a, int) else a * float(b)


def _tostring(value: Number) -> bytes:
    if isinstance(value, int):
        return b"%d" % value
    if math.isnan(value):
        return b"-nan" if math.copysign(1.0, value) < 0 else b"nan"
    if math.isinf(value):
        return b"inf" if value > 0 else b"-inf"
    text = f"{value:.14g}"
    return (text + ".0" if re.fullmatch(r"-?[0-9]+", text) else text).encode()


def _uptime(uptime: bytes) -> bytes:
    """The script's ``uptime_str``: seconds as ``Hh:Mm``, or the text as it came."""
    number = _tonumber(uptime)
    if number is None:
        return uptime
    hours = _floor(float(number) / 3600)
    minutes = _floor(float(_sub(number, _mul(hours, 3600))) / 60)
    return _tostring(hours) + b"h:" + _tostring(minutes) + b"m"


PLUGIN = Plugin("ventrilo-info", rule, run, summary="Ventrilo's status: name, version, uptime, channels, clients")
