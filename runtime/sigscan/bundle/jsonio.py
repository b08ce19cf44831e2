"""JSON with orjson when it is installed, the standard library otherwise.

Nothing is imported until first use, and :func:`loads` leaves the short JSON values a bundle is
read as (a row, a probe's index) to the standard library: importing orjson costs a cold process
about 15 ms (it loads ``dataclasses``, ``uuid``, ``datetime``), more than it saves on them.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_orjson: Any = None  # the module, False when missing, None before the first look


def _fast() -> Any:
    """orjson, or None when it is not installed (looked up once)."""
    global _orjson
    if _orjson is None:
        try:
            import orjson
        except ImportError:  # pragma: no cover - exercised by the no-orjson test run
            _orjson = False
        else:
            _orjson = orjson
    return _orjson or None


def loads(data: bytes | str) -> Any:
    """The standard library's reading of ``data`` (a bundle's rows and short values)."""
    import json

    return json.loads(data)


def dumps(value: Any) -> bytes:
    """Compact, key-sorted, deterministic JSON as UTF-8 bytes."""
    fast = _fast()
    if fast is not None:
        return fast.dumps(value, option=fast.OPT_SORT_KEYS)  # type: ignore[no-any-return]
    import json

    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
