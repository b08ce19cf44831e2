"""Number-to-name tables that Nmap's scripts carry (BACnet and EtherNet/IP vendor names, CIP
device types), read from the installed script where Nmap is installed.

The tables are registry data the scripts copied in (ASHRAE's BACnet vendor IDs, ODVA's vendor
and device type lists as Wireshark had them); sigscan ships no copy. A plugin that needs one
reads it from the script itself, in ``$NMAPDIR/scripts``, ``/usr/share/nmap/scripts`` or
``/usr/local/share/nmap/scripts``, once per process. Where no Nmap is installed (or the
script is missing or unreadable) the table is empty, and the plugin prints what the script
prints for a number it does not know (``Unknown Vendor Number``).

Only lines of the form ``[NUMBER] = "TEXT",`` between ``local NAME = {`` and the ``}`` that
closes it are read; a file of more than :data:`READ_LIMIT` bytes is not read at all.
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path

READ_LIMIT = 1 << 20  # bytes; bacnet-info.nse, the largest, is 60 kB
DIRS = ("/usr/share/nmap", "/usr/local/share/nmap")
_ENTRY = re.compile(r'^\s*\[(\d{1,9})\]\s*=\s*"([^"\\\n]*)"\s*,?\s*$')


def _script_text(script: str) -> str | None:
    env = os.environ.get("NMAPDIR")
    for folder in ([env] if env else []) + list(DIRS):
        path = Path(folder, "scripts", f"{script}.nse")
        try:
            with path.open("rb") as stream:
                data = stream.read(READ_LIMIT + 1)
        except OSError:
            continue
        if len(data) > READ_LIMIT:
            return None
        return data.decode("utf-8", "replace")
    return None


def parse(text: str, name: str) -> dict[int, str]:
    """The entries of the Lua table ``local NAME = { … }`` in ``text``."""
    table: dict[int, str] = {}
    inside = False
    for line in text.splitlines():
        if not inside:
            inside = re.match(rf"^local {re.escape(name)}\s*=\s*\{{\s*$", line) is not None
            continue
        if line.strip().startswith("}"):
            break
        entry = _ENTRY.match(line)
        if entry:
            table[int(entry.group(1))] = entry.group(2)
    return table


@functools.cache
def table(script: str, name: str) -> dict[int, str]:
    """The table ``name`` of the installed script ``script`` (``bacnet-info``), or {}."""
    text = _script_text(script)
    return parse(text, name) if text is not None else {}
