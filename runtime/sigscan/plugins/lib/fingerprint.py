"""Reading a service fingerprint (``SF-Port…%r(PROBE,LEN,"…")``) back into responses: what
Nmap's ``lpeg-utility`` ``get_response`` and ``parse_fp`` give scripts."""

from __future__ import annotations

import re

_ENTRY = re.compile(r'%r\(([^,]+),([0-9A-Fa-f]+),"')
_ESCAPES = {"0": b"\0", "a": b"\a", "b": b"\b", "f": b"\f", "n": b"\n", "r": b"\r", "t": b"\t",
            "v": b"\v"}


def _unquote(text: str, start: int) -> bytes:
    """The bytes of the quoted string that begins at ``start`` (after its opening quote), as
    the fingerprint escaped them (``\\xHH``, ``\\0``, ``\\r`` …, ``\\"``, ``\\\\``)."""
    out = bytearray()
    i = start
    while i < len(text):
        char = text[i]
        if char == '"':
            break
        if char == "\\" and i + 1 < len(text):
            code = text[i + 1]
            if code == "x":
                digits = re.match(r"[0-9A-Fa-f]{1,2}", text[i + 2:i + 4])
                if digits:
                    out.append(int(digits.group(), 16))
                    i += 2 + len(digits.group())
                    continue
            out += _ESCAPES.get(code, code.encode("latin-1", "replace"))
            i += 2
            continue
        out += char.encode("latin-1", "replace")
        i += 1
    return bytes(out)


def responses(fingerprint: str) -> dict[str, bytes]:
    """Every probe's response in ``fingerprint`` (``parse_fp``), in order."""
    flat = fingerprint.replace("\nSF:", "")
    return {m.group(1): _unquote(flat, m.end()) for m in _ENTRY.finditer(flat)}


def response(fingerprint: str | None, probe: str) -> bytes | None:
    """The response to ``probe`` in ``fingerprint``, or None (``get_response``)."""
    if not fingerprint:
        return None
    return responses(fingerprint).get(probe)
