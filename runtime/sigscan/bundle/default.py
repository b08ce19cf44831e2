"""Open the bundle a caller names, or, when it names none, the one the command line would use
(:func:`sigscan.bundle.locate.locate`: ``$SIGSCAN_BUNDLE``, ``./build/signatures.db``, the user
data folder). What :func:`sigscan.open_bundle` and :func:`sigscan.scan` do with their ``bundle``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sigscan.bundle.loader import Bundle, open_bundle

if TYPE_CHECKING:
    from os import PathLike


def open_default(path: str | PathLike[str] | None = None) -> Bundle:
    """The bundle at ``path``, or at the default location when ``path`` is None. Raises
    :class:`~sigscan.bundle.errors.BundleError` when there is none or it cannot be used."""
    if path is None:
        from sigscan.bundle.locate import locate  # pathlib and friends: only for the search

        path = locate().path
    return open_bundle(path)
