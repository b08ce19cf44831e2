"""What identifying one response gives: Nmap's service fields plus where they came from."""

import json
from dataclasses import dataclass
from typing import Any

FIELD_NAMES = ("product", "version", "extrainfo", "hostname", "ostype", "devicetype")
SSL_PREFIX = "ssl/"


def tunnelled(service: str, soft: bool) -> tuple[str, str | None]:
    """A match line's service as Nmap reports it: ``(name, tunnel)``. A hard match of
    ``ssl/NAME`` is ``NAME`` through an SSL tunnel; anything else is itself, with no tunnel."""
    if soft or not service.startswith(SSL_PREFIX):
        return service, None
    return service[len(SSL_PREFIX):], "ssl"


@dataclass(frozen=True, slots=True)
class Verdict:
    """The first line that matched a response, with its fields filled in, or no match.

    Field names are Nmap's (its XML ``<service>`` attributes). Unset fields are ``None``: a
    field whose template expanded to nothing, or failed (see ``diagnostics``), is unset, as in
    Nmap. Strings hold only printable ASCII: Nmap maps every other byte to ``.``. ``cpe`` holds
    at most one CPE per part, in the order a, h, o.

    ``probe`` is the probe whose line matched (a member of the asked probe's fallback chain, so
    ``NULL`` for a banner matched by a NULL line), ``line`` that line's number in ``source``, the
    file it was read from. ``name`` is the line's service name, and ``tunnel`` None, except for
    a hard match of an ``ssl/NAME`` line, which Nmap reports as ``NAME`` with ``tunnel="ssl"``
    (its ``scanThroughTunnel``; nmap-semantics §6); a ``softmatch ssl/NAME`` keeps its name as
    written, as in Nmap.

    ``diagnostics`` are messages about this response: fields Nmap would fail to fill (its
    ``Warning: Servicescan failed to fill …``), patterns that ran out of time (counted as no
    match), input cut to the matcher's limit.
    """

    name: str | None = None
    product: str | None = None
    version: str | None = None
    extrainfo: str | None = None
    hostname: str | None = None
    ostype: str | None = None
    devicetype: str | None = None
    tunnel: str | None = None
    cpe: tuple[str, ...] = ()
    soft: bool = False
    probe: str | None = None
    line: int | None = None
    source: str | None = None
    diagnostics: tuple[str, ...] = ()

    @property
    def matched(self) -> bool:
        return self.name is not None

    def to_dict(self) -> dict[str, Any]:
        """Plain data, keys in declaration order, lists for tuples."""
        return {
            "name": self.name,
            **{f: getattr(self, f) for f in FIELD_NAMES},
            "tunnel": self.tunnel,
            "cpe": list(self.cpe),
            "soft": self.soft,
            "probe": self.probe,
            "line": self.line,
            "source": self.source,
            "diagnostics": list(self.diagnostics),
        }

    def to_json(self) -> str:
        """One compact JSON object with the same names, in the same order (``name`` is null when
        nothing matched)."""
        return json.dumps(self.to_dict(), separators=(",", ":"))
