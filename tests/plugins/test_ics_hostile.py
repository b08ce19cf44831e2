"""Hostile replies to the industrial and odd-protocol plugins: each plugin talks to its
emulation's answers (tests/plugins/emulators) with every answer cut, flipped, padded or
replaced at random, and must end as its script would — an outcome or nothing — never with a
Python exception. (The runner would catch one, but the scan would then print nothing where
Nmap prints the script's output or its ``ERROR: Script execution failed``: where the script
fails, the plugin must fail the same way, through ``ScriptError``.)

The plugin is driven step by step here, with no network: an answer is the emulation's reply to
what the plugin last sent, mutated; a read with nothing queued times out."""

from __future__ import annotations

import random
import struct
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from sigscan.engine.plugin import (
    Clock,
    Open,
    Opened,
    Outcome,
    Plugin,
    PortView,
    Read,
    Reply,
    ReplyEnd,
    Shut,
    Write,
)
from sigscan.engine.results import Method, PortState, Service
from sigscan.plugins import load
from sigscan.plugins.lib.lua import SCRIPT_ERROR
from tests.plugins.emulators import bacnet, enip, fox, netbus, omron, openlookup, s7, ubiquiti

RUNS = 400  # mutated conversations per plugin
MAX_STEPS = 500

# what the emulation answers to bytes sent (None: the connection was just opened)
Responder = Callable[[bytes | None], bytes | None]


def _tcp(reply: Callable[[bytes], bytes | None]) -> Responder:
    return lambda sent: None if sent is None else reply(sent)


def _udp(handler: Callable[[bytes], list[bytes]]) -> Responder:
    return lambda sent: None if sent is None else b"".join(handler(sent)[:1]) or None


def _banner(greeting: bytes, answer: Callable[[bytes], bytes | None]) -> Responder:
    return lambda sent: greeting if sent is None else answer(sent)


def _openlookup_greeting() -> bytes:
    options: dict[str, openlookup.NSON] = {"http_port": 5851, "sync_port": 5850,
                                           "timestamp": 1.5, "version": "2.7",
                                           "your_address": ["10.0.0.1", 40000]}
    return openlookup.nson({"method": "hello", "options": options})


@dataclass(frozen=True)
class Case:
    plugin: str
    port: int
    proto: str
    responder: Responder
    name: str | None = None  # the service the probe phase found, where the rule needs one


CASES = [
    Case("s7-info", 102, "tcp", _tcp(lambda sent: s7.CPU_315.reply(sent[4:]))),
    Case("omron-info", 9600, "tcp", _tcp(omron.CJ2M.reply_tcp)),
    Case("omron-info", 9600, "udp", _udp(omron.CJ2M.handle_udp)),
    Case("bacnet-info", 47808, "udp", _udp(bacnet.AHU.handle)),
    Case("enip-info", 44818, "tcp", _tcp(enip.CONTROLLOGIX.answer)),
    Case("enip-info", 44818, "udp", _udp(enip.CONTROLLOGIX.handle_udp)),
    Case("fox-info", 1911, "tcp", _tcp(lambda sent: fox.hello(fox.FIELDS))),
    Case("ubiquiti-discovery", 10001, "udp",
         _udp(ubiquiti.radio(ubiquiti.reply(1, 0), ubiquiti.reply(2, 9)))),
    Case("netbus-version", 12345, "tcp",
         _banner(netbus.GREETING, lambda sent: b"Access;1\r" if sent.startswith(b"Password;") else None),
         "netbus"),
    Case("openlookup-info", 5850, "tcp", _banner(_openlookup_greeting(), lambda sent: None)),
]


def mutate(data: bytes, rng: random.Random) -> bytes:
    """``data`` cut, with a byte changed, with bytes added or dropped, or replaced."""
    choice = rng.randrange(6)
    if choice == 0 or not data:
        return data[:rng.randrange(len(data) + 1)]
    if choice == 1:
        at = rng.randrange(len(data))
        return data[:at] + bytes((rng.randrange(256),)) + data[at + 1:]
    if choice == 2:
        at = rng.randrange(len(data) + 1)
        return data[:at] + rng.randbytes(rng.randrange(1, 40)) + data[at:]
    if choice == 3:
        at = rng.randrange(len(data))
        return data[:at] + data[at + rng.randrange(1, 8):]
    if choice == 4:  # a length or count field at a random place set to an extreme
        at = rng.randrange(len(data))
        return data[:at] + struct.pack(">H", rng.choice((0, 1, 0xFF, 0xFFFF))) + data[at + 2:]
    return rng.randbytes(rng.randrange(1, 300))


def converse(plugin: Plugin, view: PortView, responder: Responder,
             rng: random.Random) -> Outcome | None:
    """Run ``plugin`` to its end against ``responder``'s mutated answers."""
    queues: dict[int, list[bytes]] = {}
    run = plugin.run(view)
    answer: object = None
    for _ in range(MAX_STEPS):
        try:
            step = run.send(answer)
        except StopIteration as stop:
            assert stop.value is None or isinstance(stop.value, Outcome)
            return stop.value
        answer = None
        if isinstance(step, Open):
            conn = len(queues) + 1
            greeting = responder(None)
            queues[conn] = [] if greeting is None else [greeting]
            answer = Opened(conn)
        elif isinstance(step, Write):
            reply = responder(step.data)
            if reply is not None:
                queues[step.conn].append(reply)
        elif isinstance(step, Read):
            queue = queues.get(step.conn, [])
            data = queue.pop(0) if queue else b""
            if data and rng.random() < 0.6:
                data = mutate(data, rng)
            answer = Reply(data, ReplyEnd.DATA) if data else Reply(b"", rng.choice(
                (ReplyEnd.TIMEOUT, ReplyEnd.EOF)))
        elif isinstance(step, Clock):
            answer = 0.0
        else:
            assert isinstance(step, Shut)
    raise AssertionError(f"{plugin.name} took more than {MAX_STEPS} steps")


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.plugin}-{c.proto}")
def test_mutated_answers_end_as_the_script_would(case: Case) -> None:
    plugin = load(case.plugin)
    view = PortView("127.0.0.1", case.port, case.proto, PortState.OPEN, "syn-ack",
                    Service(case.name, Method.TABLE, 3))
    assert plugin.rule(view)
    rng = random.Random(f"{case.plugin}/{case.proto}")
    kinds: set[str] = set()
    for _ in range(RUNS):
        outcome = converse(plugin, view, case.responder, rng)
        if outcome is None:
            kinds.add("nothing")
        elif outcome.output == SCRIPT_ERROR:
            kinds.add("error")
        else:
            kinds.add("result")
    # the mutations reach past the scripts' first checks: something is still found sometimes
    assert "result" in kinds, kinds
