"""CPE names in both forms: Nmap's CPE 2.2 URIs and CPE 2.3 formatted strings.

Nmap writes CPE 2.2 URIs (``cpe:/a:openbsd:openssh:9.2p1``); CPE 2.3 tools read formatted
strings (``cpe:2.3:a:openbsd:openssh:9.2p1:*:*:*:*:*:*:*``). :func:`to_23` converts as NISTIR
7695 (CPE 2.3 Naming) says: the URI is unbound to a well-formed name (WFN, §6.1.3), which is
bound to a formatted string (§6.2.2). The reverse bindings (:func:`unbind_fs`, §6.2.3, and
:func:`bind_uri`, §6.1.2) are here for the round trip the tests check.

A WFN is a tuple of its eleven attribute values (:data:`ATTRIBUTES` order); each is :data:`ANY`,
:data:`NA` or a string in WFN form: letters, digits and ``_`` as themselves, every other
printable character quoted with ``\\``, and ``?``/``*`` unquoted only as wildcards.

The URI rules, from §6.1.3.2:

- the value is lower-cased; an empty component is ANY, ``-`` alone is NA; components missing at
  the end are ANY;
- ``.``, ``-`` and ``~`` are quoted; ``%xx`` is the character it encodes, quoted; ``%01`` is the
  wildcard ``?`` and ``%02`` the wildcard ``*`` at either end of a value (``%01`` repeated);
- an edition that starts with ``~`` is packed: ``~edition~sw_edition~target_sw~target_hw~other``.

Nmap's CPEs are not always valid URIs: a template's literal text may hold a character a URI
may not (7.93's ``cpe:/h:siemens:315-2pn/dp``), Nmap percent-encodes substitutions in upper case
(``%3A``), and a stray ``%`` is possible. So, where the specification says "error", this module
reads on: a character a URI may not hold stands for itself (quoted), a space becomes ``_``
(as Nmap does to substitutions), a ``%`` that is not followed by two hex digits encoding a
printable character is a literal ``%``, a ``%01``/``%02`` out of place is a literal ``?``/``*``,
and an edition that starts with ``~`` but has other than five ``~``-separated fields is a plain
value (a substitution can start with ``~``). It gives up (None) only on what has no reading: not
``cpe:/``, a character outside printable ASCII, a part other than ``a``, ``h`` or ``o``, more
than seven components.
"""

from __future__ import annotations

import enum
import string

ATTRIBUTES = ("part", "vendor", "product", "version", "update", "edition", "language",
              "sw_edition", "target_sw", "target_hw", "other")
URI_PREFIX = "cpe:/"
FS_PREFIX = "cpe:2.3:"
URI_COMPONENTS = 7  # part .. language; the edition packs the four extended attributes
PACKED = 5  # edition, sw_edition, target_sw, target_hw, other
PARTS = frozenset("aho")


class Logical(enum.Enum):
    """The WFN's logical values."""

    ANY = "ANY"  # ``*`` in a formatted string, empty in a URI
    NA = "NA"  # ``-`` in both


ANY = Logical.ANY
NA = Logical.NA
Value = str | Logical
Wfn = tuple[Value, ...]

_PLAIN = frozenset(string.ascii_lowercase + string.ascii_uppercase + string.digits + "_")
_HEX = frozenset(string.hexdigits)
_WILDCARD = {"%01": "?", "%02": "*"}


# ---------------------------------------------------------------------------------------------
# CPE 2.2 URI -> CPE 2.3 formatted string


def to_23(uri: str) -> str | None:
    """The CPE 2.3 formatted string of a CPE 2.2 URI, or None when it cannot be read as one."""
    wfn = unbind_uri(uri)
    return None if wfn is None else bind_fs(wfn)


def unbind_uri(uri: str) -> Wfn | None:
    """The WFN of a CPE 2.2 URI (NISTIR 7695 §6.1.3, read on as the module says)."""
    if uri[:len(URI_PREFIX)].lower() != URI_PREFIX or not all(" " <= c <= "~" for c in uri):
        return None
    components = uri[len(URI_PREFIX):].split(":")
    if len(components) > URI_COMPONENTS or components[0].lower() not in PARTS:
        return None
    components += [""] * (URI_COMPONENTS - len(components))
    edition, packed = components[5], components[5][1:].split("~")
    if edition.startswith("~") and len(packed) == PACKED:
        extended = [_decode(v) for v in packed]
    else:
        extended = [_decode(edition), ANY, ANY, ANY, ANY]
    base = [_decode(v) for v in components[:5]]
    return (*base, extended[0], _decode(components[6]), *extended[1:])


def _decode(text: str) -> Value:
    """One URI component as a WFN value (§6.1.3.2 ``decode``)."""
    if text == "":
        return ANY
    if text == "-":
        return NA
    text = text.lower()
    out: list[str] = []
    i = 0
    while i < len(text):
        decoded = _percent(text, i) if text[i] == "%" else None
        if decoded is None:
            out.append(_quoted(text[i]))
            i += 1
        else:
            out.append(decoded)
            i += 3
    return "".join(out)


def _percent(text: str, i: int) -> str | None:
    """``%xx`` at ``i`` in WFN form: a wildcard where the specification allows one (else the
    character it stands for), the printable character it encodes, or None (a literal ``%``)."""
    form = text[i:i + 3]
    if len(form) < 3 or not set(form[1:]) <= _HEX:
        return None
    if form in _WILDCARD:
        wildcard = _WILDCARD[form]
        return wildcard if _wildcard_allowed(text, i) else _quoted(wildcard)
    char = chr(int(form[1:], 16))
    return _quoted(char) if " " <= char <= "~" else None


def _wildcard_allowed(text: str, i: int) -> bool:
    """§6.1.3.2: ``%02`` only at either end of the value; ``%01`` at either end, or in a run of
    ``%01`` that reaches one."""
    if i == 0 or i == len(text) - 3:
        return True
    return text[i:i + 3] == "%01" and (_all_percent_01(text[:i]) or _all_percent_01(text[i + 3:]))


def _all_percent_01(text: str) -> bool:
    return len(text) % 3 == 0 and all(text[k:k + 3] == "%01" for k in range(0, len(text), 3))


def _quoted(char: str) -> str:
    """A character as a WFN holds it: letters, digits and ``_`` as themselves, a space as ``_``
    (no CPE form can hold it), any other character quoted."""
    if char in _PLAIN:
        return char
    if char == " ":
        return "_"
    return "\\" + char


def bind_fs(wfn: Wfn) -> str:
    """The formatted string of a WFN (§6.2.2): ``*`` for ANY, ``-`` for NA, values with their
    quoting kept except for ``.``, ``-`` and ``_``."""
    return FS_PREFIX + ":".join(_fs_value(value) for value in wfn)


def _fs_value(value: Value) -> str:
    if value is ANY:
        return "*"
    if value is NA:
        return "-"
    assert isinstance(value, str)
    out: list[str] = []
    i = 0
    while i < len(value):
        if value[i] == "\\" and i + 1 < len(value):
            pair = value[i:i + 2]
            out.append(pair[1] if pair[1] in ".-_" else pair)
            i += 2
        else:
            out.append(value[i])
            i += 1
    return "".join(out)


# ---------------------------------------------------------------------------------------------
# And back, for the round trip


def unbind_fs(fs: str) -> Wfn | None:
    """The WFN of a formatted string (§6.2.3), or None when it is not one."""
    if not fs.startswith(FS_PREFIX):
        return None
    fields = _split_fs(fs[len(FS_PREFIX):])
    if len(fields) != len(ATTRIBUTES):
        return None
    values = [_unbind_fs_value(field) for field in fields]
    return None if any(v is None for v in values) else tuple(v for v in values if v is not None)


def _split_fs(text: str) -> list[str]:
    """The fields of a formatted string: split at every ``:`` that is not quoted."""
    fields, current, i = [], "", 0
    while i < len(text):
        if text[i] == "\\":
            current += text[i:i + 2]
            i += 2
        elif text[i] == ":":
            fields.append(current)
            current, i = "", i + 1
        else:
            current += text[i]
            i += 1
    return [*fields, current]


def _unbind_fs_value(text: str) -> Value | None:
    """§6.2.3 ``unbind_value_fs`` and ``add_quoting``."""
    if text == "*":
        return ANY
    if text == "-":
        return NA
    out: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\":
            out.append(text[i:i + 2])
            i += 2
            continue
        if char in "*?":
            if not _fs_wildcard(text, i):
                return None
            out.append(char)
        else:
            out.append(char if char in _PLAIN else "\\" + char)
        i += 1
    return "".join(out)


def _fs_wildcard(text: str, i: int) -> bool:
    """An unquoted ``*`` at either end; ``?`` in a run at either end."""
    if text[i] == "*":
        return i in (0, len(text) - 1)
    return text[:i].strip("?") == "" or text[i + 1:].strip("?") == ""


def bind_uri(wfn: Wfn) -> str:
    """The CPE 2.2 URI of a WFN (§6.1.2): the extended attributes packed into the edition when
    any is set, trailing empty components dropped."""
    values = [_uri_value(v) for v in wfn]
    edition, extended = values[5], values[7:]
    if any(extended):
        edition = "~" + "~".join([edition, *extended])
    components = [*values[:5], edition, values[6]]
    return (URI_PREFIX + ":".join(components)).rstrip(":")


def _uri_value(value: Value) -> str:
    if value is ANY:
        return ""
    if value is NA:
        return "-"
    assert isinstance(value, str)
    out: list[str] = []
    i = 0
    while i < len(value):
        char = value[i]
        if char == "\\" and i + 1 < len(value):
            quoted = value[i + 1]
            out.append(quoted if quoted in ".-" else f"%{ord(quoted):02x}")
            i += 2
            continue
        out.append({"?": "%01", "*": "%02"}.get(char, char))
        i += 1
    return "".join(out)
