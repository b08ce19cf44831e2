"""The ``SF-Port…`` fingerprint Nmap prints for a service it could not recognize.

A pure function of the responses (``addToServiceFingerprint`` and ``getServiceFingerprint`` in
Nmap's service_scan.cc; nmap-semantics §8). Checked against fingerprints captured from the
installed ``nmap -sV`` 7.93 (tests/engine/test_fingerprint.py).

- Header ``SF-Port<port>-<TCP|UDP>:V=<version>[%T=SSL]%I=<intensity>%D=<month>/<day>%Time=<unix
  time, uppercase hex>%P=<platform>``, written when the first entry is added (date in local time,
  like Nmap's ``localtime``).
- One ``%r(<probe>,<full length, uppercase hex>,"<escaped bytes>")`` entry per response, in the
  order given; only the first 900 bytes of a response are escaped.
- No entry is added once the text is longer than 2,200 characters (line breaks included).
- With Nmap's debugging on (``-d``, and ``--version-trace``, which raises it), 1,300 bytes of
  each response are escaped and the limit is 10,000 characters (:data:`DEBUG_LIMITS`).
- The text wraps at 74 characters per line: a ``\\nSF:`` is inserted whenever the text (line breaks
  included) has ``74 mod 75`` characters, so every line but the last is exactly 74 characters long
  and a break can fall inside an escape or the header. The final ``;`` is never wrapped.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

WRAP = 74  # characters per line
ESCAPED_BYTES = 900  # bytes of each response that are written
SIZE_LIMIT = 2200  # no entry is added once the fingerprint is longer than this


@dataclass(frozen=True, slots=True)
class Limits:
    """How much of each response a fingerprint escapes, and the length past which it takes no
    more entries."""

    escaped_bytes: int
    size_limit: int


LIMITS = Limits(ESCAPED_BYTES, SIZE_LIMIT)
DEBUG_LIMITS = Limits(1300, 10000)  # Nmap's, when o.debugging is set (addToServiceFingerprint)


def limits(debugging: int) -> Limits:
    """The limits Nmap uses at debug level ``debugging``."""
    return DEBUG_LIMITS if debugging else LIMITS
_BREAK = "\nSF:"
_BACKSLASHED = frozenset(b'\\?"[]().*+$^|')
_NAMED = {0x0D: "\\r", 0x0A: "\\n", 0x09: "\\t"}
_PUNCT = frozenset(range(0x21, 0x30)) | frozenset(range(0x3A, 0x41)) | frozenset(
    range(0x5B, 0x61)) | frozenset(range(0x7B, 0x7F))  # C-locale ispunct


def escape(data: bytes) -> str:
    """Nmap's escaping of response bytes (C locale ``isalnum``/``ispunct``)."""
    out: list[str] = []
    for i, byte in enumerate(data):
        if 0x30 <= byte <= 0x39 or 0x41 <= byte <= 0x5A or 0x61 <= byte <= 0x7A:
            out.append(chr(byte))
        elif byte == 0:
            digit_next = i + 1 < len(data) and 0x30 <= data[i + 1] <= 0x39
            out.append("\\x00" if digit_next else "\\0")
        elif byte in _BACKSLASHED:
            out.append("\\" + chr(byte))
        elif byte in _PUNCT:
            out.append(chr(byte))
        elif byte in _NAMED:
            out.append(_NAMED[byte])
        else:
            out.append(f"\\x{byte:02x}")
    return "".join(out)


def header(port: int, proto: str, *, intensity: int, tls: bool, unix_time: float,
           nmap_version: str = "7.93", platform: str = "x86_64-pc-linux-gnu",
           tz: datetime.tzinfo | None = None) -> str:
    """The ``SF-Port…`` header (unwrapped). ``tz`` None means the local time zone, as Nmap."""
    when = datetime.datetime.fromtimestamp(unix_time, tz)
    if tz is None:
        when = when.astimezone()
    stamp = int(unix_time) & 0xFFFFFFFF
    return (f"SF-Port{port}-{proto.upper()}:V={nmap_version}{'%T=SSL' if tls else ''}"
            f"%I={intensity}%D={when.month}/{when.day}%Time={stamp:X}%P={platform}")


class _Wrapped:
    """Nmap's ``addServiceChar``: appends text, inserting ``\\nSF:`` at every 74th column."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0

    def add(self, text: str) -> None:
        for char in text:
            if self.length % (WRAP + 1) == WRAP:
                self.parts.append(_BREAK)
                self.length += len(_BREAK)
            self.parts.append(char)
            self.length += 1

    def text(self) -> str:
        return "".join(self.parts)


def service_fingerprint(port: int, proto: str, responses: Sequence[tuple[str, bytes]], *,
                        intensity: int, tls: bool, unix_time: float,
                        nmap_version: str = "7.93", platform: str = "x86_64-pc-linux-gnu",
                        tz: datetime.tzinfo | None = None, limits: Limits = LIMITS) -> str:
    """The fingerprint of ``responses`` (probe name, bytes received), in the order the probes
    ran, or ``""`` when none of them holds data (Nmap then has no fingerprint).

    ``unix_time`` is when the first entry was added; ``tz`` the zone for its date (None: the
    local zone, as Nmap); ``limits`` Nmap's (:data:`DEBUG_LIMITS` when it debugs)."""
    out = _Wrapped()
    for probe, data in responses:
        if not data:
            continue
        if out.length > limits.size_limit:
            break
        if out.length == 0:
            out.add(header(port, proto, intensity=intensity, tls=tls, unix_time=unix_time,
                           nmap_version=nmap_version, platform=platform, tz=tz))
        out.add(f'%r({probe},{len(data):X},"')
        out.add(escape(data[:limits.escaped_bytes]))
        out.add('")')
    return out.text() + ";" if out.length else ""
