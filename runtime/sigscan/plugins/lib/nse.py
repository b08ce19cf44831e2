"""What NSE does with the Lua values scripts read and print: Lua 5.3's number conversions
(``tonumber``, ``tostring``), and values made ready for NSE's layout of a table a script
returns (:mod:`sigscan.plugins.lib.output`).

Lua strings are bytes; here they are ``str`` with one character per byte (Latin-1), which is
also how script output reaches the XML writer (bytes past 0x7F written as ``&#xNN;``, as Nmap
writes them). A Lua table is a ``dict`` (string keys, in the order they are printed), a
``list`` (integer keys 1…n) or :data:`NULL` (the empty table ``json.lua`` gives for ``null``).
"""

from __future__ import annotations

import math
import re

_INT = re.compile(r"[ \t\n\v\f\r]*([-+]?)(0[xX][0-9A-Fa-f]+|[0-9]+)[ \t\n\v\f\r]*\Z")
_DEC_FLOAT = re.compile(r"[ \t\n\v\f\r]*[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?[ \t\n\v\f\r]*\Z")
_HEX_FLOAT = re.compile(r"[ \t\n\v\f\r]*([-+]?)0[xX]((?:[0-9A-Fa-f]+\.?[0-9A-Fa-f]*|\.[0-9A-Fa-f]+))"
                        r"(?:[pP]([-+]?[0-9]+))?[ \t\n\v\f\r]*\Z")
_INT_MIN, _INT_SPAN = -(1 << 63), 1 << 64


class _Null:
    """``json.NULL``: an empty table, so it prints as nothing and is true in a condition."""

    _instance: _Null | None = None

    def __new__(cls) -> _Null:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NULL"


NULL = _Null()
Value = str | bool | int | float | _Null | dict[str, "Value"] | list["Value"]


def _wrap(value: int) -> int:
    """A Lua integer: two's complement, 64 bits."""
    return (value - _INT_MIN) % _INT_SPAN + _INT_MIN


def _hex_float(sign: str, mantissa: str, exponent: str | None) -> float:
    whole, _, fraction = mantissa.partition(".")
    value = int(whole or "0", 16) + (int(fraction, 16) / 16 ** len(fraction) if fraction else 0)
    result = math.ldexp(value, int(exponent or "0"))
    return -result if sign == "-" else result


def tonumber(text: str) -> int | float | None:
    """Lua 5.3's ``tonumber`` of a string: a decimal or hexadecimal integer (hexadecimal wraps
    around, decimal past 64 bits becomes a float), else a decimal or hexadecimal float; never
    ``inf`` or ``nan``; surrounding spaces allowed. None when it is no number."""
    found = _INT.match(text)
    if found:
        sign, digits = found.groups()
        if digits[:2] in ("0x", "0X"):
            value = _wrap(int(digits, 16))
            return _wrap(-value) if sign == "-" else value
        value = int(digits)
        value = -value if sign == "-" else value
        if _INT_MIN <= value < -_INT_MIN:
            return value
        return float(value)
    if "n" in text or "N" in text:
        return None
    if _DEC_FLOAT.match(text):
        return float(text.strip(" \t\n\v\f\r"))
    found = _HEX_FLOAT.match(text)
    if found:
        return _hex_float(*found.groups())
    return None


def tostring(value: Value) -> str:
    """Lua 5.3's ``tostring`` of a scalar (``%.14g`` for floats, with ``.0`` when that looks
    like an integer)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan" if math.copysign(1.0, value) > 0 else "-nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        text = f"{value:.14g}"
        return text + ".0" if re.fullmatch(r"-?[0-9]+", text) else text
    if isinstance(value, str):
        return value
    raise TypeError(f"no tostring for a table here: {value!r}")


def lua_string(value: Value | None) -> str | None:
    """``lua_tostring`` as ``nmap.set_port_version`` reads a field: strings and numbers give
    text; anything else (nil, a table, a boolean) nothing."""
    if isinstance(value, bool) or value is None or isinstance(value, dict | list | _Null):
        return None
    return tostring(value)


def printable(value: Value) -> object:
    """``value`` ready for :func:`sigscan.plugins.lib.output.format_table`: scalars as Lua's
    ``tostring`` writes them, :data:`NULL` as the empty table it is."""
    if isinstance(value, dict):
        return {key: printable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [printable(item) for item in value]
    if isinstance(value, _Null):
        return {}
    return tostring(value)
