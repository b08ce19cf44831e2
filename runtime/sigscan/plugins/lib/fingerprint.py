"""Reading a service fingerprint (``SF-Port…%r(PROBE,LEN,"…")``) back into responses: what
Nmap's ``lpeg-utility`` ``get_response`` and ``parse_fp`` give scripts, quirks included.

Nmap reads a quoted response in two passes. The first (``escaped_quote``) ends the string at
the first unescaped ``"`` and turns ``\\\\`` and ``\\"`` into the character; every other escape is
kept as written. The second (``unescape``) then decodes ``\\t \\r \\n \\0``, ``\\x`` with up to
two hex digits, and ``\\`` before anything else as that character. So a backslash the service
sent (written ``\\\\``) escapes the character after it a second time: a response ``C:\\new``
reads back as ``C:`` + newline + ``ew``. A ``\\x`` with no hex digit after it is an error in
Nmap (``string.char(nil)``), which ends the script that asked: :class:`FingerprintError`.
"""

from __future__ import annotations

import re

_SPECIALS = {"t": 0x09, "r": 0x0D, "n": 0x0A, "0": 0x00}
_HEX = frozenset("0123456789abcdefABCDEF")
_ENTRY = re.compile(r"([^,]+),([0-9A-F]+),")


class FingerprintError(ValueError):
    """A fingerprint Nmap's reader fails on (a script that reads it stops with an error)."""


def _quoted(flat: str, start: int) -> tuple[str, int] | None:
    """The first pass over the quoted string at ``start``: its text and the index after its
    closing quote, or None when there is no complete quoted string there."""
    if not flat.startswith('"', start):
        return None
    out: list[str] = []
    i = start + 1
    while i < len(flat):
        char = flat[i]
        if char == '"':
            return "".join(out), i + 1
        if char == "\\":
            if i + 1 >= len(flat):
                return None
            following = flat[i + 1]
            out.append(following if following in '\\"' else char + following)
            i += 2
            continue
        out.append(char)
        i += 1
    return None


def _unescape(text: str) -> bytes:
    """The second pass (see the module's docstring)."""
    out = bytearray()
    i = 0
    while i < len(text):
        char = text[i]
        if char != "\\":
            out += char.encode("latin-1", "replace")
            i += 1
            continue
        if i + 1 >= len(text):
            break  # a final lone backslash ends the pass
        code = text[i + 1]
        if code in _SPECIALS:
            out.append(_SPECIALS[code])
            i += 2
        elif code == "x":
            end = i + 2
            while end < min(len(text), i + 4) and text[end] in _HEX:
                end += 1
            if end == i + 2:
                raise FingerprintError("a \\x escape without hex digits in the fingerprint")
            out.append(int(text[i + 2:end], 16))
            i = end
        else:
            out += code.encode("latin-1", "replace")
            i += 2
    return bytes(out)


def _flat(fingerprint: str) -> str:
    return fingerprint.replace("\nSF:", "")


def responses(fingerprint: str) -> dict[str, bytes]:
    """Every probe's response in ``fingerprint``, as ``parse_fp`` reads them: from the first
    ``%r(``, entries joined by ``)%r(``, until one does not parse. Empty when none does (Nmap:
    nil)."""
    flat = _flat(fingerprint)
    pos = flat.find("%r(")
    found: dict[str, bytes] = {}
    if pos < 0:
        return found
    pos += 3
    while True:
        entry = _ENTRY.match(flat, pos)
        quoted = _quoted(flat, entry.end()) if entry else None
        if entry is None or quoted is None:
            return found
        text, pos = quoted
        found[entry.group(1)] = _unescape(text)
        if flat.startswith(")%r(", pos):
            pos += 4


def response(fingerprint: str | None, probe: str) -> bytes | None:
    """The response to ``probe`` in ``fingerprint``, or None (``get_response``: the first
    ``PROBE,HEX,`` anywhere in the text, then the quoted string after it)."""
    if not fingerprint:
        return None
    flat = _flat(fingerprint)
    found = re.search(re.escape(probe) + r",[0-9A-Fa-f]+,", flat)
    if found is None:
        return None
    quoted = _quoted(flat, found.end())
    if quoted is None:
        raise FingerprintError(f"no quoted response after {probe} in the fingerprint")
    return _unescape(quoted[0])
