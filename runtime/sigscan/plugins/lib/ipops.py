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
    if re.search(r"[^.0-9]", text):
        return None
    octets = re.findall(r"[0-9]+", text)
    if any(_lua_int(octet, 10) > 255 for octet in octets) or len(octets) > 4:
        return None
    return ".".join(octets + ["0"] * (4 - len(octets)))


def is_ip(text: str) -> bool:
    """Whether ``ipOps.ip_to_str(text)`` gives an address (``ipOps.expand_ip`` accepts
    ``text``: four dotted numbers at most, missing ones taken as 0; or IPv6 with at most one
    ``::``). Raises :class:`ScriptError` where ``expand_ip`` itself fails in Lua (a string of
    colons and dots with no digit in it)."""
    if not text:
        return False
    if ":" not in text:
        return _ipv4(text) is not None
    if re.search(r"[^.:0-9a-fA-F]", text):
        return False
    parts = re.findall(r"[.z0-9a-fA-F]+", text.replace("::", ":z:"))
    if not parts:
        raise ScriptError("attempt to index a nil value")
    if "." in parts[-1]:
        mapped = _ipv4(parts[-1])
        if mapped is None:
            return False
        t = [_lua_int(n, 10) for n in mapped.split(".")]
        parts[-1:] = [f"{256 * t[0] + t[1]:x}", f"{256 * t[2] + t[3]:x}"]
    seen_gap = False
    index = 0
    while index < len(parts):
        part = parts[index]
        if "." in part or (part == "z" and seen_gap):
            return False
        if part == "z":
            seen_gap = True
            parts[index:index + 1] = ["0"] * (1 + max(8 - len(parts), 0))
        elif _lua_int(part, 16) > 65535:
            return False
        index += 1
    return len(parts) <= 8


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
