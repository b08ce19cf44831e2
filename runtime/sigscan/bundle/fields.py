"""The version-info fields of a match line, with Nmap's buffer sizes."""

from __future__ import annotations

import enum


class Field(enum.Enum):
    """A version field key as written in a match line (``p/…/``, ``cpe:/…/``)."""

    PRODUCT = "p"
    VERSION = "v"
    EXTRAINFO = "i"
    HOSTNAME = "h"
    OSTYPE = "o"
    DEVICETYPE = "d"
    CPE = "cpe"

    @property
    def size(self) -> int:
        """Nmap's buffer for the field; the text must fit with its terminating NUL."""
        return _SIZES[self]

    @property
    def attribute(self) -> str:
        """The name Nmap's XML output (and the Verdict) uses for this field."""
        return _ATTRIBUTES[self]


_SIZES = {
    Field.PRODUCT: 80,
    Field.VERSION: 80,
    Field.EXTRAINFO: 256,
    Field.HOSTNAME: 80,
    Field.OSTYPE: 32,
    Field.DEVICETYPE: 32,
    Field.CPE: 80,
}

_ATTRIBUTES = {
    Field.PRODUCT: "product",
    Field.VERSION: "version",
    Field.EXTRAINFO: "extrainfo",
    Field.HOSTNAME: "hostname",
    Field.OSTYPE: "ostype",
    Field.DEVICETYPE: "devicetype",
    Field.CPE: "cpe",
}
