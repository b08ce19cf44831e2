"""How far a scan has got and how long it should still take: :class:`ScanProgress`.

:meth:`sigscan.scanning.scanner.Scanner.progress` takes the snapshot (counters it keeps, the
job queue's length, and :meth:`sigscan.net.driver.Driver.waits`: what each port in detection
has run and still waits for); everything here is arithmetic on it, so a progress line costs the
same whatever the scan's size.

The estimate (:meth:`ScanProgress.remaining`) counts the waits still pending rather than only
the rate so far, which misleads while slow ports hold their slots (a silent port runs every
probe to its timeout, minutes after a banner port is done):

- *detection*: each port in flight still needs at least its engine's pending wait, and, while
  it is younger than the mean detection time of the ports finished so far, the rest of that
  mean; each port not in detection yet (queued for a slot, UDP not queued yet, and the TCP ports
  the connect scan has still to answer for, times the share of open ports it found so far)
  needs the mean. That work spread over the detection slots, but no less than the longest
  pending wait, nor than the mean after the first slot frees when ports wait for one;
- *discovery*: the TCP ports not answered yet, at the rate the connect scan answered so far;
- the estimate is the larger of the two. With nothing to go by yet (no answer from the connect
  scan, nothing in detection), there is none.
"""

from __future__ import annotations

from dataclasses import dataclass

from sigscan.net.driver import PortWait

SERVICE_SCAN = "Service scan"  # Nmap's task names (its ScanProgressMeter's and scantype2str's)
CONNECT_SCAN = "Connect Scan"


@dataclass(frozen=True, slots=True)
class ScanProgress:
    """A scan's state at one moment. Times are seconds; ``elapsed`` since the scan started.

    ``total``/``done``: ports requested and reported (every state). ``open``: ports found open
    so far (the connect scan's open TCP ports, and UDP ports a reply made open). Hosts: to scan,
    begun, and reported. ``detecting``: each port in detection (see
    :class:`~sigscan.net.driver.PortWait`); ``queued``: open ports waiting for one of the
    ``parallel`` detection slots. ``tcp_left``: TCP ports the connect scan has not answered for,
    ``tcp_seen``/``tcp_open`` those it has and how many were open; ``udp_left``: UDP ports not
    handed to detection yet. ``mean_detection``: the mean time of the detections finished so
    far (None before the first)."""

    elapsed: float = 0.0
    total: int = 0
    done: int = 0
    open: int = 0
    hosts: int = 0
    hosts_started: int = 0
    hosts_done: int = 0
    detecting: tuple[PortWait, ...] = ()
    queued: int = 0
    parallel: int = 1
    tcp_left: int = 0
    tcp_seen: int = 0
    tcp_open: int = 0
    udp_left: int = 0
    mean_detection: float | None = None

    @property
    def percent(self) -> float:
        """Ports done, in percent of the ports requested."""
        return 100.0 * min(self.done, self.total) / self.total if self.total else 100.0

    @property
    def rate(self) -> float:
        """Ports done per second so far."""
        return self.done / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def task(self) -> str:
        """What the scan is busy with, in Nmap's words: ``Connect Scan`` while no port has
        reached detection and the connect scan is still going, ``Service scan`` after."""
        if self.tcp_left and not self.detecting and not self.queued and self.mean_detection is None:
            return CONNECT_SCAN
        return SERVICE_SCAN

    def remaining(self) -> float | None:
        """Seconds the scan should still take (see the module), or None when there is nothing
        to go by yet."""
        if self.done >= self.total:
            return 0.0
        if self.tcp_left and not self.tcp_seen:
            return None
        discovery = self.tcp_left * self.elapsed / self.tcp_seen if self.tcp_left else 0.0
        share = self.tcp_open / self.tcp_seen if self.tcp_seen else 0.0
        jobs = self.queued + self.udp_left + self.tcp_left * share
        mean = self.mean_detection
        if mean is None and self.detecting:
            mean = max(w.age + w.wait for w in self.detecting)  # what the oldest will have taken
        if mean is None:
            return discovery if jobs == 0 else None
        left = [max(w.wait, mean - w.age) for w in self.detecting]
        detection = max(max(left, default=0.0), (sum(left) + jobs * mean) / max(self.parallel, 1))
        if jobs >= 1:  # the next one starts at once if a slot is free, else when one frees
            first = min(left) if len(left) >= self.parallel else 0.0
            detection = max(detection, first + mean)
        return max(discovery, detection)
