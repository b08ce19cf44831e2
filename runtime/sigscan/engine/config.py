"""How a :class:`~sigscan.engine.port.PortEngine` behaves: intensity, profile, Nmap's timeouts.

Times are seconds. ``Profile.NMAP`` keeps Nmap 7.93's waits and order exactly. ``Profile.FAST``
races the NULL wait and the first probe on two connections and scales every wait to the connect
round-trip (see :mod:`sigscan.engine.port` for the rules that keep its verdicts equal to NMAP's).
"""

from __future__ import annotations

import datetime
import enum
from dataclasses import dataclass

from sigscan.engine.plugin import Plugin


class Profile(enum.Enum):
    NMAP = "nmap"
    FAST = "fast"


class TraceLevel(enum.IntEnum):
    """How much the engine says in :class:`~sigscan.engine.events.Trace` actions.

    ``EVENTS``: what ``nmap --version-trace`` says (every probe sent, every match taken) plus
    what it leaves to its nsock log or does not say at all (each read and its length, timeouts,
    closes and errors, the TLS restart, probes skipped after a softmatch, how many lines of each
    probe a response was tried against, the port's end). ``LINES`` adds one line per candidate
    line a response was tried against (why it was skipped, or that it did not match) and the
    probes skipped for their rarity."""

    OFF = 0
    EVENTS = 1
    LINES = 2


@dataclass(frozen=True, slots=True)
class EngineConfig:
    """Settings shared by every port of a scan.

    ``intensity``: Nmap's ``--version-intensity`` (0-9). ``rtt``: the measured connect round-trip
    for ``Profile.FAST`` (None: the engine measures its own first TCP connect). ``unix_time`` is
    the wall-clock time (Unix seconds) at which the driver's clock read ``unix_time_clock``; the
    engine derives the fingerprint's ``%Time``/``%D`` from them (``unix_time_clock`` None: the
    ``now`` given to :meth:`PortEngine.start`). ``tz`` is the zone of the fingerprint's date
    (None: local, as Nmap). ``fast_min_wait`` and ``fast_rtt_factor``: a FAST wait is Nmap's wait
    capped to ``max(fast_min_wait, fast_rtt_factor * rtt)``. ``fast_spec_delay`` and
    ``fast_spec_rtt_factor``: FAST opens its second connection (the probe Nmap sends after NULL)
    ``max(fast_spec_delay, fast_spec_rtt_factor * rtt)`` after the NULL connection is up, and only
    if no banner came by then (a banner makes that connection useless). ``trace``: what the engine says in ``Trace`` actions
    (:class:`TraceLevel`; none when ``OFF``, and then no line is even formatted). ``debugging``:
    Nmap's debug level (``-d``); from 1 up, a fingerprint keeps more of each response and grows
    longer, as Nmap's does (:data:`~sigscan.engine.fingerprint.DEBUG_LIMITS`). ``plugins``: the
    version plugins to run after the probe phase (:mod:`sigscan.engine.scripts`;
    :func:`sigscan.plugins.selected` picks them)."""

    intensity: int = 7
    profile: Profile = Profile.NMAP
    nmap_version: str = "7.93"
    platform: str = "x86_64-pc-linux-gnu"
    connect_timeout: float = 5.0
    ssl_connect_timeout: float = 8.0
    rtt: float | None = None
    unix_time: float = 0.0
    unix_time_clock: float | None = None
    tz: datetime.tzinfo | None = None
    fast_min_wait: float = 0.5
    fast_rtt_factor: float = 8.0
    fast_spec_delay: float = 0.01
    fast_spec_rtt_factor: float = 2.0
    plugins: tuple[Plugin, ...] = ()
    trace: TraceLevel = TraceLevel.OFF
    debugging: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.intensity <= 9:
            raise ValueError(f"intensity must be 0-9, not {self.intensity}")
        if self.rtt is not None and self.rtt < 0:
            raise ValueError(f"rtt must not be negative, not {self.rtt}")
        if self.debugging < 0:
            raise ValueError(f"debugging must not be negative, not {self.debugging}")

    def wait(self, nmap_seconds: float, rtt: float | None) -> float:
        """The wait to use where Nmap waits ``nmap_seconds``."""
        if self.profile is Profile.NMAP:
            return nmap_seconds
        scaled = max(self.fast_min_wait, self.fast_rtt_factor * (rtt or 0.0))
        return min(nmap_seconds, scaled)

    def spec_delay(self, rtt: float | None) -> float:
        """How long FAST waits for a banner before opening its second connection."""
        return max(self.fast_spec_delay, self.fast_spec_rtt_factor * (rtt or 0.0))
