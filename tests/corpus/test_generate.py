"""The response generator (every subject is checked with PCRE2), its corpora over the real
files, and the loopback server that plays the responses."""

from __future__ import annotations

import socket
import time
from collections import Counter
from pathlib import Path

import pytest

from sigc.build import build
from sigc.sources import resolve
from tests.corpus.banner_server import BannerServer, Mode, Service
from tests.corpus.generate import Case, corpus, generate, mixed_corpus, pcre2_match, rates
from tests.helpers import TINY, write

# ---------------------------------------------------------------------------------------------
# One pattern


@pytest.mark.parametrize(("pattern", "flags", "expected"), [
    (rb"^SSH-([\d.]+)-OpenSSH_([\w._-]+)\r\n", "", b"SSH-1.2.3-OpenSSH_1.2.3\r\n"),
    (rb"^220 ([-\w_.]+) ESMTP Postfix$", "", b"220 1.2.3 ESMTP Postfix"),
    (rb"^abc\d{4}$", "", b"abc1234"),
    (rb"^\0\0\00\xd8", "", b"\0\0\0\xd8"),  # \00 is one NUL (octal), as in PCRE
    (rb"^x(?:ab|cd)y", "", None),
    (rb"^(\d\d\d\d)T\r\n\1-> ", "", None),
    (rb"(?<=.)IOS \(tm\) ([-\w.]+)", "", None),
    (rb"^a[^b]c", "i", None),
    (rb"^.{132}$", "s", None),
    (rb"^220-MegaBit Gear (\S++).*FTP server ready", "", None),  # HEAD: possessive
    (rb"^HTTP/1\.[01] \d\d\d (?:[^\r\n]*\r\n(?!\r\n))*?Server: Zeus/(\d[-.\w]+)\r\n", "", None),
    (rb"^\xff\xfb\x01(?!\xff)", "", None),
])
def test_generated_subjects_match(pattern: bytes, flags: str, expected: bytes | None) -> None:
    caseless, dotall = "i" in flags, "s" in flags
    subject = generate(pattern, caseless, dotall, seed=1)
    assert subject is not None
    assert pcre2_match(pattern, caseless, dotall, subject) is not None
    if expected is not None:
        assert subject == expected


def test_specific_shapes() -> None:
    subject = generate(rb"^(\d\d\d\d)T\1", False, False, 0)
    assert subject is not None and subject[:4] == subject[5:9]
    subject = generate(rb"^a[^b]c", True, False, 0)
    assert subject is not None and subject[1:2] not in (b"b", b"B")
    subject = generate(rb"^.{132}$", True, True, 0)
    assert subject is not None and len(subject) == 132


@pytest.mark.parametrize("pattern", [rb"^(?!x)x", rb"^a$b", rb"(unbalanced", rb"^x{3}(?<!x{3})"])
def test_impossible_or_broken_patterns_give_none(pattern: bytes) -> None:
    assert generate(pattern, False, False, 0) is None


def test_deterministic_for_a_seed() -> None:
    pattern = rb"^(?:alpha|beta|gamma|delta) (\w+) v([\d.]+)(?: \((.*)\))?\r\n"
    assert generate(pattern, False, False, 7) == generate(pattern, False, False, 7)
    assert len({generate(pattern, False, False, seed) for seed in range(20)}) > 1


# ---------------------------------------------------------------------------------------------
# Corpora


@pytest.fixture
def tiny_db(tmp_path: Path) -> Path:
    target = tmp_path / "tiny.db"
    assert build(resolve([str(write(tmp_path, "tiny.probes", TINY))]), target).ok
    return target


def test_corpus_of_one_probe(tiny_db: Path) -> None:
    cases = corpus(tiny_db, "NULL", "TCP")
    assert [(c.line, c.service, c.probe, c.proto, c.soft) for c in cases] == [
        (6, "ftp", "NULL", "TCP", False), (7, "ftp", "NULL", "TCP", True)]
    assert cases[0].subject.startswith(b"220 ")
    assert corpus(tiny_db, "NULL", "TCP", limit=1) == cases[:1]
    assert [c.probe for c in corpus(tiny_db, "DNSStatusRequest", "UDP")] == ["DNSStatusRequest"]


def test_mixed_corpus_reuses_lines_when_short(tiny_db: Path) -> None:
    cases = mixed_corpus(tiny_db, n=10, seed=3)
    assert len(cases) == 10
    assert {c.line for c in cases} == {6, 7, 12, 16}
    assert cases == mixed_corpus(tiny_db, n=10, seed=3)


@pytest.mark.slow
def test_generation_rates_on_the_real_files(built: dict[tuple[str, str], Path],
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """Every line gets a subject except the deliberately unmatchable ``^(?!x)x`` (SharpTV)."""
    for name in ("7.93", "head"):
        outcome = rates(built[(name, "db")])
        tried = sum(g.tried for g in outcome.values())
        made = sum(len(g.cases) for g in outcome.values())
        failed = {key: g.failed for key, g in outcome.items() if g.failed}
        with capsys.disabled():
            print(f"\n{name}: generated {made}/{tried} ({made / tried:.3%}); "
                  + ", ".join(f"{k} {len(g.cases)}/{g.tried}" for k, g in outcome.items()
                              if k in ("TCP/NULL", "TCP/GetRequest", "TCP/GenericLines"))
                  + f"; failed {failed}")
        assert list(failed) == ["TCP/SharpTV"] and len(failed["TCP/SharpTV"]) == 1
        assert made >= 11_900


@pytest.mark.slow
def test_mixed_corpus_of_the_real_file(built: dict[tuple[str, str], Path]) -> None:
    cases = mixed_corpus(built[("7.93", "db")], n=5000, seed=0)
    assert len(cases) == 5000
    assert len({c.line for c in cases}) == 5000  # enough good lines: no reuse
    probes = Counter(c.probe for c in cases)
    assert len(probes) > 80 and {c.proto for c in cases} == {"TCP", "UDP"}
    assert all(isinstance(c, Case) and c.subject for c in cases)


# ---------------------------------------------------------------------------------------------
# The banner server


def _talk(port: int, send: bytes = b"", wait: float = 0.3) -> tuple[bytes, bool]:
    """Connect to 127.0.0.1:port, optionally send, read for ``wait`` s: (data, closed by peer)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        if send:
            s.sendall(send)
        s.settimeout(wait)
        data = b""
        try:
            while chunk := s.recv(4096):
                data += chunk
        except TimeoutError:
            return data, False
        return data, True


def test_banner_and_responder_modes() -> None:
    services = [
        Service(b"220 banner\r\n"),
        Service(b"SSH-2.0-x\r\n", once=True),
        Service(b"HTTP/1.0 200 OK\r\n\r\n", Mode.RESPONDER),
        Service(b"reply\r\n", Mode.RESPONDER, close_after_reply=True),
    ]
    with BannerServer(services, hold=5.0, lifetime=60.0) as server:
        plain, once, responder, closing = server.ports
        assert len(set(server.ports)) == 4
        assert _talk(plain) == (b"220 banner\r\n", False)
        assert _talk(plain, b"ignored") == (b"220 banner\r\n", False)
        assert _talk(once) == (b"SSH-2.0-x\r\n", False)  # no input yet: banner again
        assert _talk(once, b"probe\r\n") == (b"SSH-2.0-x\r\n", True)  # closed on input
        assert _talk(once) == (b"", True)  # from now on: closed at once, no banner
        assert _talk(responder) == (b"", False)
        assert _talk(responder, b"GET / HTTP/1.0\r\n\r\n") == (b"HTTP/1.0 200 OK\r\n\r\n", False)
        assert _talk(closing, b"\r\n\r\n") == (b"reply\r\n", True)
        assert server.stats(once).probed and server.stats(plain).connections == 2
    for port in server.ports:  # every listening socket is closed
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=5).close()


def test_hold_bounds_a_connection() -> None:
    with BannerServer([Service(b"x")], hold=0.5, lifetime=30.0) as server:
        clock = time.monotonic()
        assert _talk(server.ports[0], wait=3.0) == (b"x", True)
        assert time.monotonic() - clock < 2.5


def test_stop_closes_open_connections() -> None:
    server = BannerServer([Service(b"hello")], hold=60.0, lifetime=60.0)
    with server:
        client = socket.create_connection(("127.0.0.1", server.ports[0]), timeout=5)
        assert client.recv(5) == b"hello"
    client.settimeout(5)
    with client:
        try:
            data = client.recv(10)
        except ConnectionResetError:
            data = b""
    assert data == b""  # closed by the server's stop, not by the hold timer
