"""IANA's Private Enterprise Numbers as Nmap's scripts name them (``snmp-info``'s
``ENTERPRISE_NUMS``): read from the installed Nmap's ``nselib/data/enterprise_numbers.txt``,
the file NSE's ``datafiles.parse_file`` reads (one ``NUMBER<TAB>name`` a line).

Nmap's data files are not part of sigscan; like ``sigc build``, this looks for them where Nmap
is installed: ``$NMAPDIR``, ``~/.nmap``, ``/usr/share/nmap``, ``/usr/local/share/nmap``. When no
file can be read, every number is named ``unknown``: what ``snmp-info`` itself falls back to
when it cannot parse the file.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path

from sigscan.bundle.files import read_bounded

RELATIVE = Path("nselib") / "data" / "enterprise_numbers.txt"
READ_LIMIT = 16 * 1024 * 1024  # bytes; Nmap 7.93's file is 1.6 MB
UNKNOWN = "unknown"  # snmp-info's name for every number when the file cannot be read
_NUMBER = re.compile(rb"^\d+")


def folders(environ: Mapping[str, str] | None = None) -> list[Path]:
    """Where Nmap's data is looked for, in order."""
    env = os.environ if environ is None else environ
    found = [Path(env["NMAPDIR"])] if env.get("NMAPDIR") else []
    if env.get("HOME"):
        found.append(Path(env["HOME"]) / ".nmap")
    return [*found, Path("/usr/share/nmap"), Path("/usr/local/share/nmap")]


def parse(text: bytes) -> dict[int, str]:
    """``datafiles.parse_file`` with snmp-info's patterns: the number a line starts with, and
    what follows its first tab (a later line for the same number wins)."""
    names: dict[int, str] = {}
    for line in text.split(b"\n"):
        number = _NUMBER.match(line)
        _, tab, name = line.partition(b"\t")
        if number and tab:
            names[int(number.group())] = name.decode("utf-8", "replace")
    return names


@cache
def table() -> dict[int, str] | None:
    """The numbers of the first readable file, or None when there is none (read once)."""
    for folder in folders():
        try:
            return parse(read_bounded(folder / RELATIVE, READ_LIMIT))
        except OSError:
            continue
    return None


def name(number: int) -> str | None:
    """The enterprise called ``number``: None when the file does not list it, ``unknown`` for
    every number when there is no file."""
    names = table()
    return UNKNOWN if names is None else names.get(number)
