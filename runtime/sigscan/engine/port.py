"""The detection state machine of one port: :class:`PortEngine`.

It reproduces Nmap 7.93's service scan of one port (``service_scan.cc``; nmap-semantics §4-§9):

- **Order.** TCP starts with the NULL probe; then the probes listing the port, then the others by
  rarity (:mod:`sigscan.engine.selection`). UDP has no NULL probe and keeps one socket.
- **Connections.** Each probe gets a new connection, except the first probe after a NULL probe
  that ended by its wait (or the read cap): it reuses the NULL connection, and the NULL banner
  stays in front of its reply.
- **Reading.** See :mod:`sigscan.engine.run`. A hard match ends the port; the first softmatch is
  kept and narrows the probes that follow; a hard match after it overwrites the fields it sets.
- **Endings.** Timeout: fingerprint, next probe (reusing the NULL connection). EOF: fingerprint,
  then ``tcpwrapped`` if it was the NULL probe with zero bytes within ``tcpwrappedms``, else the
  next probe on a new connection. ``ECONNRESET``/``ECONNREFUSED``/``ECONNABORTED``: the same as
  EOF but no fingerprint entry (verified with nmap 7.93: a banner then a reset during the NULL
  probe gives neither ``tcpwrapped`` nor a fingerprint). ``EPIPE``, ``EIO`` and the like: next
  probe. Unreachable-class errors, other errors, connect or TLS failures: the port is
  *incomplete*. A port that ends while no byte, no match and no read timeout has been seen is
  ``tcpwrapped`` (Nmap's ``tcpwrap_possible``).
- **SSL.** A hard match ``ssl`` on a plain TCP port restarts detection through TLS (fields,
  softmatch and fingerprint cleared; ``sslports`` instead of ``ports``); ``ssl/NAME`` sets the
  tunnel and strips the prefix.
- **Scripts.** What Nmap's version scripts do after this (``rpc-grind`` on an ``rpcbind``
  port, …) is the plugins' work: :mod:`sigscan.engine.scripts` runs them after the engine reports.

**Profile FAST** changes two things and keeps every decision above:

1. Every wait is capped to ``max(fast_min_wait, fast_rtt_factor * rtt)`` (``rtt``: the
   configured one, else the first measured TCP connect), Nmap's value staying the ceiling.
2. The NULL probe and the probe Nmap would send next (assuming no softmatch) run at once, on
   two connections. The second one opens ``max(fast_spec_delay, fast_spec_rtt_factor * rtt)``
   after the NULL connection is up, and only if no banner has come by then: on a port that
   greets at once it would be wasted (twice the connections for the same verdict). The second one's outcome is *speculative*: it is used only when Nmap would
   have sent that very probe in that state, on a fresh connection or on a NULL connection that
   stayed silent (so the reply is not glued to a banner); otherwise it is dropped and the probe
   is sent again exactly as Nmap does. NULL's result always comes first, so a banner verdict
   wins over the other connection's.

Known FAST difference: a server that closes silently between the scaled NULL wait and
``tcpwrappedms`` is not ``tcpwrapped`` under FAST (the wait ended first).

**Tracing.** With ``config.trace`` on, the engine also returns :class:`Trace` actions saying
what it does, in the words of :mod:`sigscan.engine.tracing`; each response is then identified
through the matcher's ``explain``, which records the lines tried. With it off (the default) no
line is formatted and responses go through ``identify`` alone. The second connection of the
fast profile holds its lines until its outcome is used, so that the trace reads in the order
Nmap's sequence runs; when it is dropped, one line says so.
"""

from __future__ import annotations

from sigscan.bundle.records import ProbeRecord
from sigscan.engine import tracing
from sigscan.engine.catalog import Catalog, rarity, wait_seconds, wrapped_seconds
from sigscan.engine.config import EngineConfig, Profile, TraceLevel
from sigscan.engine.deductions import Applied, Deductions
from sigscan.engine.events import (
    Action,
    Close,
    Closed,
    Connect,
    Connected,
    ConnectFailed,
    Data,
    Event,
    Proto,
    Report,
    Reset,
    Send,
    Timer,
    TlsFailed,
    TlsReady,
    Trace,
    WaitUntil,
)
from sigscan.engine.fingerprint import limits, service_fingerprint
from sigscan.engine.results import PortResult, PortState
from sigscan.engine.run import READ_CAP, End, ProbeRun
from sigscan.engine.selection import ProbeCursor, Skip, Skipped
from sigscan.engine.verdicts import (
    LIKE_EOF,
    NEXT_PROBE,
    UNREACHABLE,
    Final,
    fingerprint_shown,
    service,
)
from sigscan.matcher.verdict import Verdict

DEFAULT_CONFIG = EngineConfig()
ConnEvent = Connected | TlsReady | ConnectFailed | TlsFailed | Data | Closed | Reset
_DEFAULT_REASON = {PortState.OPEN: {Proto.TCP: "syn-ack", Proto.UDP: "udp-response"},
                   PortState.OPEN_FILTERED: {Proto.TCP: "no-response", Proto.UDP: "no-response"}}


class PortEngine:
    """Service detection of one port, sans I/O: feed it events, perform the actions it returns.

    ``start(now)`` returns the first actions; ``feed(event)`` the actions an event causes. Every
    call that leaves the engine running ends with a :class:`WaitUntil` (the earliest deadline it
    needs a :class:`Timer` for). The last action is a :class:`Report`; :attr:`done` is then true,
    :attr:`result` holds the :class:`PortResult`, and later events are ignored.

    Connections: every connection the engine opens gets exactly one :class:`Close`, except one
    that failed (``ConnectFailed``/``TlsFailed``); a ``Close`` may come while it is still
    connecting (cancel it). Events for a connection after its ``Close`` are ignored. Reads
    should be delivered in chunks of at most a few KiB (Nmap matches what it has read so far
    and stops reading at 4096 bytes, so one huge chunk would be matched whole).

    ``reason`` is the port's state reason (default: ``syn-ack`` for open TCP, ``udp-response``
    for open UDP, ``no-response`` for open|filtered); a reply to an open|filtered UDP port makes
    it ``open``/``udp-response``.
    """

    def __init__(self, catalog: Catalog, host: str, port: int, proto: Proto, *,
                 state: PortState = PortState.OPEN, config: EngineConfig = DEFAULT_CONFIG,
                 reason: str | None = None) -> None:
        self.catalog, self.host, self.port, self.proto, self.config = catalog, host, port, proto, config
        self.state = state
        self.reason = reason if reason is not None else _DEFAULT_REASON.get(state, {}).get(proto, "")
        self._cursor = ProbeCursor(catalog, proto, port, config.intensity)
        self._deductions = Deductions()
        self._tunnel: str | None = None
        self._wrap_possible = True
        self._fp: list[tuple[str, bytes]] = []
        self._fp_size = 0
        self._fp_time: float | None = None
        self._sent: list[str] = []
        self._notes: list[str] = []
        self._main: ProbeRun | None = None
        self._spec: ProbeRun | None = None
        # FAST: the probe to open the second connection for, and when (None until NULL connects)
        self._plan: tuple[ProbeRecord, float | None] | None = None
        self._open: dict[int, float] = {}  # connection -> when its Connect was issued
        self._issued = 0
        self._rtt = config.rtt
        self._started: float | None = None
        self._result: PortResult | None = None
        self._out: list[Action] = []
        self._limits = limits(config.debugging)
        self._tracing = config.trace is not TraceLevel.OFF
        self._at = tracing.target(host, port, proto.value) if self._tracing else ""
        self._skips: Skipped | None = self._skipped if self._tracing else None

    # -- public API ----------------------------------------------------------------------------

    @property
    def done(self) -> bool:
        return self._result is not None

    @property
    def result(self) -> PortResult | None:
        return self._result

    def start(self, now: float) -> list[Action]:
        if self._started is not None:
            raise RuntimeError("PortEngine.start() was already called")
        self._started = now
        if self.catalog.excluded(self.port, self.proto):
            self._notes.append("port excluded from version detection (Exclude)")
            if self._tracing:
                self._say(tracing.excluded(self._at))
            self._report(Final.EXCLUDED, now)
        else:
            if self._tracing:
                self._say(tracing.starting(self._at))
            self._begin(now)
        return self._flush()

    def feed(self, event: Event) -> list[Action]:
        if self._started is None:
            raise RuntimeError("PortEngine.feed() before start()")
        if self._result is not None:
            return []
        if isinstance(event, Timer):
            self._on_timer(event.now)
        else:
            if not 0 <= event.conn < self._issued:
                raise ValueError(f"event for connection {event.conn}, which this engine never opened")
            if event.conn in self._open:
                self._on_conn_event(event)
        return self._flush()

    # -- the sequence --------------------------------------------------------------------------

    @property
    def _tls(self) -> bool:
        return self._tunnel == "ssl"

    def _begin(self, now: float) -> None:
        """Start the probe sequence (at the start, and again through TLS after ``ssl``)."""
        probe = self._cursor.next(self._tls, None, self._skips)
        if probe is None:
            self._finish(Final.NOMATCH, now)
            return
        self._main = self._connect(probe, now)
        if self.config.profile is Profile.FAST and probe.is_null:
            ahead = self._cursor.copy().next(self._tls, None)
            if ahead is not None:
                self._plan = (ahead, None)

    def _conclude(self, run: ProbeRun, now: float) -> None:
        """Act on a finished run of the current probe, as Nmap's read handler does."""
        self._main = run
        if self._tracing:
            self._say_end(run)
        if run.received:
            self._wrap_possible = False
        self._notes.extend(d for d in run.diagnostics if d not in self._notes)
        if self._apply(run):
            self._hard(run, now)
        elif run.end is End.TIMEOUT or run.end is End.FULL:
            self._wrap_possible = self._wrap_possible and run.end is not End.TIMEOUT
            self._fingerprint(run, now)
            self._advance(run, now, restart=False)
        elif run.end is End.EOF:
            self._fingerprint(run, now)
            self._closed(run, now)
        elif run.end is End.RESET:
            self._reset(run, now)
        else:
            self._notes.append(f"{run.probe.name}: connection failed ({run.error})")
            self._finish(Final.INCOMPLETE, now)

    def _apply(self, run: ProbeRun) -> bool:
        """Record the run's matches in order; whether one was a hard match."""
        for verdict in run.verdicts:
            applied = self._deductions.apply(verdict)
            if applied is Applied.IGNORED and verdict.name != self._deductions.name:
                self._notes.append(f"{run.probe.name}: softmatch {verdict.name} ignored "
                                   f"(already softmatched {self._deductions.name})")
                if self._tracing:
                    self._say(tracing.second_softmatch(self.host, self.port, self._deductions.name or "",
                                                       verdict.name or ""))
            if applied is Applied.HARD:
                return True
        return False

    def _closed(self, run: ProbeRun, now: float) -> None:
        """EOF (or a reset of the same class): ``tcpwrapped`` or the next probe."""
        if run.probe.is_null and not run.buffer and run.elapsed() < wrapped_seconds(run.probe):
            self._finish(Final.TCPWRAPPED, now)
        else:
            self._advance(run, now, restart=True)

    def _reset(self, run: ProbeRun, now: float) -> None:
        error = run.error or "ECONNRESET"
        if self.proto is Proto.UDP and error == "ECONNREFUSED" and self.state is PortState.OPEN_FILTERED:
            # ICMP port unreachable before any reply: Nmap's UDP scan calls the port closed
            # (port-unreach) and probes it no further; there is nothing to wrap or identify
            self.state, self.reason = PortState.CLOSED, "port-unreach"
            self._wrap_possible = False
            self._finish(Final.NOMATCH, now)
        elif error in LIKE_EOF:
            self._closed(run, now)
        elif error in NEXT_PROBE:
            self._advance(run, now, restart=True)
        else:
            if error in UNREACHABLE:
                self._wrap_possible = False
            self._notes.append(f"{run.probe.name}: read error {error}; giving up on the port")
            self._finish(Final.INCOMPLETE, now)

    def _hard(self, run: ProbeRun, now: float) -> None:
        """A hard match: the ``ssl/`` shortcut (an ``ssl/NAME`` line, already split into its
        name and tunnel), the SSL restart, or the end."""
        if self._deductions.tunnel == "ssl":
            self._tunnel = "ssl"
        elif self._deductions.name == "ssl" and self._tunnel is None and self.proto is Proto.TCP:
            self._restart(run, now)
            return
        self._finish(Final.HARDMATCHED, now)

    def _restart(self, run: ProbeRun, now: float) -> None:
        hard = run.hard
        where = f" line {hard.line}" if hard is not None and hard.line is not None else ""
        self._notes.append(f"{run.probe.name}{where}: ssl; detection restarted through TLS")
        if self._tracing:
            self._say(tracing.restart(self._at, run.probe.name, None if hard is None else hard.line))
        self._drop(run)
        self._drop(self._spec)
        self._spec = self._main = None
        self._plan = None
        self._tunnel = "ssl"
        self._deductions.clear()
        self._cursor.reset()
        self._fp.clear()
        self._fp_size, self._fp_time = 0, None
        self._begin(now)

    def _advance(self, run: ProbeRun, now: float, *, restart: bool) -> None:
        """Nmap's ``startNextProbe``: the next probe, on the NULL connection when ``restart`` is
        false and the probe that ended was NULL, else on a new one (UDP: the same socket)."""
        reuse = not restart and run.probe.is_null
        probe = self._cursor.next(self._tls, self._deductions.softmatched, self._skips)
        spec = self._take_spec(probe, glued=reuse and bool(run.buffer))
        if probe is None:
            self._finish(Final.SOFTMATCHED if self._deductions.soft else Final.NOMATCH, now)
        elif spec is not None:
            self._drop(run)
            self._main = spec
            self._notes.append(f"{probe.name}: reply read in parallel with NULL used (profile fast)")
            if spec.held is not None:
                held, spec.held = spec.held, None
                self._say(tracing.parallel_used(probe.name, self._at))
                self._out.extend(Trace(text) for text in held)
            if spec.end is not None:
                self._conclude(spec, now)
        elif reuse or self.proto is Proto.UDP:
            keep = run.buffer if reuse else bytearray()
            self._main = ProbeRun(probe, run.conn, self._wait(probe), self._tls, buffer=keep)
            self._send(self._main, now)
        else:
            self._drop(run)
            self._main = self._connect(probe, now)

    def _take_spec(self, probe: ProbeRecord | None, *, glued: bool) -> ProbeRun | None:
        """The speculative run, if it is exactly what Nmap does next; else it is dropped."""
        spec, self._spec = self._spec, None
        self._plan = None
        if spec is None:
            return None
        if probe is spec.probe and not glued and spec.end is not End.CONNECT_FAILED:
            return spec
        if self._tracing:
            why = ("its connection failed" if spec.end is End.CONNECT_FAILED
                   else "the NULL banner would come before its reply" if glued and probe is spec.probe
                   else "Nmap sends no more probes" if probe is None
                   else f"Nmap sends {probe.name} next")
            self._say(tracing.parallel_dropped(spec.probe.name, self._at, why))
        self._drop(spec)
        return None

    def _finish(self, final: Final, now: float) -> None:
        if self._wrap_possible:
            final = Final.TCPWRAPPED
        for run in (self._main, self._spec):
            self._drop(run)
        self._main = self._spec = None
        self._plan = None
        self._report(final, now)

    # -- connections and events ----------------------------------------------------------------

    def _connect(self, probe: ProbeRecord, now: float) -> ProbeRun:
        conn = self._new_conn(now)
        timeout = self.config.ssl_connect_timeout if self._tls else self.config.connect_timeout
        self._out.append(Connect(conn, self.proto, self._tls, now + timeout))
        return ProbeRun(probe, conn, wait_seconds(probe), self._tls, connect_deadline=now + timeout)

    def _new_conn(self, now: float) -> int:
        conn = self._issued
        self._issued += 1
        self._open[conn] = now
        return conn

    def _drop(self, run: ProbeRun | None) -> None:
        if run is not None:
            self._close(run.conn)

    def _close(self, conn: int) -> None:
        if self._open.pop(conn, None) is not None:
            self._out.append(Close(conn))

    def _wait(self, probe: ProbeRecord) -> float:
        return self.config.wait(wait_seconds(probe), self._rtt)

    def _send(self, run: ProbeRun, now: float) -> None:
        run.wait = self._wait(run.probe)
        payload = run.start(now)
        self._sent.append(run.probe.name)
        if self._tracing:
            self._say(tracing.sending(run.probe.name, self._at), run)
        if payload:
            self._out.append(Send(run.conn, payload))

    def _run_of(self, conn: int) -> ProbeRun | None:
        for run in (self._main, self._spec):
            if run is not None and run.conn == conn and run.end is None:
                return run
        return None

    def _on_conn_event(self, event: ConnEvent) -> None:
        run = self._run_of(event.conn)
        if run is None:
            return
        if isinstance(event, Connected | TlsReady):
            self._connected(run, event)
        elif isinstance(event, ConnectFailed | TlsFailed):
            self._open.pop(event.conn, None)
            run.fail(event.now, End.CONNECT_FAILED, event.error)
        elif isinstance(event, Data):
            if run.started is None:
                raise ValueError(f"data on connection {event.conn} before it connected")
            self._response(event)
            if self._tracing:
                self._traced_data(run, event)
            else:
                run.data(event.now, event.data, lambda buf: self.catalog.identify(run.probe, buf))
        elif isinstance(event, Closed):
            run.fail(event.now, End.EOF)
        else:
            run.fail(event.now, End.RESET, event.error)
        if run.end is not None:
            self._ended(run, event.now)

    def _connected(self, run: ProbeRun, event: Connected | TlsReady) -> None:
        if run.started is not None:
            return
        if self._rtt is None and self.proto is Proto.TCP:
            self._rtt = max(event.now - self._open[run.conn], 0.0)
        if self.proto is Proto.TCP and self.state is not PortState.OPEN:
            self.state, self.reason = PortState.OPEN, "tcp-response"
        if self._plan is not None and self._plan[1] is None and run is self._main:
            self._plan = (self._plan[0], event.now + self.config.spec_delay(self._rtt))
        if isinstance(event, TlsReady) and event.subject and not any(
                n.startswith("TLS certificate subject") for n in self._notes):
            self._notes.append(f"TLS certificate subject: {event.subject}")
        if self._tracing and isinstance(event, TlsReady):
            self._say(tracing.tls_ready(self._at, event.version, event.subject), run)
        self._send(run, event.now)

    def _response(self, event: Data) -> None:
        if self.proto is Proto.UDP and self.state is PortState.OPEN_FILTERED:
            self.state, self.reason = PortState.OPEN, "udp-response"
            if self._tracing:
                self._say(tracing.discovered_open(self.host, self.port, self.proto.value))

    def _ended(self, run: ProbeRun, now: float) -> None:
        if run is self._spec:
            self._close(run.conn)  # its outcome waits for the NULL probe's
            return
        self._conclude(run, now)

    def _on_timer(self, now: float) -> None:
        plan = self._plan
        if plan is not None and plan[1] is not None and plan[1] <= now:
            self._plan = None
            main = self._main
            if main is not None and main.probe.is_null and main.end is None and not main.buffer:
                self._spec = self._connect(plan[0], now)
                if self._tracing:
                    self._say(tracing.parallel(plan[0].name, self._at))
                    self._spec.held = []
        while self._result is None:
            due = [run for run in (self._main, self._spec)
                   if run is not None and run.deadline is not None and run.deadline <= now]
            if not due:
                break
            due[0].timer(now)
            self._ended(due[0], now)

    # -- results -------------------------------------------------------------------------------

    def _fingerprint(self, run: ProbeRun, now: float) -> None:
        """Nmap's ``addToServiceFingerprint`` for a probe that ended unmatched with data."""
        if not run.buffer or self._fp_size > self._limits.size_limit:
            return
        if self._fp_time is None:
            self._fp_time = self._unix(now)
        self._fp.append((run.probe.name, bytes(run.buffer)))
        self._fp_size += min(len(run.buffer), self._limits.escaped_bytes)  # a lower bound of its text

    def _unix(self, now: float) -> float:
        origin = self.config.unix_time_clock
        base = self._started if origin is None else origin
        return self.config.unix_time + (now - (0.0 if base is None else base))

    def _report(self, final: Final, now: float) -> None:
        for conn in list(self._open):
            self._close(conn)
        fingerprint = None
        if self._fp and fingerprint_shown(final, self.config.intensity):
            fingerprint = service_fingerprint(
                self.port, self.proto.value, self._fp, intensity=self.config.intensity,
                tls=self._tls,
                unix_time=self._unix(now) if self._fp_time is None else self._fp_time,
                nmap_version=self.config.nmap_version, platform=self.config.platform,
                tz=self.config.tz, limits=self._limits) or None
        svc = service(final, self._deductions, tunnel=self._tunnel,
                      table_name=self.catalog.table_name(self.port, self.proto),
                      fingerprint=fingerprint)
        self._result = PortResult(
            self.host, self.port, self.proto.value, self.state, self.reason, svc,
            probes=tuple(self._sent), notes=(f"final state: {final.value}", *self._notes),
            elapsed=0.0 if self._started is None else now - self._started)
        if self._tracing:
            self._say(tracing.finished(self._at, final.value, svc.name, len(self._sent),
                                       self._result.elapsed))
        self._out.append(Report(self._result))

    # -- the trace (only called when tracing) ----------------------------------------------------

    def _say(self, text: str, run: ProbeRun | None = None) -> None:
        """One trace line; held back while ``run`` is a parallel run whose outcome is not used
        yet (the fast profile)."""
        if run is not None and run.held is not None:
            run.held.append(text)
        else:
            self._out.append(Trace(text))

    def _skipped(self, probe: ProbeRecord, why: Skip) -> None:
        if why is Skip.SOFTMATCH:
            self._say(tracing.narrowed(probe.name, self._at, self._deductions.softmatched))
        elif self.config.trace >= TraceLevel.LINES:
            self._say(tracing.rare(probe.name, self._at, rarity(probe), self.config.intensity))

    def _traced_data(self, run: ProbeRun, event: Data) -> None:
        """``run.data`` with the matcher's record of each identification, said as it happens."""
        taken = self._deductions.name is not None or bool(run.verdicts)  # Nmap's probe_matched
        explained: list[tuple[Verdict, dict[str, object]]] = []

        def identify(buffer: bytes) -> Verdict:
            verdict, record = self.catalog.explain(run.probe, buffer)
            explained.append((verdict, record))
            return verdict

        run.data(event.now, event.data, identify)
        self._say(tracing.read(run.probe.name, self._at, len(event.data), len(run.buffer)), run)
        lines = self.config.trace >= TraceLevel.LINES
        for verdict, record in explained:
            for text in tracing.attempts(record, len(run.buffer), lines=lines):
                self._say(text, run)
            if verdict.matched and not (verdict.soft and taken):
                self._say(tracing.match(run.probe.name, verdict, self.host, self.port, tls=self._tls), run)

    def _say_end(self, run: ProbeRun) -> None:
        """How a probe's run ended (a hard match says itself)."""
        name, held, after = run.probe.name, len(run.buffer), run.elapsed()
        if run.end is End.TIMEOUT:
            self._say(tracing.timed_out(name, self._at, after, held))
        elif run.end is End.FULL:
            self._say(tracing.stopped(name, self._at, held, READ_CAP))
        elif run.end is End.EOF:
            self._say(tracing.closed(name, self._at, after, held))
        elif run.end is End.RESET:
            self._say(tracing.read_error(name, self._at, run.error or "ECONNRESET", after, held))
        elif run.end is End.CONNECT_FAILED:
            self._say(tracing.connect_failed(name, self._at, run.error or "?", tls=run.tls))

    def _flush(self) -> list[Action]:
        out, self._out = self._out, []
        if self._result is None:
            deadline = self._next_deadline()
            if deadline is not None:
                out.append(WaitUntil(deadline))
        return out

    def _next_deadline(self) -> float | None:
        deadlines = [run.deadline for run in (self._main, self._spec) if run is not None]
        if self._plan is not None:
            deadlines.append(self._plan[1])
        present = [d for d in deadlines if d is not None]
        return min(present) if present else None
