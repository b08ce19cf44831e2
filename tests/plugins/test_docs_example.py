"""The plugin written out in docs/plugins.md works as the page says."""

from __future__ import annotations

import re
from pathlib import Path

from sigscan.engine.config import EngineConfig
from sigscan.engine.events import Closed, Connected, Data, Proto
from sigscan.engine.plugin import NO_SERVICE, Outcome, Plugin, PortView
from sigscan.engine.results import PortState
from sigscan.engine.scripts import FIRST_CONN, PluginRun

PAGE = Path(__file__).resolve().parents[2] / "docs" / "plugins.md"


def test_the_example_plugin_runs() -> None:
    code = re.search(r"```python\n(.*?)```", PAGE.read_text(), re.DOTALL)
    assert code is not None
    namespace: dict[str, object] = {}
    exec(compile(code.group(1), str(PAGE), "exec"), namespace)
    plugin = namespace["PLUGIN"]
    assert isinstance(plugin, Plugin) and not plugin.nmap
    view = PortView("127.0.0.1", 7777, "tcp", PortState.OPEN, "syn-ack", NO_SERVICE)
    assert plugin.rule(view)
    run = PluginRun(plugin, view, proto=Proto.TCP, first_conn=FIRST_CONN, config=EngineConfig(),
                    unix_offset=0.0)
    run.start(0.0)
    run.feed(Connected(FIRST_CONN, 0.1))
    run.feed(Data(FIRST_CONN, 0.2, b"EXAMPLE 2.5\r\n"))
    run.feed(Closed(FIRST_CONN, 0.3))
    assert run.done and isinstance(run.outcome, Outcome)
    assert run.outcome.output == "version 2.5"
    assert run.outcome.version is not None and run.outcome.version.product == "Example"
