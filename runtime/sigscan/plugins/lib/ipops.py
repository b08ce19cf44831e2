"""Nmap's ``ipOps`` address helpers as the scripts use them."""

from __future__ import annotations

import re

from sigscan.plugins.lib.lua import ScriptError

_WRAP = 1 << 64


def _lua_int(digits: str, base: int) -> int:
    """``tonumber(digits, base)``: Lua accumulates in 64 bits, wrapping, and reads the result
    as signed."""
    value = int(digits, base) % _WRAP
    return value - _WRAP if value >= _WRAP >> 1 else value


def _ipv4(text: str) -> str | None:
    """``expand_ip`` of a string without ``:``: the four octets, or None."""
    if re.search(r"[^.0-9]", text):
        return None
    octets = re.findall(r"[0-9]+", text)
    if any(_lua_int(octet, 10) > 255 for octet in octets) or len(octets) > 4:
        return None
    return ".".join(octets + ["0"] * (4 - len(octets)))


def _ipv6(text: str) -> list[str] | None:
    """``expand_ip`` of a string with ``:``: its eight hexadectets, or None."""
    if re.search(r"[^.:0-9a-fA-F]", text):
        return None
    parts = re.findall(r"[.z0-9a-fA-F]+", text.replace("::", ":z:"))
    if not parts:
        raise ScriptError("attempt to index a nil value")
    if "." in parts[-1]:
        mapped = _ipv4(parts[-1])
        if mapped is None:
            return None
        t = [_lua_int(n, 10) for n in mapped.split(".")]
        parts[-1:] = [f"{(256 * t[0] + t[1]) % _WRAP:x}", f"{(256 * t[2] + t[3]) % _WRAP:x}"]
    seen_gap = False
    index = 0
    while index < len(parts):
        part = parts[index]
        if "." in part or (part == "z" and seen_gap):
            return None
        if part == "z":
            seen_gap = True
            parts[index:index + 1] = ["0"] * (1 + max(8 - len(parts), 0))
        elif _lua_int(part, 16) > 65535:
            return None
        index += 1
    return parts if len(parts) <= 8 else None


def is_ip(text: str) -> bool:
    """Whether ``ipOps.ip_to_str(text)`` gives an address: ``ipOps.expand_ip`` accepts
    ``text`` (four dotted numbers at most, missing ones taken as 0; or IPv6 with at most one
    ``::``) and each part then packs into its byte or 16-bit word. Raises :class:`ScriptError`
    where Lua fails: a string of colons and dots with no digit in it, or a part that passed
    ``expand_ip``'s check only because Lua's ``tonumber`` wrapped it around 64 bits."""
    if not text:
        return False
    if ":" not in text:
        expanded = _ipv4(text)
        if expanded is None:
            return False
        if any(int(octet) > 255 for octet in expanded.split(".")):
            raise ScriptError("bad argument #2 to 'pack' (number has no integer representation)")
        return True
    parts = _ipv6(text)
    if parts is None:
        return False
    if any(not 0 <= _lua_int(part, 16) <= 0xFFFF for part in parts):
        raise ScriptError("bad argument #2 to 'pack' (unsigned overflow)")
    return True


def fromdword(value: int) -> str:
    """``ipOps.fromdword``: a 32-bit number as a dotted IPv4 address."""
    return ".".join(str(b) for b in value.to_bytes(4, "big"))


def str_to_ip(data: bytes) -> str | None:
    """``ipOps.str_to_ip``: 4 or 16 bytes as an address, None for any other length."""
    if len(data) == 4:
        return ".".join(str(b) for b in data)
    if len(data) == 16:
        full = ":".join(f"{int.from_bytes(data[i:i + 2], 'big'):x}" for i in range(0, 16, 2))
        full = re.sub(r":[:0]+", "::", full, count=1)
        return re.sub(r"^0::", "::", full, count=1)
    return None
