"""Nmap's timing templates (``-T0`` … ``-T5``) as sigscan's waits and parallelism, and Nmap's
time values (``500ms``, ``2s``, ``1.5m``, ``1h``).

Nmap 7.93 (``nmap.cc``, ``-T``; ``service_scan.cc``, ``ServiceGroup``) changes, per template:

- the port scan: its parallelism (``-T0``-``-T2`` send one probe at a time), the pause between
  probes (``--scan-delay``: 5 min, 15 s, 0.4 s for ``-T0``-``-T2``), the probe timeout (the
  round-trip timeouts: initial 5 min and 15 s for ``-T0``/``-T1``, at most 1.25 s for ``-T4``
  and 0.3 s for ``-T5``) and the retransmission cap (6 for ``-T4``, 2 for ``-T5``);
- service detection: only the number of services probed at once (``ideal_parallelism``: 1 for
  ``-T0``-``-T2``, 20, 30, 40 for ``-T3``-``-T5``); its connect timeouts and probe waits stay
  as they are (nmap-semantics §5);
- ``-T5`` also sets a 15-minute host timeout.

sigscan's port scan is a connect scan (Nmap's ``-sT``): a probe is a ``connect()``, whose
timeout is the probe timeout, and within which the kernel itself resends the SYN (1 s after the
first, then 2 s later). :data:`TEMPLATES` is the mapping, explained in docs/scan.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

NAMES = ("paranoid", "sneaky", "polite", "normal", "aggressive", "insane")
DEFAULT_LEVEL = 3


class TimingError(ValueError):
    """A timing value that cannot be used (one line, quoting it)."""


@dataclass(frozen=True, slots=True)
class Timing:
    """What a template sets. Times are seconds; ``host_timeout`` None is no timeout.

    ``detection_parallel``: ports in service detection at once (Nmap's ``ideal_parallelism``).
    ``discovery_parallel``: connects in flight during the port scan. ``connect_timeout``: how
    long one connect of the port scan may take. ``scan_delay``: the least time between two
    connects of the port scan. ``retries``: further connects given to a port whose connect got
    no answer."""

    level: int
    detection_parallel: int
    discovery_parallel: int
    connect_timeout: float
    scan_delay: float
    retries: int
    host_timeout: float | None = None


TEMPLATES: dict[int, Timing] = {
    # -T0/-T1: one probe at a time, 5 min / 15 s apart, each given the initial RTT timeout
    # (the kernel gives up on an unanswered SYN after about two minutes, before -T0's 5 min).
    0: Timing(0, detection_parallel=1, discovery_parallel=1, connect_timeout=300.0,
              scan_delay=300.0, retries=0),
    1: Timing(1, detection_parallel=1, discovery_parallel=1, connect_timeout=15.0,
              scan_delay=15.0, retries=0),
    # -T2: one probe at a time, 0.4 s apart, Nmap's default timeouts.
    2: Timing(2, detection_parallel=1, discovery_parallel=1, connect_timeout=3.0,
              scan_delay=0.4, retries=0),
    # -T3: sigscan's defaults. A 3 s connect holds the first SYN and the kernel's resend at
    # 1 s: Nmap's adaptive engine also allows one retransmission until one pays off.
    3: Timing(3, detection_parallel=20, discovery_parallel=128, connect_timeout=3.0,
              scan_delay=0.0, retries=0),
    # -T4: max-rtt-timeout 1.25 s, which still holds the kernel's resend at 1 s.
    4: Timing(4, detection_parallel=30, discovery_parallel=128, connect_timeout=1.25,
              scan_delay=0.0, retries=0),
    # -T5: max-rtt-timeout 0.3 s holds one SYN: one more connect gives the second.
    5: Timing(5, detection_parallel=40, discovery_parallel=128, connect_timeout=0.3,
              scan_delay=0.0, retries=1, host_timeout=900.0),
}


def template(spec: str) -> Timing:
    """The template of ``-T SPEC``: a digit 0-5 or its name (any case), as Nmap reads them."""
    text = spec.strip().lower()
    if text.isdigit() and len(text) == 1 and int(text) in TEMPLATES:
        return TEMPLATES[int(text)]
    if text in NAMES:
        return TEMPLATES[NAMES.index(text)]
    raise TimingError(f"unknown timing template -T {spec!r}: use 0-5 or "
                      + ", ".join(n.capitalize() for n in NAMES))


def seconds(spec: str, *, what: str) -> float:
    """An Nmap time value (``tval2secs``): a number with an optional unit ``ms``, ``s``
    (the default), ``m`` or ``h``; never negative, never infinite."""
    text = spec.strip()
    number, unit = _split_unit(text)
    scale = {"ms": 0.001, "": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0}.get(unit.lower())
    try:
        value = float(number) if scale is not None and number else math.nan
    except ValueError:
        value = math.nan
    if scale is None or not math.isfinite(value) or value < 0:
        raise TimingError(f"{what} {spec!r} is not a time: give a number of seconds, or one "
                          "ending in ms, s, m or h (500ms, 2s, 1.5m)")
    return value * scale


def _split_unit(text: str) -> tuple[str, str]:
    end = len(text)
    while end and text[end - 1].isalpha():
        end -= 1
    return text[:end], text[end:]


def rate(spec: str, *, what: str) -> float:
    """A rate of ``--min-rate``/``--max-rate``: a positive, finite number per second."""
    try:
        value = float(spec)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise TimingError(f"{what} {spec!r} is not a rate: give a positive number per second")
    return value
