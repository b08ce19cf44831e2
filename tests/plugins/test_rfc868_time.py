"""rfc868-time on a scripted Time server: the 32- and 64-bit replies, the version it sets only on
a port named ``time``, and the replies it ignores (against the real daemon:
tests/services/test_scan_vs_nmap.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sigscan.engine.plugin import PortView
from sigscan.engine.results import Method, PortState, Service
from sigscan.plugins.rfc868_time import PLUGIN, RFC868_EPOCH, rule, run
from tests.plugins.peer import Peer, talk

WHEN = datetime(2026, 12, 8, 0, 37, 37, tzinfo=UTC)
STAMP = int(WHEN.timestamp()) + RFC868_EPOCH  # seconds since 1900


def view(proto: str = "tcp", name: str | None = "time", port: int = 37) -> PortView:
    service = Service(name, Method.PROBED, 10, extrainfo="32 bits", servicefp="SF-fp")
    return PortView("127.0.0.1", port, proto, PortState.OPEN, "syn-ack", service)


def server(reply: bytes | None, udp: bool = False) -> Peer:
    if udp:
        return Peer(answer=lambda n, data: [reply] if reply is not None and data == b"" else [], udp=True)
    return Peer(greet=lambda n: [reply, None] if reply is not None else [None])


def test_a_32_bit_reply_is_the_time_and_the_version() -> None:
    outcome, log = talk(run, view(), server(STAMP.to_bytes(4, "big")))
    assert outcome is not None and outcome.output == "2026-12-08T00:37:37"
    assert outcome.version is not None and outcome.version.extrainfo == "32 bits"
    assert outcome.version.servicefp == "SF-fp"  # the whole record; set_port_version drops it
    assert log.sent == [[b""]] and log.closed == {0}


def test_a_64_bit_reply_counts_its_first_four_bytes() -> None:
    outcome, _ = talk(run, view(), server(STAMP.to_bytes(4, "big") + b"\xff" * 4))
    assert outcome is not None and outcome.output == "2026-12-08T00:37:37"
    assert outcome.version is not None and outcome.version.extrainfo == "64 bits"


def test_udp_sends_an_empty_datagram() -> None:
    outcome, log = talk(run, view("udp"), server((0).to_bytes(4, "big"), udp=True))
    assert log.sent == [[b""]]
    assert outcome is not None and outcome.output == "1900-01-01T00:00:00"


def test_another_service_keeps_its_version() -> None:
    outcome, _ = talk(run, view(name="daytime"), server(STAMP.to_bytes(4, "big")))
    assert outcome is not None and outcome.output == "2026-12-08T00:37:37"
    assert outcome.version is None


@pytest.mark.parametrize("reply", [None, b"", b"\x01\x02\x03", b"\x01" * 5, b"\x01" * 9])
def test_no_reply_or_an_odd_width_gives_nothing(reply: bytes | None) -> None:
    outcome, _ = talk(run, view(), server(reply))
    assert outcome is None


def test_the_largest_count_is_a_date_in_2036() -> None:
    outcome, _ = talk(run, view(), server(b"\xff\xff\xff\xff"))
    assert outcome is not None and outcome.output == "2036-02-07T06:28:15"


def test_a_silent_udp_port_times_out_as_comm_does() -> None:
    outcome, log = talk(run, view("udp"), server(None, udp=True))
    assert outcome is None and log.now - 1_800_000_000.0 == 7.0


@pytest.mark.parametrize(("port", "proto", "name", "accepted"), [
    (37, "tcp", None, True), (37, "udp", None, True), (3700, "tcp", "time", True),
    (3700, "udp", "time", True), (3700, "tcp", "daytime", False), (37, "sctp", None, False),
])
def test_the_port_rule(port: int, proto: str, name: str | None, accepted: bool) -> None:
    assert rule(view(proto, name, port)) is accepted
    assert PLUGIN.rule is rule and PLUGIN.nmap
