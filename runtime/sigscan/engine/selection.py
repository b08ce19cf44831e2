"""Which probe comes next for a port: Nmap's ``ServiceNFO::nextProbe`` (nmap-semantics §4).

Stages: the NULL probe (TCP only), then the probes whose ``ports`` (``sslports`` when tunnelled)
list the port, in file order and whatever their rarity, then the other probes of the protocol in
file order with ``rarity <= intensity``. After a softmatch, only probes whose own lines can
produce the softmatched name are taken, rarity ignored (intensity 9 takes every probe).

A caller that traces passes ``skipped`` to :meth:`ProbeCursor.next`: it hears of every probe of
the current stage passed over, and why (:class:`Skip`); without it nothing more is computed.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

from sigscan.bundle.records import ProbeRecord
from sigscan.engine.catalog import Catalog, probable, rarity
from sigscan.engine.events import Proto


class Skip(enum.Enum):
    """Why a probe of the stage was passed over."""

    SOFTMATCH = "none of its lines gives the softmatched service"
    RARITY = "its rarity is above the intensity"


Skipped = Callable[[ProbeRecord, Skip], None]


class Stage(enum.Enum):
    INITIAL = "initial"
    NULL = "null"
    MATCHING = "matching"  # probes listing the port
    NONMATCHING = "nonmatching"  # the others, by rarity
    FINISHED = "finished"


@dataclass(slots=True)
class ProbeCursor:
    """The position in the probe sequence of one port (copy it to look ahead)."""

    catalog: Catalog
    proto: Proto
    port: int
    intensity: int
    stage: Stage = Stage.INITIAL
    index: int = 0

    def copy(self) -> ProbeCursor:
        return ProbeCursor(self.catalog, self.proto, self.port, self.intensity, self.stage, self.index)

    def reset(self) -> None:
        """Back to the start (the SSL restart)."""
        self.stage, self.index = Stage.INITIAL, 0

    def next(self, tls: bool, softmatched: str | None,
             skipped: Skipped | None = None) -> ProbeRecord | None:
        """Advance to the next probe to send; None when the sequence is over. ``skipped`` hears
        of each probe of the stage passed over on the way (see the module)."""
        dropdown = False
        if self.stage is Stage.INITIAL:
            self.stage = Stage.NULL
            if self.proto is Proto.TCP and self.catalog.null is not None:
                return self.catalog.null
        if self.stage is Stage.NULL:
            self.stage, self.index, dropdown = Stage.MATCHING, 0, True
        if self.stage is Stage.MATCHING:
            found = self._scan(dropdown, lambda p: probable(p, self.port, tls)
                               and self._possible(p, softmatched),
                               None if skipped is None else
                               lambda p: skipped(p, Skip.SOFTMATCH) if probable(p, self.port, tls) else None)
            if found is not None:
                return found
            self.stage, self.index, dropdown = Stage.NONMATCHING, 0, True
        if self.stage is Stage.NONMATCHING:
            found = self._scan(dropdown, lambda p: not probable(p, self.port, tls)
                               and self._allowed(p, softmatched),
                               None if skipped is None else
                               lambda p: None if probable(p, self.port, tls) else skipped(
                                   p, Skip.RARITY if softmatched is None else Skip.SOFTMATCH))
            if found is not None:
                return found
            self.stage = Stage.FINISHED
        return None

    def _scan(self, dropdown: bool, take: Callable[[ProbeRecord], bool],
              passed: Callable[[ProbeRecord], None] | None = None) -> ProbeRecord | None:
        probes = self.catalog.probes[self.proto]
        if not dropdown and self.index < len(probes):
            self.index += 1
        while self.index < len(probes):
            if take(probes[self.index]):
                return probes[self.index]
            if passed is not None:
                passed(probes[self.index])
            self.index += 1
        return None

    def _possible(self, probe: ProbeRecord, softmatched: str | None) -> bool:
        return softmatched is None or self.intensity >= 9 or softmatched in probe.services

    def _allowed(self, probe: ProbeRecord, softmatched: str | None) -> bool:
        if softmatched is None:
            return rarity(probe) <= self.intensity
        return self.intensity >= 9 or softmatched in probe.services
