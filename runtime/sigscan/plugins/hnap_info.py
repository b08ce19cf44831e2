"""``hnap-info``: what Nmap 7.93's script does, which is to ask and report nothing.

The script checks that missing pages are not answered 200 (``http.identify_404``), fetches
``/HNAP1`` (the Home Network Administration Protocol's device settings) and parses the XML
into a ``stdnse.output_table``; but it then tests ``next(output)``, which looks into the
table's empty proxy rather than the entries, so it always returns before printing or setting
the version. ``nmap -sV`` runs it on every HTTP port (intensity ≥ 7), so this plugin sends
the same requests and, like the script, changes nothing.
"""

from __future__ import annotations

from sigscan.engine.plugin import Exchange, Plugin, PortView
from sigscan.plugins import rules
from sigscan.plugins.lib import http


def rule(view: PortView) -> bool:
    return rules.http(view) and view.intensity >= 7


def run(view: PortView) -> Exchange:
    missing = yield from http.identify_404(view)
    if not missing.all_200:
        yield from http.get(view, "/HNAP1")
    return None


PLUGIN = Plugin("hnap-info", rule, run, timeout=http.budget(5),
                summary="asks for /HNAP1 and, as Nmap 7.93's script does, reports nothing")
