"""The words of the version trace (``--version-trace``): one function per kind of line.

:class:`~sigscan.engine.port.PortEngine` says what it does in
:class:`~sigscan.engine.events.Trace` actions when its configuration asks for it
(:class:`~sigscan.engine.config.TraceLevel`); these functions write the lines. The engine calls
them only when tracing, so a scan without a trace formats nothing.

Where Nmap 7.93 says something (service_scan.cc, printed under ``--version-trace`` or ``-d2``),
the line is Nmap's, word for word: ``Service scan sending probe NULL to 127.0.0.1:80 (tcp)``,
``Service scan match (Probe GetRequest matched with GetRequest line 10558): 127.0.0.1:80 is
http.  Version: |SimpleHTTPServer|0.6|Python 3.11.7|``, ``Service scan soft match (…)`` and
``Service scan hard match (…)`` for a line that gives no product, version or extra info,
``Starting probes against new service: …``, ``Discovered open|filtered port … is actually
open`` and the warning about a second softmatch. The other lines are sigscan's, in the same
style, for what Nmap leaves to its nsock log (each read and its length, timeouts, closes,
errors, the TLS handshake) or does not say at all: how many lines of a probe a response was
tried against and what the prefilter kept, each candidate line and why it was skipped
(:attr:`~sigscan.engine.config.TraceLevel.LINES`), probes passed over after a softmatch or for
their rarity, the SSL restart, the fast profile's parallel probe, the version plugins' steps, and how the
port ended.

Another part of the engine that wants to say something (a plugin step, say) returns a
``Trace(text)`` among its actions, with a line written here, starting ``Service scan`` and naming
the port with :func:`target`; it does so only when ``config.trace`` is not ``OFF`` and builds
the text only then.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sigscan.matcher.verdict import Verdict


def target(host: str, port: int, proto: str) -> str:
    """``127.0.0.1:80 (tcp)``, as Nmap names a service in its trace."""
    return f"{host}:{port} ({proto})"


def starting(at: str) -> str:
    return f"Starting probes against new service: {at}"


def excluded(at: str) -> str:
    return f"Service scan not probing {at}: the probe file's Exclude directive names it"


def sending(probe: str, at: str) -> str:
    return f"Service scan sending probe {probe} to {at}"


def read(probe: str, at: str, size: int, held: int) -> str:
    """Bytes that arrived for ``probe``; ``held`` is what its response holds now."""
    more = "" if held == size else f" ({held} bytes in its response now)"
    return f"Service scan read {size} bytes from {at} for probe {probe}{more}"


def attempts(trace: dict[str, Any], size: int, *, lines: bool) -> Iterator[str]:
    """What the matcher did with a response of ``size`` bytes (its ``explain`` record): one
    line per member of the probe's fallback chain it was tried against, and with ``lines`` one
    per candidate line."""
    winner = trace.get("winner")
    chain = trace["chain"]
    for member in chain:
        candidates = member["candidates"]
        skipped = sum(1 for c in candidates if c["result"].startswith("skipped"))
        won = winner is not None and member is chain[-1]  # the walk stops at the winner
        searched = len(candidates) - skipped - won
        outcome = f"line {winner['line']} matched" if winner is not None and won else "none matched"
        yield (f"Service scan tried {size} bytes against the {member['lines']} lines of "
               f"{member['probe']}: the prefilter kept {len(candidates)}, {skipped} of them ruled "
               f"out by length or literals, {searched} searched without a match; {outcome}")
        if lines:
            for c in candidates:
                yield f"Service scan   {member['probe']} line {c['line']} (kept by {c['kept_by']}): {c['result']}"


def match(probe: str, verdict: Verdict, host: str, port: int, *, tls: bool) -> str:
    """Nmap's line for a match it takes (a hard match, or the first softmatch)."""
    head = "match" if verdict.product or verdict.version or verdict.extrainfo else (
        "soft match" if verdict.soft else "hard match")
    line = (f"Service scan {head} (Probe {probe} matched with {verdict.probe} line {verdict.line}): "
            f"{host}:{port} is {'SSL/' if tls else ''}{verdict.name}")
    if head != "match":
        return line
    return f"{line}.  Version: |{verdict.product or ''}|{verdict.version or ''}|{verdict.extrainfo or ''}|"


def second_softmatch(host: str, port: int, had: str, now: str) -> str:
    """Nmap's warning for a softmatch to another name after a first one."""
    return (f"WARNING: Service {host}:{port} had already soft-matched {had}, but now soft-matched "
            f"{now}; ignoring second value")


def timed_out(probe: str, at: str, waited: float, held: int) -> str:
    return f"Service scan probe {probe} to {at} timed out after {waited:.2f} s with {held} bytes"


def stopped(probe: str, at: str, held: int, cap: int) -> str:
    why = f"its response holds {cap} bytes or more" if held >= cap else "its time ran out as bytes came"
    return f"Service scan probe {probe} to {at} stops reading: {why} ({held} bytes)"


def closed(probe: str, at: str, after: float, held: int) -> str:
    return (f"Service scan probe {probe} to {at}: the peer closed the connection after "
            f"{after:.2f} s with {held} bytes")


def read_error(probe: str, at: str, error: str, after: float, held: int) -> str:
    return f"Service scan probe {probe} to {at}: read error {error} after {after:.2f} s with {held} bytes"


def connect_failed(probe: str, at: str, error: str, *, tls: bool) -> str:
    return f"Service scan {'TLS ' if tls else ''}connect to {at} for probe {probe} failed: {error}"


def tls_ready(at: str, version: str | None, subject: str | None) -> str:
    details = [f"certificate subject {subject}" if subject else "no certificate subject"]
    if version:
        details.insert(0, version)
    return f"Service scan TLS handshake with {at} done: {', '.join(details)}"


def restart(at: str, probe: str, line: int | None) -> str:
    where = "" if line is None else f" line {line}"
    return f"Service scan {at} matched ssl (probe {probe}{where}): restarting its probes through TLS"


def narrowed(probe: str, at: str, softmatched: str | None) -> str:
    """A probe passed over after a softmatch: it cannot give that service."""
    return f"Service scan skipping probe {probe} for {at}: none of its lines gives the softmatched service {softmatched}"


def rare(probe: str, at: str, rarity: int, intensity: int) -> str:
    """A probe passed over for its rarity."""
    return f"Service scan skipping probe {probe} for {at}: rarity {rarity} is above intensity {intensity}"


def discovered_open(host: str, port: int, proto: str) -> str:
    return f"Discovered open|filtered port {port}/{proto} on {host} is actually open"


def parallel(probe: str, at: str) -> str:
    return (f"Service scan opening a second connection to {at} for probe {probe}, in parallel "
            "with NULL (profile fast)")


def parallel_used(probe: str, at: str) -> str:
    return f"Service scan using what probe {probe} got from {at} in parallel with NULL (profile fast)"


def parallel_dropped(probe: str, at: str, why: str) -> str:
    return f"Service scan dropping the parallel run of probe {probe} to {at}: {why} (profile fast)"


def plugin_started(plugin: str, host: str, port: int) -> str:
    """Nmap's ``-d`` line for a script starting on a port."""
    return f"NSE: Starting {plugin} against {host}:{port}."


def plugin_finished(plugin: str, host: str, port: int) -> str:
    return f"NSE: Finished {plugin} against {host}:{port}."


def plugin_step(plugin: str, host: str, port: int, what: str) -> str:
    """One step of a plugin's exchange (sigscan's words, in the form of Nmap's script lines)."""
    return f"NSE: [{plugin} {host}:{port}] {what}"


def finished(at: str, state: str, name: str | None, probes: int, elapsed: float) -> str:
    what = state if name is None or name == state else f"{state} {name}"
    return (f"Service scan finished {at}: {what} ({probes} probe{'' if probes == 1 else 's'}, "
            f"{elapsed:.2f} s)")
