"""``openlookup-info``: the version an OpenLookup server announces in its greeting.

Mirrors Nmap 7.93's script: on 5850/tcp or a port called ``openlookup`` it reads the banner
(``comm.get_banner``), a netstring holding an NSON dictionary ``{method: "hello", options:
{…}}``, and when that is a hello it makes the port ``openlookup``, hard-matched, with the
``version`` option as the version. As in the script, the option is taken as it is encoded (the
NSON string ``s2.7``, type letter included: the script never decodes the option values), and
nothing is printed: the script returns its options table only when ``#options`` is at least 1,
which a table with string keys never is.

The netstring and NSON readers follow the script's: a chunk is ``SIZE:BODY``, ``SIZE`` read as
Lua's ``tonumber`` reads it, the byte after the body skipped unchecked.
"""

from __future__ import annotations

import math
import re
from collections.abc import Generator
from dataclasses import replace

from sigscan.engine.plugin import Plugin, PortView, Step
from sigscan.plugins import rules
from sigscan.plugins.lib.lua import ScriptError, text
from sigscan.plugins.lib.nsock import get_banner
from sigscan.plugins.lib.script import Script, nse_script

_SPACE = b" \t\n\v\f\r"
_INT = re.compile(rb"[+-]?(?:0[xX][0-9a-fA-F]+|[0-9]+)")
_DEC = re.compile(rb"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_HEX = re.compile(rb"[+-]?0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][+-]?[0-9]+)?")

rule = rules.version_port_or_service(5850, "openlookup")


def tonumber(data: bytes) -> int | float | None:
    """Lua 5.3's ``tonumber`` of a string: decimal or hex integers (hex ones wrap to 64 bits),
    decimal or hex floats, blanks around; None otherwise (``inf`` and ``nan`` included)."""
    body = data.strip(_SPACE)
    if _INT.fullmatch(body):
        negative, digits = body.startswith(b"-"), body.lstrip(b"+-")
        if digits[:2].lower() == b"0x":
            value = int(digits[2:], 16) % (1 << 64)
            value = value - (1 << 64) if value >= 1 << 63 else value
            return -value if negative else value
        number = int(digits)
        if number < 1 << 63 or (negative and number == 1 << 63):
            return -number if negative else number
        return -float(number) if negative else float(number)
    if _DEC.fullmatch(body):
        return float(body)
    if _HEX.fullmatch(body):
        try:
            return float.fromhex(body.decode())
        except OverflowError:  # strtod gives HUGE_VAL
            return -math.inf if body.startswith(b"-") else math.inf
    return None


def _sub_end(body: bytes, end: int | float) -> bytes:
    """``string.sub(body, 1, end)``."""
    if isinstance(end, float):
        if not math.isfinite(end) or end != int(end) or abs(end) >= 2 ** 63:
            raise ScriptError("bad argument #3 to 'sub' (number has no integer representation)")
        end = int(end)
    if end < 0:
        end = max(len(body) + end + 1, 0)
    return body[:end]


def parsechunk(data: bytes) -> tuple[bytes | None, bytes]:
    """A netstring chunk and what follows it, or (None, ``data``)."""
    head, colon, body = data.partition(b":")
    if not colon:
        return None, data
    size = tonumber(head)
    if size is None or len(body) < size:
        return None, data
    chunk = _sub_end(body, size)
    return chunk, body[len(chunk) + 1:]


def parsestring(data: bytes) -> bytes | None:
    return data[1:] if data[:1] == b"s" else None


def parsedict(data: bytes) -> dict[bytes, bytes] | None:
    """An NSON dictionary, its values left encoded; a key that is no NSON string is Lua's
    ``table index is nil``."""
    if data[:1] != b"d":
        return None
    rest, found = data[1:], {}
    while rest:
        chunk, rest = parsechunk(rest)
        if chunk is None:
            return None
        key = parsestring(chunk)
        value, rest = parsechunk(rest)
        if value is None:
            return None
        if key is None:
            raise ScriptError("table index is nil")
        found[key] = value
    return found


def formatoptions(header: bytes) -> dict[bytes, bytes] | None:
    message = parsedict(header)
    if message is None or b"method" not in message:
        return None
    if parsestring(message[b"method"]) != b"hello":
        return None
    options = message.get(b"options")
    return {} if options is None else parsedict(options)


def body(view: PortView, script: Script) -> Generator[Step, object, str | None]:
    banner = yield from get_banner(view)
    if banner is None:
        return None
    header, _ = parsechunk(banner)
    if header is None:
        return None
    options = formatoptions(header)
    if options is None:
        return None
    version = options.get(b"version")
    current = script.port_version
    script.set_port_version(replace(current, name="openlookup",
                                    version=current.version if version is None else text(version)))
    return None  # "#options < 1": a table with only string keys has length 0


PLUGIN = Plugin("openlookup-info", rule, nse_script(body), timeout=35.0,
                summary="the version an OpenLookup server announces")
