"""mqtt-subscribe on scripted MQTT 3.1.1 brokers (packets written here from the OASIS
standard): the packets it sends, the topics and version it reports, and each error line (against
the real Mosquitto: tests/services/test_scan_vs_nmap.py)."""

from __future__ import annotations

import re
from collections.abc import Iterable

import pytest

from sigscan.engine.plugin import PortView
from sigscan.engine.results import Method, PortState, Service
from sigscan.plugins.mqtt_subscribe import (
    DISCONNECT,
    MqttError,
    connect_packet,
    parse,
    remaining_length,
    rule,
    run,
    subscribe_packet,
)
from tests.plugins.peer import Peer, talk

CONNACK = b"\x20\x02\x00\x00"
SUBACK = b"\x90\x04\x00\x02\x00\x00"


def publish(topic: bytes, payload: bytes, qos: int = 0) -> bytes:
    body = len(topic).to_bytes(2, "big") + topic + (b"\x00\x07" if qos else b"") + payload
    return bytes([0x30 | qos << 1 | 1]) + remaining_length(len(body)) + body


def view(port: int = 1883, name: str | None = "mqtt", conf: int = 10) -> PortView:
    return PortView("127.0.0.1", port, "tcp", PortState.OPEN, "syn-ack",
                    Service(name, Method.PROBED, conf))


def broker(after_subscribe: Iterable[bytes | None], connack: bytes = CONNACK,
           tls_only: bool = False) -> Peer:
    """Answers CONNECT with ``connack`` and SUBSCRIBE with ``after_subscribe``."""
    def answer(n: int, data: bytes) -> list[bytes | None]:
        if data[0] == 0x10:
            return [connack]
        if data[0] == 0x82:
            return list(after_subscribe)
        return []
    return Peer(answer=answer, refuse=lambda n, tls: tls_only and not tls)


MESSAGES = [SUBACK, publish(b"$SYS/broker/version", b"mosquitto version 2.0.11"),
            publish(b"$SYS/broker/uptime", b"9 seconds"), publish(b"a/b", b"x", qos=1),
            publish(b"$SYS/broker/uptime", b"10 seconds")]


def test_topics_and_the_broker_version() -> None:
    outcome, log = talk(run, view(), broker(MESSAGES))
    assert outcome is not None
    assert outcome.output == ("\n  Topics and their most recent payloads: \n    $SYS/broker/uptime: 10 seconds"
                              "\n    $SYS/broker/version: mosquitto version 2.0.11\n    a/b: x")
    assert outcome.version is not None and outcome.version.name == "mosquitto version 2.0.11"
    connect, subscribe, disconnect = log.sent[0]
    assert re.fullmatch(rb"\x10\x20\x00\x04MQTT\x04\x00\x00\x1e\x00\x14nmap[a-z]{16}", connect)
    assert subscribe == subscribe_packet() and disconnect == DISCONNECT
    assert log.tls == [False] and log.closed == {0}


def test_the_packets_as_the_standard_lays_them_out() -> None:
    assert connect_packet(b"nmapabc") == b"\x10\x13\x00\x04MQTT\x04\x00\x00\x1e\x00\x07nmapabc"
    assert subscribe_packet() == b"\x82\x0f\x00\x02\x00\x06$SYS/#\x00\x00\x01#\x00"
    assert [remaining_length(n) for n in (0, 127, 128, 16383, 16384, 268435455)] == [
        b"\x00", b"\x7f", b"\x80\x01", b"\xff\x7f", b"\x80\x80\x01", b"\xff\xff\xff\x7f"]


def test_without_a_version_topic_the_name_stays() -> None:
    outcome, _ = talk(run, view(), broker([SUBACK, publish(b"t", b"1")]))
    assert outcome is not None and outcome.version is None
    assert outcome.output == "\n  Topics and their most recent payloads: \n    t: 1"


def test_a_likely_tls_port_tries_tls_first() -> None:
    outcome, log = talk(run, view(8883, "secure-mqtt", conf=3), broker(MESSAGES))
    assert log.tls == [True] and outcome is not None and outcome.version is not None


def test_tcp_then_tls() -> None:
    outcome, log = talk(run, view(), broker(MESSAGES, tls_only=True))
    assert log.tls == [False, True] and outcome is not None and outcome.version is not None


@pytest.mark.parametrize(("peer", "line"), [
    (Peer(), "The script encountered an error: ssl failed"),
    (broker(MESSAGES, connack=b"\x20\x02\x00\x05"), "Connection rejected: Not Authorized"),
    (broker(MESSAGES, connack=b"\x20\x02\x00\x09"), "Connection rejected: Unrecognized Connect Return Code"),
    (broker(MESSAGES, connack=CONNACK + b"\x00"), "More bytes were returned from tryssl() than expected."),
    (broker(MESSAGES, connack=b"\x90\x02\x00\x01"), "Received control packet type 'SUBACK' instead of 'CONNACK'."),
    (broker(MESSAGES, connack=b"\x40\x02\x00\x01"), "Control packet type 'PUBACK' is not implemented."),
    (broker(MESSAGES, connack=b"\xf0\x02\x00\x01"), "Control packet type '15' is not known."),
    (broker([b"\x90\x03\x00\x02\x80"]), "Every topic filter was rejected."),
    (broker([b"\x90\x01\x00"]), "Failed to parse SUBACK packet, too short."),
    (broker([]), "Failed to receive control packet from server."),
    (broker([SUBACK]), "Failed to receive control packet from server."),
    (broker([SUBACK, b"\x30", None]), "EOF"),
    (broker([SUBACK, b"\x30\x05\x00\x09abc"]), "Buffer at position 1 has no space for a 9-byte UTF-8 string."),
    (broker([SUBACK, b"\x30\xff\xff\xff\xff"]), "Reached end of buffer before variable-length numeric field was parsed."),
])
def test_error_lines(peer: Peer, line: str) -> None:
    outcome, _ = talk(run, view(), peer)
    assert outcome is not None and outcome.output == line and outcome.version is None


def test_other_packets_before_the_suback_are_skipped() -> None:
    outcome, _ = talk(run, view(), broker([publish(b"early", b"1"), SUBACK, publish(b"late", b"2")]))
    assert outcome is not None and outcome.output is not None
    assert "late: 2" in outcome.output and "early" not in outcome.output


def test_an_error_after_a_topic_keeps_the_topics() -> None:
    outcome, _ = talk(run, view(), broker([SUBACK, publish(b"t", b"1"), b"\x30\x05\x00\x09abc"]))
    assert outcome is not None and outcome.output == "\n  Topics and their most recent payloads: \n    t: 1"


def test_at_most_a_hundred_messages() -> None:
    flood = [SUBACK, *(publish(b"t%d" % i, b"v") for i in range(150))]
    outcome, _ = talk(run, view(), broker(flood))
    assert outcome is not None and outcome.output is not None
    assert outcome.output.count("\n    ") == 100


def test_parse() -> None:
    assert parse(CONNACK).accepted
    assert parse(SUBACK).granted == (True, True)
    assert parse(publish(b"a", b"b", qos=2)).payload == b"b"
    with pytest.raises(MqttError, match="invalid variable-length"):
        parse(b"\x30\xff\xff\xff\xff\x01")
    with pytest.raises(MqttError, match="past end of buffer"):
        parse(b"\x30\x05\x00")
    with pytest.raises(MqttError, match="packet truncated"):
        parse(b"\x32\x04\x00\x01a\x00")


@pytest.mark.parametrize(("port", "name", "accepted"), [
    (1883, None, True), (8883, None, True), (1900, "mqtt", True), (1900, "secure-mqtt", True),
    (1900, "http", False),
])
def test_the_port_rule(port: int, name: str | None, accepted: bool) -> None:
    assert rule(view(port, name)) is accepted
