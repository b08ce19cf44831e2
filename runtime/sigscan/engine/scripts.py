"""The script phase of one port: version plugins run after its probe phase, as ``nmap -sV`` runs
its version scripts after the service scan.

:class:`PluginRun` drives one plugin's :data:`~sigscan.engine.plugin.Exchange` on the engine's
terms: its steps become :class:`~sigscan.engine.events.Connect`/``Send``/``Close`` actions and a
deadline, the driver's events become its answers. :class:`Detection` puts a
:class:`~sigscan.engine.port.PortEngine` and the plugins together behind the same
``start``/``feed`` interface: when the probe phase reports, it runs the plugins by runlevel
(:func:`runlevels`: a plugin runs after those it depends on, as NSE orders scripts). At the
start of each level it shows the port as it stands to the level's rules (they all see that
same port, as NSE evaluates a level's port rules before any of its scripts runs), runs the
accepted ones one after the other, applies each outcome as ``nmap.set_port_version`` does
(:func:`set_port_version`), and after the last level reports the port.

Under ``Profile.FAST`` a plugin's read timeouts are capped as the probes' waits are
(:meth:`~sigscan.engine.config.EngineConfig.wait`). Whatever a plugin does, the port ends: each run is bounded by its plugin's ``timeout``, by a
count of steps (a plugin that loops without waiting is stopped) and by :data:`READ_LIMIT` bytes
kept per connection; an exception in plugin code ends that run with a note and no change to
the verdict, and the output Nmap prints for a script that raised an error
(:data:`~sigscan.engine.plugin.SCRIPT_ERROR`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from sigscan.engine import tracing
from sigscan.engine.catalog import Catalog
from sigscan.engine.config import EngineConfig, TraceLevel
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
    StartTls,
    Timer,
    TlsFailed,
    TlsReady,
    Trace,
    WaitUntil,
)
from sigscan.engine.plugin import (
    NO_SERVICE,
    SCRIPT_ERROR,
    Clock,
    Exchange,
    Open,
    Opened,
    Outcome,
    Plugin,
    PortView,
    ProbeState,
    Read,
    Reply,
    ReplyEnd,
    Secure,
    Shut,
    Write,
)
from sigscan.engine.port import PortEngine
from sigscan.engine.results import Method, PortResult, ScriptOutput, Service

FIRST_CONN = 1 << 20  # plugin connections are numbered from here, apart from the probe phase's
READ_LIMIT = 1 << 20  # bytes kept unread per connection; more is dropped (a flood)
MAX_STEPS = 100_000  # steps one run may take
SCRIPT_SET = "script-set"  # Nmap's reason for a state a script set


@dataclass(slots=True)
class _Conn:
    udp: bool
    connected: bool = False
    deadline: float | None = None  # while connecting
    chunks: deque[bytes] = field(default_factory=deque)
    size: int = 0
    eof: bool = False
    error: str | None = None
    dropped: int = 0

    def unread(self) -> bytes:
        data = b"".join(self.chunks)
        self.chunks.clear()
        self.size = 0
        return data

    def add(self, data: bytes) -> None:
        room = READ_LIMIT - self.size
        if len(data) > room:
            self.dropped += len(data) - max(room, 0)
            data = data[:max(room, 0)]
        if data:
            self.chunks.append(data)
            self.size += len(data)


class PluginRun:
    """One plugin's run on one port, sans I/O (see the module's docstring).

    ``start(now)`` and ``feed(event)`` return actions (never a ``WaitUntil``: :attr:`deadline`
    says when a :class:`Timer` is due). When :attr:`done`, :attr:`outcome` holds what the plugin
    returned (None: nothing, or it failed) and :attr:`notes` what happened."""

    def __init__(self, plugin: Plugin, view: PortView, *, proto: Proto, first_conn: int,
                 config: EngineConfig, unix_offset: float) -> None:
        self.plugin, self.view, self.proto, self.config = plugin, view, proto, config
        self.unix_offset = unix_offset  # wall clock = now + unix_offset
        self.notes: list[str] = []
        self.outcome: Outcome | None = None
        self.done = False
        self.next_conn = first_conn
        self._conns: dict[int, _Conn] = {}
        self._tracing = config.trace is not TraceLevel.OFF
        self._gen: Exchange | None = None
        self._waiting: Open | Secure | Read | None = None
        self._waiting_conn: int | None = None
        self._read_deadline: float | None = None
        self._end: float = 0.0
        self._steps = 0
        self._out: list[Action] = []

    @property
    def deadline(self) -> float | None:
        if self.done:
            return None
        times = [self._end]
        if self._read_deadline is not None:
            times.append(self._read_deadline)
        times.extend(c.deadline for c in self._conns.values() if c.deadline is not None)
        return min(times)

    def _say(self, what: str | None = None) -> None:
        """A trace line (only called when tracing): the step ``what``, or the start."""
        view = self.view
        if what is None:
            self._out.append(Trace(tracing.plugin_started(self.plugin.name, view.host, view.port)))
        else:
            self._out.append(Trace(tracing.plugin_step(self.plugin.name, view.host, view.port, what)))

    def start(self, now: float) -> list[Action]:
        self._end = now + self.plugin.timeout
        if self._tracing:
            self._say()
        try:
            self._gen = self.plugin.run(self.view)
        except Exception as error:  # plugin code: a bug or a hostile reply must not end the scan
            self._fail(f"failed to start: {type(error).__name__}: {error}", raised=True)
            return self._flush()
        self._resume(None, now)
        return self._flush()

    def feed(self, event: Event) -> list[Action]:
        if self.done:
            return []
        if isinstance(event, Timer):
            self._timer(event.now)
        else:
            conn = self._conns.get(event.conn)
            if conn is not None:
                self._conn_event(event.conn, conn, event)
        return self._flush()

    # -- events --------------------------------------------------------------------------------

    def _conn_event(self, number: int, conn: _Conn, event: Event) -> None:
        now = event.now
        if isinstance(event, Connected | TlsReady):
            conn.connected, conn.deadline = True, None
            subject = event.subject if isinstance(event, TlsReady) else None
            if self._waiting_conn == number and isinstance(self._waiting, Open | Secure):
                self._answer(Opened(number, subject=subject), now)
        elif isinstance(event, ConnectFailed | TlsFailed):
            if isinstance(event, TlsFailed) and conn.connected:  # a STARTTLS that failed
                self._shut(number)
            else:
                del self._conns[number]
            if self._waiting_conn == number and isinstance(self._waiting, Open | Secure):
                self._answer(Opened(None, event.error), now)
        elif isinstance(event, Data):
            conn.add(event.data)
            self._check_read(number, conn, now)
        elif isinstance(event, Closed):
            conn.eof = True
            self._check_read(number, conn, now)
        elif isinstance(event, Reset):
            conn.error = event.error
            self._check_read(number, conn, now)

    def _check_read(self, number: int, conn: _Conn, now: float) -> None:
        step = self._waiting
        if isinstance(step, Read) and step.conn == number:
            reply = self._reply(step, conn, timed_out=False)
            if reply is not None:
                self._answer(reply, now)

    def _timer(self, now: float) -> None:
        if now >= self._end:
            self._fail(f"stopped after {self.plugin.timeout:g} s")
            return
        for number, conn in list(self._conns.items()):
            if conn.deadline is not None and conn.deadline <= now:
                del self._conns[number]
                self._out.append(Close(number))
                if self._waiting_conn == number and isinstance(self._waiting, Open | Secure):
                    self._answer(Opened(None, "ETIMEDOUT"), now)
                    if self.done:
                        return
        step = self._waiting
        if isinstance(step, Read) and self._read_deadline is not None and self._read_deadline <= now:
            waited = self._conns.get(step.conn)
            reply = (Reply(b"", ReplyEnd.ERROR, "EBADF") if waited is None
                     else self._reply(step, waited, timed_out=True))
            assert reply is not None
            self._answer(reply, now)

    # -- the plugin's steps --------------------------------------------------------------------

    def _answer(self, answer: object, now: float) -> None:
        if self._tracing:
            self._say_answer(answer)
        self._waiting = self._waiting_conn = None
        self._read_deadline = None
        self._resume(answer, now)

    def _resume(self, answer: object, now: float) -> None:
        """Run the plugin until it waits for an event or ends."""
        gen = self._gen
        assert gen is not None
        while not self.done:
            self._steps += 1
            if self._steps > MAX_STEPS:
                self._fail(f"more than {MAX_STEPS} steps")
                return
            try:
                step = gen.send(answer)
            except StopIteration as stop:
                self._finish(stop.value)
                return
            except Exception as error:  # plugin code: see start()
                self._fail(f"failed: {type(error).__name__}: {error}", raised=True)
                return
            answer = self._step(step, now)
            if self._waiting is not None:
                return

    def _say_answer(self, answer: object) -> None:
        if isinstance(answer, Reply):
            error = f" ({answer.error})" if answer.error else ""
            self._say(f"read {len(answer.data)} bytes, {answer.end.value}{error}")
        elif isinstance(answer, Opened):
            self._say(f"connection {answer.conn} open" if answer.conn is not None
                      else f"connection failed ({answer.error})")

    def _step(self, step: object, now: float) -> object:
        """Carry out ``step``; its answer, or None with :attr:`_waiting` set."""
        if self._tracing:
            self._say_step(step)
        answer = self._do(step, now)
        if self._tracing and self._waiting is None and isinstance(answer, Reply | Opened):
            self._say_answer(answer)
        return answer

    def _say_step(self, step: object) -> None:
        if isinstance(step, Write):
            self._say(f"sending {len(step.data)} bytes on connection {step.conn}")
        elif isinstance(step, Read):
            self._say(f"reading connection {step.conn} (at least {step.at_least} bytes, "
                      f"{step.timeout:g} s)")
        elif isinstance(step, Open):
            self._say(f"connecting{' (TLS)' if step.tls else ''}")
        elif isinstance(step, Shut):
            self._say(f"closing connection {step.conn}")

    def _do(self, step: object, now: float) -> object:
        if isinstance(step, Write):
            if step.conn in self._conns and self._conns[step.conn].connected:
                self._out.append(Send(step.conn, step.data))
            return None
        if isinstance(step, Read):
            conn = self._conns.get(step.conn)
            if conn is None:
                return Reply(b"", ReplyEnd.ERROR, "EBADF")
            reply = self._reply(step, conn, timed_out=False)
            if reply is None:
                self._waiting, self._waiting_conn = step, step.conn
                # the fast profile scales a plugin's waits as it scales the probes' waits
                wait = self.config.wait(max(step.timeout, 0.0), self.config.rtt)
                self._read_deadline = now + wait
            return reply
        if isinstance(step, Open):
            number = self.next_conn
            self.next_conn += 1
            timeout = self.config.ssl_connect_timeout if step.tls else self.config.connect_timeout
            proto = Proto.UDP if step.udp else self.proto
            self._conns[number] = _Conn(proto is Proto.UDP, deadline=now + timeout)
            self._out.append(Connect(number, proto, step.tls, now + timeout))
            self._waiting, self._waiting_conn = step, number
            return None
        if isinstance(step, Secure):
            return self._secure(step, now)
        if isinstance(step, Shut):
            self._shut(step.conn)
            return None
        if isinstance(step, Clock):
            return now + self.unix_offset
        raise TypeError(f"a plugin yielded {step!r}, which is not a step")

    def _secure(self, step: Secure, now: float) -> Opened | None:
        """STARTTLS on an open TCP connection: the answer waits for the handshake."""
        conn = self._conns.get(step.conn)
        if conn is None or conn.udp or not conn.connected or conn.deadline is not None:
            return Opened(None, "EBADF")
        conn.deadline = now + self.config.ssl_connect_timeout
        self._out.append(StartTls(step.conn, conn.deadline))
        self._waiting, self._waiting_conn = step, step.conn
        return None

    def _reply(self, step: Read, conn: _Conn, *, timed_out: bool) -> Reply | None:
        """The answer to ``step`` now, or None if it must wait."""
        if conn.udp and conn.chunks:
            datagram = conn.chunks.popleft()
            conn.size -= len(datagram)
            return Reply(datagram, ReplyEnd.DATA)
        if not conn.udp and conn.size >= max(step.at_least, 1):
            return Reply(conn.unread(), ReplyEnd.DATA)
        if conn.error is not None:
            return Reply(conn.unread(), ReplyEnd.ERROR, conn.error)
        if conn.eof:
            return Reply(conn.unread(), ReplyEnd.EOF)
        if timed_out:
            return Reply(conn.unread(), ReplyEnd.TIMEOUT)
        return None

    def _shut(self, number: int) -> None:
        conn = self._conns.pop(number, None)
        if conn is not None:
            if conn.dropped:
                self.notes.append(f"{self.plugin.name}: {conn.dropped} bytes past "
                                  f"{READ_LIMIT} dropped")
            self._out.append(Close(number))

    def _finish(self, value: object) -> None:
        if value is not None and not isinstance(value, Outcome):
            self._fail(f"returned {type(value).__name__}, not an Outcome")
            return
        self.outcome = value
        self._end_run()

    def _fail(self, why: str, *, raised: bool = False) -> None:
        self.notes.append(f"{self.plugin.name}: {why}")
        self.outcome = Outcome(output=SCRIPT_ERROR) if raised else None
        self._end_run()

    def _end_run(self) -> None:
        if self._tracing:
            outcome = self.outcome
            if outcome is not None and outcome.version is not None:
                v = outcome.version
                self._say(f"sets the version ({outcome.probestate.value}): {v.name} "
                          f"|{v.product or ''}|{v.version or ''}|{v.extrainfo or ''}|")
            if outcome is not None and outcome.state is not None:
                self._say(f"sets the state {outcome.state.value}")
            view = self.view
            self._out.append(Trace(tracing.plugin_finished(self.plugin.name, view.host, view.port)))
        self.done = True
        self._waiting = self._waiting_conn = None
        self._read_deadline = None
        for number in list(self._conns):
            self._shut(number)
        if self._gen is not None:
            self._gen.close()

    def _flush(self) -> list[Action]:
        out, self._out = self._out, []
        return out


def _sane(text: str | None, size: int) -> str | None:
    """Nmap's ``cstringSanityCheck``: cut to ``size`` characters, unprintable ones become ``.``."""
    if text is None:
        return None
    return "".join(c if " " <= c <= "~" else "." for c in text[:size])


def set_port_version(record: Service, state: ProbeState, table_name: str | None) -> Service:
    """The service record after ``nmap.set_port_version(host, port, state)`` with ``record`` as
    ``port.version`` (Nmap's ``PortList::setServiceProbeResults``): method and confidence from
    the state, the name from ``nmap-services`` when none is given and nothing matched, the
    fingerprint dropped on a hard match, every field cut and cleaned."""
    name = record.name
    if state in (ProbeState.HARDMATCHED, ProbeState.SOFTMATCHED):
        method, conf = Method.PROBED, 10
    elif state is ProbeState.TCPWRAPPED:
        method, conf, name = Method.PROBED, 8, name or "tcpwrapped"
    else:
        method, conf, name = Method.TABLE, 3, name or table_name
    cpe = tuple(c for c in (_sane(c, 80) for c in record.cpe) if c is not None)
    return Service(name, method, conf, product=_sane(record.product, 80),
                   version=_sane(record.version, 80), extrainfo=_sane(record.extrainfo, 256),
                   hostname=_sane(record.hostname, 80), ostype=_sane(record.ostype, 32),
                   devicetype=_sane(record.devicetype, 32), cpe=cpe, tunnel=record.tunnel,
                   servicefp=None if state is ProbeState.HARDMATCHED else record.servicefp)


def apply_outcome(result: PortResult, plugin: Plugin, outcome: Outcome,
                  table_name: str | None) -> PortResult:
    """``result`` after ``outcome``: version, state, script output and note."""
    service, state, reason = result.service, result.state, result.reason
    notes = list(result.notes)
    if outcome.version is not None:
        service = set_port_version(outcome.version, outcome.probestate, table_name)
        notes.append(f"{plugin.name}: set the version ({outcome.probestate.value})")
    if outcome.state is not None and outcome.state is not state:
        state, reason = outcome.state, SCRIPT_SET
        notes.append(f"{plugin.name}: set the state {state.value}")
    if outcome.note:
        notes.append(f"{plugin.name}: {outcome.note}")
    scripts = result.scripts
    if outcome.output:
        scripts = (*scripts, ScriptOutput(plugin.name, outcome.output))
    return replace(result, service=service, state=state, reason=reason, scripts=scripts,
                   notes=tuple(notes))


def runlevels(plugins: Sequence[Plugin]) -> list[list[Plugin]]:
    """``plugins`` grouped by NSE's runlevel: 1, or one more than the highest level among the
    plugins it depends on that are there too; each group in the given order."""
    by_name = {p.name: p for p in plugins}
    levels: dict[str, int] = {}

    def level(plugin: Plugin, seen: frozenset[str]) -> int:
        if plugin.name not in levels:
            deps = [by_name[d] for d in plugin.dependencies if d in by_name and d not in seen]
            levels[plugin.name] = 1 + max((level(d, seen | {plugin.name}) for d in deps), default=0)
        return levels[plugin.name]

    grouped: dict[int, list[Plugin]] = {}
    for plugin in plugins:
        grouped.setdefault(level(plugin, frozenset()), []).append(plugin)
    return [grouped[n] for n in sorted(grouped)]


class Detection:
    """A port's probe phase (:class:`PortEngine`) and then its script phase, behind the
    engine's ``start``/``feed`` interface (see the module's docstring)."""

    def __init__(self, engine: PortEngine, plugins: Sequence[Plugin], *,
                 hostname: str | None = None) -> None:
        self.engine, self.plugins, self.hostname = engine, tuple(plugins), hostname
        self._catalog: Catalog = engine.catalog
        self._config: EngineConfig = engine.config
        self._result: PortResult | None = None  # the report, once everything is done
        self._probed: PortResult | None = None  # the probe phase's result
        self._levels: deque[list[Plugin]] = deque(runlevels(self.plugins))
        self._queue: deque[Plugin] = deque()
        self._run: PluginRun | None = None
        self._view: PortView | None = None
        self._next_conn = FIRST_CONN
        self._started: float | None = None
        self._unix_offset = 0.0

    @property
    def proto(self) -> Proto:
        return self.engine.proto

    @property
    def done(self) -> bool:
        return self._result is not None

    @property
    def result(self) -> PortResult | None:
        return self._result

    def start(self, now: float) -> list[Action]:
        self._started = now
        clock = self._config.unix_time_clock
        self._unix_offset = self._config.unix_time - (now if clock is None else clock)
        return self._after(self.engine.start(now), now)

    def feed(self, event: Event) -> list[Action]:
        if self._result is not None:
            return []
        if self._probed is None:
            return self._after(self.engine.feed(event), event.now)
        run = self._run
        if run is None:
            return []
        return self._continue(run.feed(event), event.now)

    def _after(self, actions: list[Action], now: float) -> list[Action]:
        """The probe phase's actions, its report held back for the script phase."""
        report = next((a for a in actions if isinstance(a, Report)), None)
        if report is None:
            return actions
        out = [a for a in actions if not isinstance(a, Report)]
        self._probed = report.result
        return out + self._continue([], now)

    def _next_level(self) -> None:
        """Show the port as it stands to the next runlevel's rules; queue the accepted."""
        result = self._probed
        assert result is not None
        view = PortView(result.host, result.port, result.proto, result.state, result.reason,
                        result.service or NO_SERVICE, intensity=self._config.intensity,
                        excluded=self._catalog.excluded(result.port, Proto(result.proto)),
                        hostname=self.hostname, rpc_programs=self._catalog.rpc)
        self._view = view
        notes: list[str] = []
        for plugin in self._levels.popleft():
            try:
                if plugin.rule(view):
                    self._queue.append(plugin)
            except Exception as error:  # a rule is plugin code too
                notes.append(f"{plugin.name}: port rule failed: {type(error).__name__}: {error}")
        if notes:
            self._probed = replace(result, notes=(*result.notes, *notes))

    def _continue(self, actions: list[Action], now: float) -> list[Action]:
        """Collect the current run's outcome and start the next ones until one waits."""
        out = list(actions)
        while True:
            run = self._run
            if run is not None and not run.done:
                deadline = run.deadline
                if deadline is not None:
                    out.append(WaitUntil(deadline))
                return out
            if run is not None:
                self._collect(run)
                self._run = None
            if not self._queue and self._levels:
                self._next_level()
                continue
            if not self._queue:
                out.append(Report(self._report(now)))
                return out
            plugin = self._queue.popleft()
            assert self._view is not None
            run = PluginRun(plugin, self._view, proto=Proto(self._view.proto),
                            first_conn=self._next_conn, config=self._config,
                            unix_offset=self._unix_offset)
            self._run = run
            out.extend(run.start(now))
            self._next_conn = run.next_conn

    def _collect(self, run: PluginRun) -> None:
        self._next_conn = max(self._next_conn, run.next_conn)
        probed = self._probed
        assert probed is not None
        result = replace(probed, probes=(*probed.probes, run.plugin.name),
                         notes=(*probed.notes, *run.notes))
        if run.outcome is not None:
            result = apply_outcome(result, run.plugin, run.outcome,
                                   self._catalog.table_name(result.port, Proto(result.proto)))
        self._probed = result

    def _report(self, now: float) -> PortResult:
        probed = self._probed
        assert probed is not None
        started = self._started if self._started is not None else now
        self._result = replace(probed, elapsed=now - started)
        return self._result
