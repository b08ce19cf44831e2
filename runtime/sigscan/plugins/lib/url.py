"""URLs as Nmap's ``url`` library reads and builds them: ``parse`` (RFC 3986 parts, the host
also in ASCII form), ``absolute`` (a reference resolved against a base) and the default ports
of ``http`` and ``https``. Text is handled as Latin-1 strings, one character per byte, as Lua
handles bytes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

DEFAULT_PORTS = {"http": 80, "https": 443}
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.~-")
_SEGMENT_SAFE = _SAFE | frozenset("-_.!~*'():@&=+$,")
_SCHEME = re.compile(r"([A-Za-z0-9][A-Za-z0-9.+-]*):")


@dataclass(frozen=True, slots=True)
class Url:
    """The parts ``url.parse`` gives (None where absent)."""

    scheme: str | None = None
    authority: str | None = None
    userinfo: str | None = None
    host: str | None = None
    port: int | None = None
    path: str = ""
    params: str | None = None
    query: str | None = None
    fragment: str | None = None

    @property
    def ascii_host(self) -> str | None:
        return None if self.host is None else to_ascii(self.host)


def default_port(scheme: str | None) -> int | None:
    return DEFAULT_PORTS.get((scheme or "").lower())


def default_scheme(port: int) -> str | None:
    return next((s for s, p in DEFAULT_PORTS.items() if p == port), None)


def escape(text: str, safe: frozenset[str] = _SAFE) -> str:
    return "".join(c if c in safe else f"%{ord(c):02X}" for c in text)


def unescape(text: str) -> str:
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)


def parse(text: str) -> Url:
    """``url.parse``: unreserved characters decoded, then fragment, scheme (lower-cased),
    authority, query and params split off; the path is what is left."""
    text = _ESCAPE.sub(lambda m: escape(unescape(m.group())), text)
    fragment = None
    if "#" in text:
        text, fragment = text.split("#", 1)
    scheme = None
    found = _SCHEME.match(text)
    if found:
        scheme, text = found.group(1).lower(), text[found.end():]
    authority = None
    if text.startswith("//"):
        end = text.find("/", 2)
        end = len(text) if end < 0 else end
        authority, text = text[2:end], text[end:]
    query = params = None
    if "?" in text:
        text, query = text.split("?", 1)
    if ";" in text:
        text, params = text.split(";", 1)
    parsed = Url(scheme, authority, path=text, params=params, query=query, fragment=fragment)
    if authority is None:
        return parsed
    userinfo = None
    if "@" in authority:
        userinfo, authority = authority.split("@", 1)
    port = None
    digits = re.search(r":(\d+)$", authority)
    if digits:
        port, authority = int(digits.group(1)), authority[:digits.start()]
    return replace(parsed, userinfo=userinfo, port=port, host=authority or None)


def to_ascii(host: str) -> str | None:
    """``idna.toASCII`` for the hosts a URL names: upper-case ASCII letters lowered, each
    label checked as Nmap checks it (no ``-`` first, last, third or fourth), non-ASCII labels
    punycoded. None where Nmap's check fails."""
    labels = []
    for label in host.split("."):
        label = "".join(c.lower() if "A" <= c <= "Z" else c for c in label)
        if label[:1] == "-" or label[-1:] == "-" or label[2:3] == "-" or label[3:4] == "-":
            return None
        if any(ord(c) > 0x7F for c in label):
            try:
                label = "xn--" + label.encode("latin-1").decode("utf-8").encode("punycode").decode("ascii")
            except UnicodeError:
                return None
        labels.append(label)
    return ".".join(labels)


def _fix_dots(path: str) -> str:
    """A final ``.`` or ``..`` segment gets its ``/``."""
    if path == "." or path.endswith("/."):
        return path + "/"
    if path == ".." or path.endswith("/.."):
        return path + "/"
    return path


def absolute_path(base: str, relative: str) -> str:
    """``url.lua``'s ``absolute_path``: ``relative`` against the folder of ``base``, with
    ``.`` and ``..`` segments worked out."""
    path = relative
    if not path.startswith("/"):
        base = _fix_dots(base)
        cut = base.rfind("/") + 1
        path = base[:cut] + _lua_replacement(path, base[cut:])
    segments: list[str] = []
    for segment in _fix_dots(path).split("/"):
        if segment == ".":
            continue
        if segment == "..":
            if len(segments) > 1 or (len(segments) == 1 and segments[0] != ""):
                segments.pop()
            continue
        segments.append(segment)
    return "/".join(segments)


def _build_path(path: str) -> str:
    """``build_path(parse_path(path))``: each segment unescaped, then escaped again."""
    segments = [escape(unescape(s), _SEGMENT_SAFE) for s in path.split("/") if s]
    built = "/".join(segments)
    if path.startswith("/"):
        built = "/" + built
    if segments and path.endswith("/"):
        built += "/"
    return built


def _lua_replacement(template: str, whole: str) -> str:
    """``template`` as a Lua ``gsub`` replacement string for a match ``whole`` with no
    captures: ``%%`` is ``%``, ``%0`` and ``%1`` the match; any other ``%`` is an error in Lua
    (which ends the script: :class:`ValueError`)."""
    if "%" not in template:
        return template
    out, i = [], 0
    while i < len(template):
        if template[i] != "%":
            out.append(template[i])
            i += 1
            continue
        code = template[i + 1:i + 2]
        if code == "%":
            out.append("%")
        elif code in ("0", "1"):
            out.append(whole)
        else:
            raise ValueError(f"invalid use of '%' in a Lua replacement string: {template!r}")
        i += 2
    return "".join(out)


def build(parts: Url) -> str:
    """``url.build``."""
    text = _build_path(parts.path)
    if parts.params is not None:
        text += ";" + parts.params
    if parts.query is not None:
        text += "?" + parts.query
    authority = parts.authority
    if parts.host is not None:
        authority = parts.host + (f":{parts.port}" if parts.port is not None else "")
        if parts.userinfo is not None:
            authority = parts.userinfo + "@" + authority
    if authority is not None:
        text = "//" + authority + text
    if parts.scheme is not None:
        text = parts.scheme + ":" + text
    if parts.fragment is not None:
        text += "#" + parts.fragment
    return text


def absolute(base: str, relative: str) -> str:
    """``url.absolute``: ``relative`` resolved against ``base``."""
    base_parts, parts = parse(base), parse(relative)
    if parts.scheme is not None:
        return relative
    parts = replace(parts, scheme=base_parts.scheme)
    if parts.authority is None:  # (a parsed path is never nil in Lua, so it is always resolved)
        parts = replace(parts, authority=base_parts.authority,
                        path=absolute_path(base_parts.path, parts.path))
    return build(parts)
