"""The standard ``dataclasses`` module, imported without importing ``inspect`` before it is used.

``dataclasses`` imports ``inspect`` (which imports ``ast``, ``dis`` and ``tokenize``): about
10 ms of a cold ``sigscan identify`` that loads a bundle and matches one banner in 60. On
Python 3.11 it uses ``inspect`` for one thing only, the signature it writes as the docstring of
a class that has none. So when neither module is loaded yet, ``dataclasses`` is imported with a
stand-in for ``inspect`` that imports the real module on first use of any of its names, and the
stand-in is removed from ``sys.modules`` at once: every other ``import inspect`` gets the real
module, and ``dataclasses`` works as always (through the stand-in). Where a later Python uses
``inspect`` for every class, the stand-in loads it then: slower, never wrong.

A test checks that a cold import of :mod:`sigscan.matcher.verdict` leaves ``inspect`` unloaded and that
dataclasses declared afterwards, with and without a docstring, behave as usual.
"""

import sys
from types import ModuleType


class _Inspect(ModuleType):
    """Stands in for ``inspect`` inside ``dataclasses``: the real module on first attribute."""

    def __getattr__(self, name: str) -> object:
        if sys.modules.get("inspect") is self:  # only while dataclasses is being imported
            del sys.modules["inspect"]
        import inspect

        return getattr(inspect, name)


def _import() -> None:
    if "dataclasses" in sys.modules or "inspect" in sys.modules:
        return
    stand_in = _Inspect("inspect")
    sys.modules["inspect"] = stand_in
    try:
        import dataclasses  # noqa: F401  # binds its name "inspect" to the stand-in
    finally:
        if sys.modules.get("inspect") is stand_in:
            del sys.modules["inspect"]


_import()

from dataclasses import dataclass  # noqa: E402  # after _import, on purpose

__all__ = ["dataclass"]
