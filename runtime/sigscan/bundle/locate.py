"""Where the bundle is when the caller names none.

In order: ``$SIGSCAN_BUNDLE`` (when set, it is the answer, present or not), then
``build/signatures.db`` in the current folder (where ``sigc build`` writes by default), then the
user data folder: ``$XDG_DATA_HOME/sigscan/signatures.db``, by default
``~/.local/share/sigscan/signatures.db`` (where ``sigc build --install`` writes).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sigscan.bundle.errors import BundleError

ENV = "SIGSCAN_BUNDLE"
BUILD_BUNDLE = Path("build") / "signatures.db"
BUILD_ADVICE = "build one with `sigc build` (or `sigc build --install`), or name it with --bundle"


@dataclass(frozen=True, slots=True)
class Located:
    """A bundle path and how it was chosen (for ``sigscan -v``)."""

    path: Path
    reason: str


def user_bundle_path(environ: Mapping[str, str] | None = None) -> Path:
    """``$XDG_DATA_HOME/sigscan/signatures.db``, or ``~/.local/share/sigscan/signatures.db``."""
    env = os.environ if environ is None else environ
    xdg = env.get("XDG_DATA_HOME", "")
    base = Path(xdg) if os.path.isabs(xdg) else Path.home() / ".local" / "share"
    return base / "sigscan" / "signatures.db"


def locate(
    explicit: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Located:
    """The bundle to open. Raises :class:`BundleError` when the chosen path does not exist; what
    is there (a folder, a device, a FIFO, an unreadable file) is told by
    :func:`sigscan.bundle.loader.open_bundle`, which opens it."""
    env = os.environ if environ is None else environ
    if explicit:
        return _existing(Path(explicit), "given with --bundle")
    if env.get(ENV):
        return _existing(Path(env[ENV]), f"from ${ENV}")
    build = (cwd or Path.cwd()) / BUILD_BUNDLE
    if build.is_file():
        return Located(build, f"{BUILD_BUNDLE} in the current folder")
    user = user_bundle_path(env)
    if user.is_file():
        return Located(user, "the user data folder")
    raise BundleError(
        str(user),
        f"no bundle found (looked at ${ENV}, ./{BUILD_BUNDLE} and {user})",
        BUILD_ADVICE,
    )


def _existing(path: Path, reason: str) -> Located:
    if not os.path.lexists(path):
        raise BundleError(str(path), f"no such bundle ({reason})", BUILD_ADVICE)
    return Located(path, reason)
