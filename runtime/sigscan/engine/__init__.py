"""Sans-IO detection engine: one state machine per port (see :mod:`sigscan.engine.port`).

A driver builds one :class:`Catalog` per bundle, then one :class:`PortEngine` per port, feeds it
the events of :mod:`sigscan.engine.events` and performs the actions it returns.
:mod:`sigscan.testing.fake` is a scripted network with a virtual clock for tests.

No asyncio, socket, ssl or time imports here; a test enforces it.
"""

from sigscan.engine.catalog import Catalog
from sigscan.engine.config import EngineConfig, Profile, TraceLevel
from sigscan.engine.events import Proto
from sigscan.engine.port import PortEngine

__all__ = ["Catalog", "EngineConfig", "PortEngine", "Profile", "Proto", "TraceLevel"]
