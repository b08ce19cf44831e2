"""The engine's trace (``Trace`` actions, :mod:`sigscan.engine.tracing`) on the fake network.

What Nmap's ``--version-trace`` says is compared with the real Nmap in
tests/scan/test_trace_vs_nmap.py; here: that tracing off formats nothing, that every probe sent
and every match taken is said, in order, that the lines Nmap lacks say what happened (reads,
waits, closes, the prefilter's candidates, probes skipped after a softmatch or for rarity, the
SSL restart, the fast profile's parallel run), and Nmap's debug limits on the fingerprint.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from sigscan.engine import tracing
from sigscan.engine.catalog import Catalog
from sigscan.engine.config import Profile, TraceLevel
from sigscan.engine.events import Proto, Trace
from sigscan.engine.fingerprint import DEBUG_LIMITS, LIMITS
from sigscan.engine.results import PortResult, PortState
from sigscan.testing.fake import Behaviour, FakeTransport, Server, close, on, send
from tests.engine.conftest import SmallCatalog
from tests.engine.support import scan

SSH = b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n"
ALERT = b"\x15\x03\x01\x00\x02\x02\x28"
SSH_SERVER = Server(Behaviour(banner=(send(SSH),)))
SILENT = Server(Behaviour())
HTTPS_SSH = Server(plain=Behaviour(rules=(on(rb"^\x16\x03", close(0.0, ALERT)),)),
                   tls=Behaviour(banner=(send(SSH),)))
NULL_ONLY = b"Probe TCP NULL q||\ntotalwaitms 6000\ntcpwrappedms 3000\n"
AT = "127.0.0.1:{port} (tcp)"


def traced(catalog: Catalog, server: Server, port: int, proto: Proto = Proto.TCP,
           **config: Any) -> tuple[PortResult, list[str], FakeTransport]:
    result, fake = scan(catalog, server, port, proto, **config)
    return result, [a.text for _, a in fake.log if isinstance(a, Trace)], fake


def sent(lines: list[str]) -> list[str]:
    return [m.group(1) for m in map(re.compile(r"^Service scan sending probe (\S+) to ").match, lines) if m]


# -- off: nothing is formatted --------------------------------------------------------------------


@pytest.mark.parametrize("profile", [Profile.NMAP, Profile.FAST])
def test_tracing_off_formats_nothing(nmaplike: Catalog, monkeypatch: pytest.MonkeyPatch,
                                     profile: Profile) -> None:
    """With the trace off no line is written, not even built: every word function and the
    matcher's explain raise if called."""
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("formatted a trace line with tracing off")

    for name in [n for n in vars(tracing) if not n.startswith("_") and callable(getattr(tracing, n))]:
        if getattr(getattr(tracing, name), "__module__", None) == tracing.__name__:
            monkeypatch.setattr(tracing, name, refuse)
    monkeypatch.setattr(Catalog, "explain", refuse)
    for server, port, intensity in ((SSH_SERVER, 2222, 7), (SILENT, 79, 0), (HTTPS_SSH, 443, 7)):
        result, lines, _ = traced(nmaplike, server, port, intensity=intensity, profile=profile)
        assert lines == [] and result.service is not None


# -- events: Nmap's lines and ours ----------------------------------------------------------------


def test_a_banner_match_is_said_as_nmap_says_it(nmaplike: Catalog) -> None:
    result, lines, _ = traced(nmaplike, SSH_SERVER, 2222, trace=TraceLevel.EVENTS)
    at = AT.format(port=2222)
    assert lines[:3] == [f"Starting probes against new service: {at}",
                         f"Service scan sending probe NULL to {at}",
                         f"Service scan read {len(SSH)} bytes from {at} for probe NULL"]
    assert re.fullmatch(rf"Service scan tried {len(SSH)} bytes against the \d+ lines of NULL: the "
                        r"prefilter kept \d+, \d+ of them ruled out by length or literals, \d+ "
                        r"searched without a match; line 32 matched", lines[3]), lines[3]
    assert lines[4:] == [
        "Service scan match (Probe NULL matched with NULL line 32): 127.0.0.1:2222 is ssh.  "
        "Version: |OpenSSH|9.2p1 Debian 2+deb12u3|protocol 2.0|",
        f"Service scan finished {at}: hardmatched ssh (1 probe, 0.00 s)"]
    assert result.probes == ("NULL",)


def test_every_probe_sent_and_every_wait_is_said(nmaplike: Catalog) -> None:
    """Port 79 at intensity 0 on a silent server: NULL, GenericLines (on NULL's connection),
    GetRequest, Help, each to its timeout (6, 5, 5 and 7.5 s)."""
    result, lines, _ = traced(nmaplike, SILENT, 79, intensity=0, net_rtt=0.0, trace=TraceLevel.EVENTS)
    at = AT.format(port=79)
    assert sent(lines) == list(result.probes) == ["NULL", "GenericLines", "GetRequest", "Help"]
    waits = [(p, float(w)) for p, w in re.findall(r"probe (\S+) to \S+ \(tcp\) timed out after ([\d.]+) s", "\n".join(lines))]
    assert waits == [("NULL", 6.0), ("GenericLines", 5.0), ("GetRequest", 5.0), ("Help", 7.5)]
    assert lines[-1] == f"Service scan finished {at}: nomatch finger (4 probes, 23.50 s)"


def test_a_softmatch_is_said_once_then_narrows_the_probes(small: SmallCatalog) -> None:
    """Nmap prints the first softmatch only (not again as more bytes come, nor a second one of
    the same name), warns of one of another name; the probes that cannot give the softmatched
    name are said to be skipped."""
    cat = small(NULL_ONLY + b"softmatch soft m|^SOFT|\nsoftmatch other m|OTHER|\n"
                b"Probe TCP Gives q|GIVE\\r\\n|\nrarity 1\nmatch soft m|^never|\n"
                b"Probe TCP Cannot q|CANNOT\\r\\n|\nrarity 1\nmatch nothing m|^never|\n")
    first = Behaviour(banner=(send(b"SOFT one\r\n"), send(b"SOFT two\r\n", after=1.0), close(2.0)))
    second = Behaviour(rules=(on(rb"^GIVE\r\n", send(b"OTHER\r\n")),))
    result, lines, _ = traced(cat, Server(per_connection=(first, second)), 4000,
                              trace=TraceLevel.EVENTS)
    at = AT.format(port=4000)
    said = [line for line in lines if re.match(r"Service scan (soft |hard )?match|WARNING", line)]
    assert said == ["Service scan soft match (Probe NULL matched with NULL line 4): "
                    "127.0.0.1:4000 is soft",
                    "WARNING: Service 127.0.0.1:4000 had already soft-matched soft, but now "
                    "soft-matched other; ignoring second value"]
    tried = [m.group(1) for m in map(re.compile(r"Service scan tried \d+ bytes against the \d+ lines of (\S+):").match, lines) if m]
    assert tried == ["NULL", "NULL", "Gives", "NULL"]  # each arrival; Gives's reply down its chain
    assert f"Service scan skipping probe Cannot for {at}: none of its lines gives the softmatched service soft" in lines
    assert sent(lines) == ["NULL", "Gives"] == list(result.probes)


def test_the_ssl_restart_is_said(nmaplike: Catalog) -> None:
    """As Nmap: the ssl hard match, the NULL probe again through TLS, the match named SSL/;
    and sigscan's lines for the restart and the handshake."""
    result, lines, _ = traced(nmaplike, HTTPS_SSH, 443, trace=TraceLevel.EVENTS)
    at = AT.format(port=443)
    assert sent(lines) == ["NULL", "SSLSessionReq", "NULL"] == list(result.probes)
    restart = next(i for i, line in enumerate(lines) if "restarting its probes through TLS" in line)
    assert lines[restart - 1].startswith(
        "Service scan hard match (Probe SSLSessionReq matched with SSLSessionReq line ")
    assert lines[restart + 1] == f"Service scan TLS handshake with {at} done: TLSv1.3, certificate subject CN=fake"
    assert lines[restart + 2] == f"Service scan sending probe NULL to {at}"
    assert any(line.startswith("Service scan match (Probe NULL matched with NULL line 32): "
                               "127.0.0.1:443 is SSL/ssh.  Version: |OpenSSH|") for line in lines)


def test_closes_and_the_end_are_said(nmaplike: Catalog) -> None:
    at = AT.format(port=41001)
    _, lines, _ = traced(nmaplike, Server(Behaviour(banner=(close(0.5),))), 41001,
                         trace=TraceLevel.EVENTS)
    assert lines[-2:] == [
        f"Service scan probe NULL to {at}: the peer closed the connection after 0.50 s with 0 bytes",
        f"Service scan finished {at}: tcpwrapped (1 probe, 0.50 s)"]


def test_an_excluded_port_is_said(nmaplike: Catalog) -> None:
    _, lines, _ = traced(nmaplike, SSH_SERVER, 9100, trace=TraceLevel.EVENTS)
    at = AT.format(port=9100)
    assert lines == [f"Service scan not probing {at}: the probe file's Exclude directive names it",
                     f"Service scan finished {at}: excluded jetdirect (0 probes, 0.00 s)"]


def test_a_udp_reply_is_said_to_open_the_port(nmaplike: Catalog) -> None:
    server = Server(Behaviour(rules=(on(rb".", send(b"\x00\x01 an answer")),)))
    result, lines, _ = traced(nmaplike, server, 40000, Proto.UDP, state=PortState.OPEN_FILTERED,
                              intensity=1, trace=TraceLevel.EVENTS)
    assert result.state is PortState.OPEN
    assert "Discovered open|filtered port 40000/udp on 127.0.0.1 is actually open" in lines


# -- lines: each candidate, the rarity ------------------------------------------------------------


def test_lines_level_says_each_candidate_and_each_rare_probe(nmaplike: Catalog) -> None:
    _, lines, _ = traced(nmaplike, SSH_SERVER, 2222, trace=TraceLevel.LINES)
    tried = next(line for line in lines if line.startswith("Service scan tried"))
    kept = int(re.search(r"the prefilter kept (\d+)", tried).group(1))  # type: ignore[union-attr]
    candidates = [line for line in lines if line.startswith("Service scan   NULL line ")]
    assert len(candidates) == kept and candidates[-1].endswith(": match")
    assert all(re.fullmatch(r"Service scan   NULL line \d+ \(kept by .+\): (match|no match|skipped: .+)", c)
               for c in candidates)

    _, silent, _ = traced(nmaplike, SILENT, 41000, intensity=0, trace=TraceLevel.LINES)
    rare = [line for line in silent if "rarity" in line]
    where = re.escape(AT.format(port=41000))
    assert rare and all(re.fullmatch(rf"Service scan skipping probe \S+ for {where}: "
                                     r"rarity [1-9] is above intensity 0", line) for line in rare)
    _, events, _ = traced(nmaplike, SILENT, 41000, intensity=0, trace=TraceLevel.EVENTS)
    assert not any("rarity" in line for line in events)


# -- the fast profile: the parallel run's lines wait for its outcome ------------------------------


def test_fast_parallel_run_is_said_in_nmap_s_order(nmaplike: Catalog) -> None:
    """Silent NULL, so the probe Nmap sends next runs in parallel; its lines come after NULL's
    end, when its outcome is used."""
    http = Server(Behaviour(rules=(on(rb"^\r\n\r\n", close(0.001, b"HTTP/1.1 400 Bad Request\r\n"
                                                                  b"Server: nginx/1.22.1\r\n\r\n")),)))
    result, lines, _ = traced(nmaplike, http, 2121, profile=Profile.FAST, trace=TraceLevel.EVENTS)
    at = AT.format(port=2121)
    opened = lines.index(f"Service scan opening a second connection to {at} for probe GenericLines, "
                         "in parallel with NULL (profile fast)")
    null_end = next(i for i, line in enumerate(lines) if "probe NULL to" in line and "timed out" in line)
    used = lines.index(f"Service scan using what probe GenericLines got from {at} in parallel with "
                       "NULL (profile fast)")
    assert opened < null_end < used < lines.index(f"Service scan sending probe GenericLines to {at}")
    assert sent(lines) == list(result.probes)


def test_fast_parallel_run_dropped_is_said(nmaplike: Catalog) -> None:
    """A banner after the parallel connection opened: its reply would be glued to the banner in
    Nmap's sequence, so it is dropped, and said to be."""
    late = Server(Behaviour(banner=(send(b"XYZZY late banner\r\n", after=0.2),)))
    _, lines, _ = traced(nmaplike, late, 41002, profile=Profile.FAST, trace=TraceLevel.EVENTS)
    assert any(line.startswith("Service scan dropping the parallel run of probe GenericLines to "
                               "127.0.0.1:41002 (tcp): ") for line in lines), lines


# -- Nmap's debug limits on the fingerprint --------------------------------------------------------


def test_debugging_raises_the_fingerprint_limits(nmaplike: Catalog) -> None:
    """Nmap escapes 900 bytes of each response and stops at 2,200 characters, 1,300 and 10,000
    when debugging (``-d``, ``--version-trace``)."""
    banner = b"Z" * 1000 + b"\r\n"
    server = Server(Behaviour(banner=(send(banner), close(0.0))))
    plain, _ = scan(nmaplike, server, 41005, intensity=2)
    debug, _ = scan(nmaplike, server, 41005, intensity=2, debugging=1)

    def entries(result: PortResult) -> list[str]:
        fp = (result.service.servicefp if result.service else None) or ""
        return re.findall(r'%r\(\w+,3EA,"(Z*)', fp.replace("\nSF:", ""))

    assert [len(e) for e in entries(plain)] == [LIMITS.escaped_bytes] * 3  # then past 2,200
    assert [len(e) for e in entries(debug)] == [1000] * 5  # all five probes, all 1,000 bytes
    assert DEBUG_LIMITS.size_limit > 5 * 1000
