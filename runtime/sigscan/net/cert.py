"""The subject of an X.509 certificate, read from its DER bytes with a minimal DER walker.

The transport keeps the subject of a TLS peer's certificate for the notes of a port. No
verification is done (as Nmap), and the stdlib only decodes certificates it has verified
(``getpeercert()`` is empty then), so the DER form is read here: ``Certificate`` →
``tbsCertificate`` → the sixth field, ``subject``, a sequence of sets of (OID, value).

The text is written as Nmap's ``ssl-cert`` script writes a subject:
``commonName=localhost/organizationName=Example/countryName=US`` (OpenSSL's long names, the
dotted OID for names it does not know). Anything malformed gives None, never an exception.
"""

from __future__ import annotations

from collections.abc import Iterator

_SEQUENCE, _SET, _OID = 0x30, 0x31, 0x06
_VERSION_TAG = 0xA0  # [0] EXPLICIT Version, optional
_NAMES = {
    "2.5.4.3": "commonName",
    "2.5.4.4": "surname",
    "2.5.4.5": "serialNumber",
    "2.5.4.6": "countryName",
    "2.5.4.7": "localityName",
    "2.5.4.8": "stateOrProvinceName",
    "2.5.4.9": "streetAddress",
    "2.5.4.10": "organizationName",
    "2.5.4.11": "organizationalUnitName",
    "2.5.4.12": "title",
    "2.5.4.15": "businessCategory",
    "2.5.4.17": "postalCode",
    "2.5.4.42": "givenName",
    "1.2.840.113549.1.9.1": "emailAddress",
    "0.9.2342.19200300.100.1.25": "domainComponent",
    "1.3.6.1.4.1.311.60.2.1.3": "jurisdictionCountryName",
}
_TEXT_CODECS = {0x0C: "utf-8", 0x13: "ascii", 0x16: "ascii", 0x14: "latin-1",
                0x1E: "utf-16-be", 0x1C: "utf-32-be"}


class _Malformed(ValueError):
    pass


def subject(der: bytes | None) -> str | None:
    """The certificate's subject as ``name=value/…``, or None if ``der`` is not a certificate."""
    if not der:
        return None
    try:
        return _subject(memoryview(der))
    except _Malformed:
        return None


def _subject(der: memoryview) -> str | None:
    certificate = _only(der, _SEQUENCE)
    tbs = next(_items(certificate), None)
    if tbs is None or tbs[0] != _SEQUENCE:
        raise _Malformed("no tbsCertificate")
    fields = list(_items(tbs[1]))
    if fields and fields[0][0] == _VERSION_TAG:
        fields = fields[1:]
    if len(fields) < 5 or fields[4][0] != _SEQUENCE:
        raise _Malformed("no subject")
    parts = [f"{name}={value}" for name, value in _attributes(fields[4][1])]
    return "/".join(parts) or None


def _attributes(name: memoryview) -> Iterator[tuple[str, str]]:
    for tag, rdn in _items(name):
        if tag != _SET:
            raise _Malformed("RDN is not a SET")
        for tag2, pair in _items(rdn):
            if tag2 != _SEQUENCE:
                raise _Malformed("attribute is not a SEQUENCE")
            members = list(_items(pair))
            if len(members) != 2 or members[0][0] != _OID:
                raise _Malformed("attribute is not (OID, value)")
            oid = _oid(members[0][1])
            yield _NAMES.get(oid, oid), _text(*members[1])


def _text(tag: int, value: memoryview) -> str:
    codec = _TEXT_CODECS.get(tag, "latin-1")
    return bytes(value).decode(codec, errors="replace")


def _oid(body: memoryview) -> str:
    if not body:
        raise _Malformed("empty OID")
    arcs: list[int] = []
    value = 0
    for byte in body:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    first = arcs[0]
    head = [0, first] if first < 40 else [1, first - 40] if first < 80 else [2, first - 80]
    return ".".join(str(arc) for arc in head + arcs[1:])


def _only(data: memoryview, tag: int) -> memoryview:
    """The body of the single element ``data`` holds, which must have ``tag``."""
    found, body, _ = _element(data, 0)
    if found != tag:
        raise _Malformed(f"expected tag {tag:#x}, found {found:#x}")
    return body


def _items(data: memoryview) -> Iterator[tuple[int, memoryview]]:
    """The (tag, body) elements that ``data`` holds one after the other."""
    offset = 0
    while offset < len(data):
        tag, body, offset = _element(data, offset)
        yield tag, body


def _element(data: memoryview, offset: int) -> tuple[int, memoryview, int]:
    """The element at ``offset``: its tag, its body and the offset after it."""
    if offset + 2 > len(data):
        raise _Malformed("truncated header")
    tag, length = data[offset], data[offset + 1]
    offset += 2
    if tag & 0x1F == 0x1F:
        raise _Malformed("multi-byte tags are not used in certificates")
    if length & 0x80:
        size = length & 0x7F
        if not 1 <= size <= 4 or offset + size > len(data):
            raise _Malformed("bad length")
        length = int.from_bytes(data[offset:offset + size], "big")
        offset += size
    if offset + length > len(data):
        raise _Malformed("truncated body")
    return tag, data[offset:offset + length], offset + length
