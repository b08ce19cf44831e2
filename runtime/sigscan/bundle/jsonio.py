"""JSON as bundles hold it: read with the standard library, written compact, key-sorted and
deterministic (with orjson when it is installed, the standard library otherwise)."""

from __future__ import annotations

import json
from typing import Any


def loads(data: bytes | str) -> Any:
    """The standard library's reading of ``data`` (a bundle's rows and short values)."""
    return json.loads(data)


def dumps(value: Any) -> bytes:
    """Compact, key-sorted, deterministic JSON as UTF-8 bytes."""
    try:
        import orjson  # optional: only sigc writes JSON this way, and sigc installs it
    except ImportError:  # pragma: no cover - exercised by the no-orjson test run
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
