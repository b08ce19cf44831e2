"""What Nmap's scripts get from Lua when they read a reply: ``string.byte`` and
``string.unpack`` with Lua's 1-based positions and their errors, the rendering NSE gives a
returned table (``format_table``), and the few formatting helpers the scripts call.

A script that reads past the end of a reply raises a Lua error; NSE then prints
:data:`SCRIPT_ERROR` as the script's output (and whatever the script had already set through
``nmap.set_port_version`` stays). The readers here raise :class:`ScriptError` in exactly those
cases, so a plugin mirrors the script's error too (:mod:`sigscan.plugins.lib.script`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

SCRIPT_ERROR = "ERROR: Script execution failed (use -d to debug)"

Table = Mapping[str, "Value"] | Sequence["Value"]
Value = str | int | Table


class ScriptError(Exception):
    """Where the Lua script raises an error (not an ``nmap.new_try`` exit): NSE ends it and
    prints :data:`SCRIPT_ERROR`."""


def byte(data: bytes, pos: int) -> int | None:
    """``string.byte(data, pos)``: the byte at 1-based ``pos``, None past the end."""
    return data[pos - 1] if 1 <= pos <= len(data) else None


def _start(data: bytes, pos: int) -> int:
    if not 1 <= pos <= len(data) + 1:
        raise ScriptError("bad argument #3 to 'unpack' (initial position out of string)")
    return pos - 1


def _take(data: bytes, pos: int, size: int) -> tuple[bytes, int]:
    start = _start(data, pos)
    if start + size > len(data):
        raise ScriptError("bad argument #2 to 'unpack' (data string too short)")
    return data[start:start + size], pos + size


def unpack_uint(data: bytes, pos: int, size: int, *, big: bool) -> tuple[int, int]:
    """``string.unpack(">I<size>"`` or ``"<I<size>"``; ``B`` is size 1): the number and the
    position after it."""
    raw, after = _take(data, pos, size)
    return int.from_bytes(raw, "big" if big else "little"), after


def unpack_z(data: bytes, pos: int) -> tuple[bytes, int]:
    """``string.unpack("z", data, pos)``: the bytes up to the next NUL, or to the end when none
    follows (Nmap 7.93's Lua reads up to the NUL that ends every Lua string), and the position
    after it."""
    start = _start(data, pos)
    end = data.find(b"\0", start)
    end = len(data) if end < 0 else end
    return data[start:end], end + 2


def unpack_fixed(data: bytes, pos: int, size: int) -> tuple[bytes, int]:
    """``string.unpack("c<size>", data, pos)``."""
    return _take(data, pos, size)


def unpack_s1(data: bytes, pos: int) -> tuple[bytes, int]:
    """``string.unpack("s1", data, pos)``: a string after its one-byte length."""
    size, after = unpack_uint(data, pos, 1, big=True)
    return _take(data, after, size)


def text(data: bytes) -> str:
    """A Lua string as output text: byte for byte (as the framework's other plugins decode)."""
    return data.decode("latin-1")


def escape_output(output: str) -> str:
    """What NSE does to a script's output before any format shows it (seen in Nmap 7.93's
    normal and XML output alike): every byte other than printable ASCII, tab, carriage return
    and line feed becomes ``\\xHH``. A character stands for a byte, as :func:`text` decodes."""
    return "".join(c if " " <= c <= "~" or c in "\t\r\n" else
                   "".join(f"\\x{b:02X}" for b in (bytes((ord(c),)) if ord(c) < 256
                                                   else c.encode("utf-8")))
                   for c in output)


def tohex(data: bytes) -> str:
    """``stdnse.tohex``: lower-case hex digits. (``stdnse.format_mac`` gives the same in Nmap
    7.93: its separator is computed and thrown away.)"""
    return data.hex()


def c_hex(value: int, digits: int) -> str:
    """C's ``printf("%#0.<digits>x", value)``: ``0x`` and at least ``digits`` digits, but no
    ``0x`` for zero (the ``#`` flag adds it to non-zero values only)."""
    body = f"{value:0{digits}x}"
    return f"0x{body}" if value else body


def tostring(value: Value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)


def format_table(value: Value, indent: str = "  ") -> str:
    """NSE's rendering of a returned table (``nse_main.lua`` ``format_table``): each list item
    and then each named entry on a line of its own, ``key: value``, nested tables indented by
    two more spaces. A mapping stands for ``stdnse.output_table()`` (its entries in the order
    they were first set), a sequence for a table of integer keys."""
    if isinstance(value, Mapping):
        return "".join(f"\n{indent}{key}: {format_table(item, indent + '  ')}"
                       for key, item in value.items())
    if isinstance(value, Sequence) and not isinstance(value, str):
        return "".join(f"\n{indent}{format_table(item, indent + '  ')}" for item in value)
    return tostring(value)
