"""The indexed matcher returns exactly what naive in-order matching returns, for every probe of
both real databases (Nmap 7.93 and HEAD): on a generated matching response per line (and near
misses of a sample of them) and on real-looking responses tried against every probe.

Naive here is :class:`~sigscan.testing.naive.NaiveMatcher` (every line compiled with ``regex``,
tried in file order along the chain, no prefilter, no timeout); it memoizes the first matching
line per (probe, response), which changes nothing about its answers but lets every probe's chain
share the NULL probe's work.

Time: naive matching of line k's response tries k lines, so the two probes with thousands of
lines (``NULL``, ``GetRequest``) cost a quadratic number of searches (~0.6 µs each). To stay near
a minute, lines of probes with more than :data:`BIG` lines are taken every other one;
``SIGSCAN_EQUIVALENCE=full`` takes every line of every probe (about twice as long).
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sigscan.bundle.loader import Bundle, open_bundle
from sigscan.matcher import LIMIT, Matcher, identify
from sigscan.matcher.core import _FAILED
from sigscan.matcher.index import Entry, ProbeIndex, Subject
from sigscan.matcher.verdict import Verdict
from sigscan.testing.naive import NaiveMatcher
from tests.conftest import REAL_FILES
from tests.runtime.test_matcher_generate import matching_response

pytestmark = pytest.mark.slow
BIG = 1000
FULL = os.environ.get("SIGSCAN_EQUIVALENCE") == "full"

_ALPHA = b"abcdefghijklmnopqrstuvwxyz"
_rng = random.Random(7)

REAL_LOOKING: tuple[bytes, ...] = (
    b"",
    b"\r\n",
    b"\0",
    b"\0" * 20,
    b"SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.6\r\n",
    b"SSH-2.0-dropbear_2020.81\r\n",
    b"SSH-1.99-Cisco-1.25\n",
    b"220 (vsFTPd 3.0.3)\r\n",
    b"220 ProFTPD Server (Debian) [::ffff:10.0.0.1]\r\n",
    b"220-FileZilla Server 1.7.0\r\n220 Please visit https://filezilla-project.org/\r\n",
    b"220 mail.example.com ESMTP Postfix (Ubuntu)\r\n",
    b"220 mx.example.org ESMTP Exim 4.96 Mon, 01 Jan 2024 12:00:00 +0000\r\n",
    b"+OK Dovecot (Ubuntu) ready.\r\n",
    b"* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS AUTH=PLAIN] "
    b"Dovecot (Ubuntu) ready.\r\n",
    b"HTTP/1.1 200 OK\r\nDate: Mon, 01 Jan 2024 12:00:00 GMT\r\nServer: Apache/2.4.52 (Ubuntu)\r\n"
    b"Last-Modified: Mon, 01 Jan 2024 11:00:00 GMT\r\nETag: \"29af-5f0\"\r\nAccept-Ranges: bytes\r\n"
    b"Content-Length: 10671\r\nVary: Accept-Encoding\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n"
    b"<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Transitional//EN\">\n<html><head>"
    b"<title>Apache2 Ubuntu Default Page: It works</title></head><body>" + b"<p>It works!</p>\n" * 150,
    b"HTTP/1.1 404 Not Found\r\nServer: nginx/1.18.0 (Ubuntu)\r\nDate: Mon, 01 Jan 2024 12:00:00 GMT\r\n"
    b"Content-Type: text/html\r\nContent-Length: 162\r\nConnection: close\r\n\r\n"
    b"<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1>"
    b"</center>\r\n<hr><center>nginx/1.18.0 (Ubuntu)</center>\r\n</body>\r\n</html>\r\n",
    b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/html; charset=us-ascii\r\nServer: Microsoft-HTTPAPI/2.0\r\n"
    b"Date: Mon, 01 Jan 2024 12:00:00 GMT\r\nConnection: close\r\nContent-Length: 326\r\n\r\n<!DOCTYPE HTML>",
    b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nServer: Microsoft-IIS/10.0\r\nX-Powered-By: ASP.NET\r\n\r\n",
    b"HTTP/1.0 200 OK\r\nServer: SimpleHTTP/0.6 Python/3.11.7\r\nDate: Mon, 01 Jan 2024 12:00:00 GMT\r\n"
    b"Content-type: text/html; charset=utf-8\r\nContent-Length: 300\r\n\r\n<!DOCTYPE HTML>\n<html lang=\"en\">",
    b"http/1.1 200 ok\r\nserver: APACHE\r\n\r\n",
    b"RTSP/1.0 200 OK\r\nCSeq: 1\r\nServer: GStreamer RTSP server\r\nPublic: OPTIONS, DESCRIBE\r\n\r\n",
    b"SIP/2.0 200 OK\r\nVia: SIP/2.0/TCP nm;branch=foo\r\nServer: Asterisk PBX 18.10.0\r\n\r\n",
    b"J\x00\x00\x00\n8.0.35-0ubuntu0.22.04.1\x00\x08\x00\x00\x00\x1a\x2b\x3c\x4d\x5e\x6f\x70\x01\x00\xff\xff"
    b"\xff\x02\x00\xff\xdf\x15\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x11\x22\x33\x44\x55\x66\x77\x00"
    b"caching_sha2_password\x00",
    b"E\x00\x00\x00\x8aSFATAL\x00VFATAL\x00C0A000\x00Munsupported frontend protocol 65363.19778: server "
    b"supports 3.0 to 3.0\x00Fpostmaster.c\x00L2138\x00RProcessStartupPacket\x00\x00",
    b"-ERR unknown command 'GET', with args beginning with: '/' \r\n",
    b"-NOAUTH Authentication required.\r\n",
    b"ERROR\r\n",
    b"\x15\x03\x01\x00\x02\x02\x28",
    b"\x16\x03\x03\x00\x5d\x02\x00\x00\x59\x03\x03" + bytes(range(32)) + b"\x20" + bytes(range(32, 64)),
    b"\x00\x00\x00\x55\xffSMBr\x00\x00\x00\x00\x88\x01\xc8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
    b"\x00\x00\x00\x00\xff\xfe\x00\x00\x00\x00\x11\x05\x00\x03\x0a\x00",
    b"\x03\x00\x00\x13\x0e\xd0\x00\x00\x124\x00\x02\x1f\x08\x00\x02\x00\x00\x00",
    b"\xff\xfd\x18\xff\xfd \xff\xfd#\xff\xfd'",
    b"\xff\xfb\x01\xff\xfb\x03\r\nUbuntu 22.04.3 LTS\r\nhost login: ",
    b"RFB 003.008\n",
    b"@RSYNCD: 31.0\n",
    b"N\x00\x0e127.0.0.1\x00\x00\xc4\x12",
    b"Mon Jan  1 12:00:00 2024\r\n",
    b"AMQP\x00\x00\x09\x01",
    b" \x02\x00\x00",
    b"{\"error\":\"not found\",\"status\":404}",
    b"<html><body><h1>It works!</h1></body></html>",
    b"\x00\x06\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00\x07version\x04bind\x00\x00\x10\x00\x03"
    b"\xc0\x0c\x00\x10\x00\x03\x00\x00\x00\x00\x00\x0e\x0d9.18.18-0ubuntu",
    b"\x1c\x02\x03\xe8\x00\x00\x00\x00\x00\x00\x00\x00LOCL\xe9\x3a\x12\x34" + b"\x00" * 28,
    b"0\x81\x8c\x02\x01\x00\x04\x06public\xa2\x81\x7e\x02\x04",
    b"A" * (LIMIT + 100),
    bytes(_rng.randrange(256) for _ in range(64)),
    bytes(_rng.randrange(256) for _ in range(1500)),
    bytes(_rng.choice(_ALPHA) for _ in range(300)),
)


class MemoNaive(NaiveMatcher):
    """Naive matching, memoized per (probe, response): same answers, each computed once."""

    def __init__(self, bundle: Bundle) -> None:
        super().__init__(bundle)
        self._memo: dict[tuple[int, bytes], tuple[tuple[Entry, Any] | None, list[str]]] = {}

    def _first(self, index: ProbeIndex, subject: Subject, diagnostics: list[str],
               steps: list[dict[str, Any]] | None) -> tuple[Entry, Any] | None:
        key = (index.probe.id, subject.data)
        if key not in self._memo:
            found: list[str] = []
            self._memo[key] = (super()._first(index, subject, found, steps), found)
        hit, found = self._memo[key]
        diagnostics += found
        return hit


class Pair:
    def __init__(self, bundle: Bundle) -> None:
        self.bundle = bundle
        self.fast = Matcher(bundle, timeout=None)  # no timeout: the comparison must not depend on load
        self.naive = MemoNaive(bundle)
        self.mismatches: list[str] = []
        self.compared = 0

    def compare(self, probe: str, proto: str, data: bytes) -> None:
        got, want = self.fast.identify(probe, proto, data), self.naive.identify(probe, proto, data)
        self.compared += 1
        if got != want:
            self.mismatches.append(f"{probe}/{proto} {data[:80]!r}: indexed {got.line} {got.name}, "
                                   f"naive {want.line} {want.name}")

    def generated(self) -> Iterator[tuple[str, str, Entry, bytes | None]]:
        """A response per line (None where the generator fails). Compiles every pattern once,
        for naive and (shared, the same engine and flags) for the indexed matcher, which compiles
        its own where it cuts the head off (``Entry.skip``)."""
        for probe in self.bundle.probes:
            fast = self.fast.index(probe.id).entries
            entries = self.naive.index(probe.id).entries
            step = 1 if FULL or len(entries) <= BIG else 2
            for entry in entries[::step]:
                compiled = entry.compiled = entry.compiled or self.naive._compile(entry)
                assert compiled is not _FAILED, f"line {entry.record.line} does not compile with regex"
                if not entry.skip:
                    fast[entry.pos].compiled = compiled
                yield probe.name, probe.protocol, entry, matching_response(entry.record, compiled)


@pytest.fixture(scope="module", params=sorted(REAL_FILES))
def pair(request: pytest.FixtureRequest, built: dict[tuple[str, str], Path]) -> Iterator[Pair]:
    with open_bundle(built[(request.param, "db")]) as bundle:
        yield Pair(bundle)


def test_generated_responses(pair: Pair) -> None:
    lines = made = 0
    for probe, proto, entry, text in pair.generated():
        lines += 1
        if text is None:
            continue
        made += 1
        pair.compare(probe, proto, text)
        if entry.pos % 50 == 0:  # near misses, for a sample of lines
            for variant in (text[:-1], text[: len(entry.prefix)], b"x" + text):
                pair.compare(probe, proto, variant)
    assert made >= 0.9 * lines, f"the generator made responses for only {made} of {lines} lines"
    assert pair.mismatches == [], f"{len(pair.mismatches)} of {pair.compared}: {pair.mismatches[:10]}"


def test_real_looking_responses_on_every_probe(pair: Pair) -> None:
    for probe in pair.bundle.probes:
        for data in REAL_LOOKING:
            pair.compare(probe.name, probe.protocol, data)
    assert pair.mismatches == [], f"{len(pair.mismatches)} of {pair.compared}: {pair.mismatches[:10]}"
    hits = {pair.fast.identify("NULL", "tcp", d).name for d in REAL_LOOKING}
    assert {"ssh", "ftp", "smtp", "pop3", "imap", "vnc", "rsync"} <= hits  # the responses are realistic


HEADS = (b"", b"HTTP/1.1 200 OK\r\n", b"HTTP/1.0 ", b"220 ", b"SSH-2.0-", b"+OK ", b"* OK ", b"\x00\x00",
         b"\x16\x03\x01", b"RTSP/1.0 ", b"SIP/2.0 ", b"\xff\xfb")


@settings(max_examples=400, deadline=None)
@given(choice=st.data())
def test_any_bytes_on_any_real_probe(pair: Pair, choice: st.DataObject) -> None:
    probe = choice.draw(st.sampled_from(pair.bundle.probes))
    data = choice.draw(st.sampled_from(HEADS)) + choice.draw(st.binary(max_size=400))
    verdict = identify(pair.bundle, probe.name, probe.protocol, data)  # default timeout and limit
    assert isinstance(verdict, Verdict)
    pair.compare(probe.name, probe.protocol, data)
    assert pair.mismatches == []


def test_hostile_response_to_a_real_probe_times_out_and_is_reported(pair: Pair) -> None:
    hostile = b"\x00\x03\xf1&" + b"a" * 88 + b"\x00\x00:::" * 60
    start = time.perf_counter()
    verdict = Matcher(pair.bundle, timeout=0.05).identify("FreelancerStatus", "udp", hostile)
    assert time.perf_counter() - start < 2
    assert verdict.name is None
    assert any(d.endswith("regex timed out after 0.05 s; counted as no match") for d in verdict.diagnostics)
