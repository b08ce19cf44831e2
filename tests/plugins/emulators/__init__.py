"""Loopback emulations of protocols that have no Debian daemon, one module per emulation.

Each module defines ``SERVERS``, a tuple of :class:`~tests.plugins.emulators.base.Server`
(protocol, port, handler), and ``PLUGINS``, the names of the plugins its servers are there for.
:mod:`tests.plugins.emulators.run` starts every module's servers in one process, each module on
its own loopback address (``127.0.0.10`` for the first module by name, then ``.11`` …), so
modules never compete for a port. It runs inside a network namespace the tests make
(:mod:`tests.plugins.conftest`), where the standard port numbers Nmap's port rules look for are
free. Written from each protocol's specification; no Nmap code.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

FIRST_HOST = 10  # the first module listens on 127.0.0.10


def modules() -> list[ModuleType]:
    """Every emulation module, by name."""
    names = sorted(info.name for info in pkgutil.iter_modules(__path__)
                   if info.name not in ("base", "run"))
    return [importlib.import_module(f"{__name__}.{name}") for name in names]


def address_of(index: int) -> str:
    return f"127.0.0.{FIRST_HOST + index}"
