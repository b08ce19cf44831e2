"""What the engine costs per port, with the version trace off and on.

Run: .venv/bin/pytest benchmarks/test_engine.py --benchmark-only -s

Each round drives one :class:`~sigscan.engine.port.PortEngine` (Nmap 7.93's database) through a
banner port, with no network: ``start``, ``Connected``, one ``Data`` with the banner, the hard
match and its report. Four banners in turn (OpenSSH, vsftpd, Postfix, Dovecot), after a warm-up
that builds the NULL probe's index and compiles its candidates. With ``TraceLevel.OFF`` (the
default) no trace line is formatted and responses go through ``identify``; ``EVENTS`` adds the
``Trace`` lines and identifies through the matcher's ``explain``; ``LINES`` adds one line per
candidate line. Figures in docs/benchmarks.md; goals are reported, never asserted.
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from benchmarks.conftest import note
from sigscan.bundle.loader import open_bundle
from sigscan.engine import Catalog, EngineConfig, PortEngine, Proto, TraceLevel
from sigscan.engine.events import Connect, Connected, Data

BANNERS = (b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u2\r\n", b"220 (vsFTPd 3.0.3)\r\n",
           b"220 mail.example.com ESMTP Postfix (Debian/GNU)\r\n", b"+OK Dovecot ready.\r\n")
ROUNDS = 4000


@pytest.fixture(scope="module")
def catalog(bundle_7_93: Path) -> Iterator[Catalog]:
    with open_bundle(bundle_7_93) as bundle:
        yield Catalog.from_bundle(bundle)


def one_port(catalog: Catalog, config: EngineConfig, banner: bytes) -> None:
    engine = PortEngine(catalog, "127.0.0.1", 2222, Proto.TCP, config=config)
    connect = next(a for a in engine.start(0.0) if isinstance(a, Connect))
    engine.feed(Connected(connect.conn, 0.001))
    engine.feed(Data(connect.conn, 0.002, banner))
    assert engine.done


@pytest.mark.parametrize("level", list(TraceLevel), ids=lambda level: level.name)
def test_banner_port(benchmark: Any, catalog: Catalog, level: TraceLevel) -> None:
    config = EngineConfig(trace=level)
    for banner in BANNERS * 25:  # warm up: the NULL probe's index and candidates
        one_port(catalog, config, banner)
    banners = itertools.cycle(BANNERS)
    benchmark.pedantic(one_port, setup=lambda: ((catalog, config, next(banners)), {}),
                       rounds=ROUNDS)
    times = benchmark.stats.stats.data
    note(benchmark, trace=level.name, ports=len(times),
         median_us=round(statistics.median(times) * 1e6, 1))
