"""ISAKMP/IKEv1 (RFC 2408, RFC 2409) as Nmap's ``ike`` library speaks it, for ``ike-version``.

- :func:`request` builds a Main Mode or Aggressive Mode first message with many transforms
  (RFC 2408 §3.1 header, §3.4 SA, §3.5 proposal, §3.6 transform; RFC 2409 §5 and §A for the
  attribute values; Aggressive Mode adds the key exchange, nonce and identification payloads).
- :func:`parse_response` reads a reply's exchange type and walks its payloads the way the
  library does (only SA, transform, key exchange, ID, hash, nonce and vendor ID are known; the
  walk stops at any other payload type), collecting the vendor IDs as lowercase hex.
- :func:`lookup` matches vendor IDs against Nmap's vendor-ID table, ``ike-fingerprints.lua``:
  its rules (the first vendor row that matches wins, attribute rows are collected, an ordering
  row over all IDs together names the vendor when no single ID did).

The vendor-ID table is Nmap's data (NPSL), so it is not copied here: :func:`fingerprints`
reads it at run time from the installed Nmap (``$NMAPDIR``, then ``/usr/share/nmap`` and
``/usr/local/share/nmap``, under ``nselib/data/``), once, at most :data:`MAX_TABLE` bytes. Its
rows are ``table.insert(fingerprints, {key = 'value', …})`` blocks; a row whose pattern uses
more of Lua's pattern language than anchors, hex digits and ``.`` (none in 7.93) is skipped.
Without the file, :func:`lookup` finds nothing.
"""

from __future__ import annotations

import functools
import os
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path

MAIN, AGGRESSIVE, INFORMATIONAL = 0x02, 0x04, 0x05
EXCHANGE_TYPES = {MAIN: "Main", AGGRESSIVE: "Aggressive", INFORMATIONAL: "Informational"}
PAYLOADS = {0x00: "None", 0x01: "SA", 0x03: "Transform", 0x04: "Key Exchange", 0x05: "ID",
            0x08: "Hash", 0x0A: "Nonce", 0x0D: "VID"}
HEADER = 28

# RFC 2409 appendix A attribute values, as the library writes them (basic TV attributes)
ENCRYPTION = {"des": (0x80010001,), "3des": (0x80010005,), "aes/128": (0x80010007, 0x800E0080),
              "aes/192": (0x80010007, 0x800E00C0), "aes/256": (0x80010007, 0x800E0100)}
AUTH = {"psk": 0x80030001, "rsa": 0x80030003, "Hybrid": 0x8003FADD, "XAUTH": 0x8003FDE9}
HASH = {"md5": 0x80020001, "sha1": 0x80020002}
GROUP = {"768": 0x80040001, "1024": 0x80040002, "1536": 0x80040005}
LIFE = struct.pack(">IQ", 0x800B0001, 0x000C000400007080)  # seconds, 28800
KEY_LENGTH = {1: 96, 2: 128, 5: 192}  # key exchange bytes per Diffie-Hellman group
ID_USER_FQDN = 3
IPPROTO = {"tcp": 6, "udp": 17}

Transform = tuple[str, str, str, str]  # auth, encryption, hash, group


def transforms() -> list[Transform]:
    """ike-version's transforms: each auth, encryption, hash and group, nested in that order."""
    return [(a, e, h, g) for a in AUTH for e in ENCRYPTION for h in HASH for g in GROUP]


def _transform(t: Transform, number: int, total: int) -> bytes:
    auth, encryption, hash_, group = t
    enc = ENCRYPTION[encryption]
    attrs = struct.pack(">III", enc[0], HASH[hash_], AUTH[auth]) + struct.pack(">I", GROUP[group])
    attrs += b"".join(struct.pack(">I", v) for v in enc[1:]) + LIFE
    following = 0x00 if number == total else 0x03
    return struct.pack(">BxHBBxx", following, 8 + len(attrs), number, 0x01) + attrs


def request(mode: int, port: int, proto: str, diffie: int | None, ident: bytes,
            random: bytes) -> bytes:
    """The library's ``request``: an IKEv1 first message of ``mode`` (:data:`MAIN` or
    :data:`AGGRESSIVE`) offering every :func:`transforms`. ``random`` gives the initiator
    cookie, key exchange data and nonce (at least 8 + 192 + 20 bytes)."""
    listed = transforms()
    body = b"".join(_transform(t, i, len(listed)) for i, t in enumerate(listed, 1))
    extra = b""
    if mode == AGGRESSIVE:
        size = KEY_LENGTH[diffie or 2]
        extra = (struct.pack(">BxH", 0x0A, size + 4) + random[8:8 + size]
                 + struct.pack(">BxH", 0x05, 24) + random[8 + size:28 + size]
                 + struct.pack(">BxHBBH", 0x00, len(ident) + 8, ID_USER_FQDN, IPPROTO[proto], port)
                 + ident)
    header = random[:8] + bytes(8) + struct.pack(
        ">BBBBII", 0x01, 0x10, mode, 0, 0, 48 + len(body) + len(extra))
    sa = struct.pack(">BxHII", 0x04 if mode == AGGRESSIVE else 0x00, 20 + len(body), 1, 1)
    proposal = struct.pack(">BxHBBBB", 0x00, 8 + len(body), 1, 1, 0, len(listed))
    return header + sa + proposal + body + extra


@dataclass(frozen=True, slots=True)
class Response:
    """A reply the library calls useful (``success``): its mode and vendor IDs (None: the
    reply had no vendor ID payload)."""

    mode: str | None
    vids: tuple[str, ...] | None


class Malformed(ValueError):
    """A payload the library's unpacking would fail on (the script then ends with an error)."""


def parse_response(packet: bytes) -> Response | None:
    """The library's ``response``: None unless the packet is longer than 19 bytes and its
    exchange type is not Informational (an unknown type counts as useful, as there)."""
    if len(packet) <= 19 or EXCHANGE_TYPES.get(packet[18]) == "Informational":
        return None
    return Response(EXCHANGE_TYPES.get(packet[18]), _payloads(packet).get("VID"))


def _payloads(packet: bytes) -> dict[str, tuple[str, ...]]:
    """The library's ``extract_payloads``: each known payload's bytes (hex) by type name."""
    found: dict[str, list[str]] = {}
    if len(packet) < HEADER + 1:
        return {}
    name = PAYLOADS.get(packet[16])
    index = HEADER
    while name is not None and name != "None" and index < len(packet):
        if index + 4 > len(packet):
            raise Malformed("payload header cut short")
        following, length = packet[index], struct.unpack_from(">H", packet, index + 2)[0]
        if length < 4 or index + length > len(packet):
            raise Malformed(f"payload length {length}")
        found.setdefault(name, []).append(packet[index + 4:index + length].hex())
        index += length
        name = PAYLOADS.get(following)
    return {k: tuple(v) for k, v in found.items()}


# -- the vendor-ID table ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Row:
    """One row of ``ike-fingerprints.lua``."""

    category: str
    pattern: re.Pattern[str]
    vendor: str | None = None
    version: str | None = None
    ostype: str | None = None
    devicetype: str | None = None
    cpe: str | None = None
    text: str | None = None


MAX_TABLE = 4 << 20  # bytes read of the table (7.93's is 90 kB)
TABLE = Path("nselib/data/ike-fingerprints.lua")
DATA_DIRS = ("/usr/share/nmap", "/usr/local/share/nmap")
_BLOCK_COMMENT = re.compile(r"--\[(=*)\[.*?\]\1\]", re.DOTALL)
_ROW = re.compile(r"table\.insert\(\s*fingerprints\s*,\s*\{(.*?)\}\s*\)", re.DOTALL)
_FIELD = re.compile(r"^\s*(\w+)\s*=\s*(?:'([^'\\\n]*)'|\"([^\"\\\n]*)\"|(nil))\s*,?\s*(?:--.*)?$",
                    re.MULTILINE)
_PLAIN_PATTERN = re.compile(r"^\^?[0-9a-fA-F.]*\$?$")


def parse_table(text: str) -> tuple[Row, ...]:
    """The rows of an ``ike-fingerprints.lua`` text, in order."""
    rows = []
    for block in _ROW.finditer(_BLOCK_COMMENT.sub("", text)):
        values: dict[str, str | None] = {}
        for m in _FIELD.finditer(block.group(1)):
            values[m.group(1)] = m.group(2) if m.group(2) is not None else m.group(3)
        pattern, category = values.get("fingerprint"), values.get("category")
        if pattern is None or category is None or not _PLAIN_PATTERN.match(pattern):
            continue
        rows.append(Row(category, re.compile(pattern), values.get("vendor"), values.get("version"),
                        values.get("ostype"), values.get("devicetype"), values.get("cpe"),
                        values.get("text")))
    return tuple(rows)


def table_path(env: dict[str, str] | None = None) -> Path | None:
    """Where the installed Nmap keeps the table (None: nowhere)."""
    env = dict(os.environ) if env is None else env
    dirs = [env["NMAPDIR"]] if env.get("NMAPDIR") else []
    for folder in (*dirs, *DATA_DIRS):
        path = Path(folder) / TABLE
        if path.is_file():
            return path
    return None


@functools.cache
def fingerprints() -> tuple[Row, ...]:
    """The installed Nmap's vendor-ID table, read once (empty when there is none)."""
    path = table_path()
    if path is None:
        return ()
    try:
        with path.open("rb") as handle:
            return parse_table(handle.read(MAX_TABLE).decode("latin-1"))
    except OSError:
        return ()


@dataclass
class Info:
    """What the library's ``lookup`` finds: the vendor row and the attribute rows."""

    vendor: Row | None = None
    ostype: str | None = None  # the vendor's OS, possibly updated by an ordering row
    attribs: list[Row] = field(default_factory=list)


def lookup(vids: tuple[str, ...], rows: tuple[Row, ...]) -> Info:
    """The library's ``lookup`` over ``rows`` (see the module's docstring)."""
    info = Info()
    for vid in vids:
        for row in rows:
            if not row.pattern.search(vid):
                continue
            if row.category == "vendor":
                if info.vendor is None:
                    info.vendor, info.ostype = row, row.ostype
            elif row.category == "attribute":
                info.attribs.append(row)
                break
    together = "".join(vids)
    for row in rows:
        if row.category != "vid_ordering" or not row.pattern.search(together):
            continue
        if info.vendor is None:
            info.vendor, info.ostype = row, row.ostype
            return info
        if info.vendor.vendor == row.vendor:
            info.ostype = row.ostype
            return info
    return info
