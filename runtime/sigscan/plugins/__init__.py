"""The version plugins: Nmap's version-category scripts (and ours) as sans-IO exchanges.

Each plugin is a module of this package named after the script it mirrors (``snmp-info`` in
``snmp_info.py``) that defines ``PLUGIN``, a :class:`~sigscan.engine.plugin.Plugin`; shared code
lives in :mod:`sigscan.plugins.lib`, port rules in :mod:`sigscan.plugins.rules`. The plugins are
found by listing the package, so adding one is adding its module.

:func:`selected` gives the plugins a scan runs: ``--profile nmap`` and ``fast`` run exactly the
scripts Nmap 7.93's ``-sV`` runs (``Plugin.nmap``), in name order; names in ``off`` are left out
(``--no-plugin NAME``), and none at all with ``enabled=False`` (``--no-plugins``).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Collection

from sigscan.engine.config import Profile
from sigscan.engine.plugin import Plugin

_NOT_PLUGINS = frozenset({"rules", "lib"})


class UnknownPlugin(ValueError):
    """A plugin name that no module of this package defines."""


def names() -> tuple[str, ...]:
    """Every plugin's name, sorted."""
    return tuple(sorted(info.name.replace("_", "-") for info in pkgutil.iter_modules(__path__)
                        if info.name not in _NOT_PLUGINS))


def load(name: str) -> Plugin:
    """The plugin called ``name`` (``snmp-info``)."""
    if name not in names():
        raise UnknownPlugin(f"no plugin is called {name!r} (sigscan scan --list-plugins lists them)")
    plugin = importlib.import_module(f"{__name__}.{name.replace('-', '_')}").PLUGIN
    if not isinstance(plugin, Plugin) or plugin.name != name:
        raise TypeError(f"{__name__}.{name.replace('-', '_')}.PLUGIN is not the plugin {name!r}")
    return plugin


def selected(profile: Profile, *, off: Collection[str] = (), enabled: bool = True) -> tuple[Plugin, ...]:
    """The plugins a scan with ``profile`` runs (see the module's docstring). Every name in
    ``off`` must be a plugin's (:class:`UnknownPlugin` otherwise)."""
    for name in off:
        if name not in names():
            raise UnknownPlugin(f"no plugin is called {name!r} (sigscan scan --list-plugins lists them)")
    if not enabled:
        return ()
    plugins = (load(name) for name in names() if name not in off)
    return tuple(p for p in plugins if p.nmap or profile not in (Profile.NMAP, Profile.FAST))
