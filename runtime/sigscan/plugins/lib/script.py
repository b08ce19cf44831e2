"""A script's run as NSE sees it: what it has set on the port so far, and how it ends.

``nmap.set_port_version`` and ``nmap.set_port_state`` take effect when the script calls them,
so a script that fails after them leaves them set; NSE then prints :data:`SCRIPT_ERROR`
where the script's output would be (an ``nmap.new_try`` exit prints nothing). A plugin written
with :func:`nse_script` gets a :class:`Script` to record those calls in, returns the script's
output (or None), and may raise :class:`~sigscan.plugins.lib.lua.ScriptError` where the Lua
script would fail, or :class:`TryExit` where an ``nmap.new_try`` check ends it; the wrapper
turns all of it into the :class:`Outcome`.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass

from sigscan.engine.plugin import Exchange, Outcome, PortView, ProbeState, Step
from sigscan.engine.results import PortState, Service
from sigscan.plugins.lib.lua import SCRIPT_ERROR, ScriptError, escape_output

ScriptBody = Callable[[PortView, "Script"], Generator[Step, object, str | None]]


class TryExit(Exception):
    """An ``nmap.new_try`` exit: the script ends there, printing nothing (what it set stays)."""


@dataclass(slots=True)
class Script:
    """What a script has set on its port so far (``nmap.set_port_version``,
    ``nmap.set_port_state``)."""

    view: PortView
    version: Service | None = None
    probestate: ProbeState = ProbeState.HARDMATCHED
    state: PortState | None = None

    @property
    def port_version(self) -> Service:
        """``port.version`` as the script's port table holds it."""
        return self.version or self.view.service

    def set_port_version(self, version: Service,
                         probestate: ProbeState = ProbeState.HARDMATCHED) -> None:
        self.version, self.probestate = version, probestate

    def set_port_state(self, state: PortState) -> None:
        self.state = state

    def outcome(self, output: str | None, note: str | None = None) -> Outcome | None:
        """The Outcome of the script's run with ``output`` as it returned it (escaped here as
        NSE escapes it)."""
        if output is None and self.version is None and self.state is None and note is None:
            return None
        return Outcome(output=None if output is None else escape_output(output),
                       version=self.version, probestate=self.probestate, state=self.state,
                       note=note)


def nse_script(body: ScriptBody) -> Callable[[PortView], Exchange]:
    """The plugin ``run`` for ``body`` (see the module's docstring)."""

    def run(view: PortView) -> Exchange:
        script = Script(view)
        try:
            output = yield from body(view, script)
        except ScriptError as error:
            return script.outcome(SCRIPT_ERROR, note=f"the script fails here: {error}")
        except TryExit:
            return script.outcome(None)
        return script.outcome(output)

    return run
