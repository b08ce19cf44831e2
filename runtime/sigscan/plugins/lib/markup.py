"""Text out of XML the way scripts take it with Lua patterns, without an XML parser."""

from __future__ import annotations

import re


def element(body: str, name: str) -> str | None:
    """The text of the first ``<name>…</name>`` with no markup inside (the scripts'
    ``body:match("<name>([^<]*)</name>")``)."""
    found = re.search(f"<{re.escape(name)}>([^<]*)</{re.escape(name)}>", body)
    return found.group(1) if found else None
