"""Runtime figures over one corpus of 5,000 generated responses (conftest ``corpus``).

Run: .venv/bin/pytest benchmarks/test_identify.py --benchmark-only
Goals (docs/benchmarks.md): median identify <= 50 us and >= 30x faster than naive in-order
matching with precompiled ``regex`` patterns; a cold start (new process, open the bundle,
identify one banner) <= 2x a bare ``python -c "import regex"``; peak RSS <= 30 MB after
identifying the whole corpus (reported in MiB, the kernel's KiB / 1024, and in MB of 10**6 bytes). The figures are in each benchmark's ``extra_info`` (printed with
``-s``, saved with ``--benchmark-json``); goals are reported, never asserted (timings depend on
the machine and its load).

(a) ``test_identify``: every response once per round, each call timed alone, after a warm-up
pass over the whole corpus (indexes built, candidates compiled): the steady state.
(b)/(c) ``test_naive``: every line of the chain tried in order, all precompiled, with ``regex``
(the translated patterns) and with PCRE2 (the patterns as written, Nmap's engine; the ``pcre2``
package JIT-compiles them), on a sample of the corpus, against the indexed matcher on the same
sample. The speed-up compares medians of the two timed in turns, a pass over the sample each,
:data:`REPEAT` times (each response's median kept), so that a change in the machine's speed
during the run (it is shared) falls on both alike.
(d) ``test_cold_start``: wall time of a new process, interleaved with ``import regex`` runs.
(e) ``test_peak_rss``: a child process streams the whole corpus through ``identify``.
"""

from __future__ import annotations

import json
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from benchmarks.conftest import ROOT, Case, note, percentile
from sigscan.bundle.loader import Bundle, open_bundle
from sigscan.matcher import Matcher, identify
from sigscan.matcher.core import _FAILED
from sigscan.matcher.index import Entry
from sigscan.testing.naive import NaiveMatcher

NAIVE_SAMPLE = 1000  # responses: naive matching takes milliseconds each
REPEAT = 3  # times each response is identified by each matcher for the speed-up
BANNER = b"SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.6\r\n"
COLD = (
    "import sys\n"
    "from sigscan.bundle.loader import open_bundle\n"
    "from sigscan.matcher import identify\n"
    f"assert identify(open_bundle(sys.argv[1]), 'NULL', 'tcp', {BANNER!r}).name == 'ssh'\n"
)


@pytest.fixture(scope="module", params=["db", "json"])
def bundle(request: pytest.FixtureRequest, bundles: dict[str, Path]) -> Bundle:
    return open_bundle(bundles[request.param])


def _us(seconds: float) -> float:
    return round(seconds * 1e6, 1)


# -- (a) ---------------------------------------------------------------------------------------


def test_identify(benchmark: Any, bundle: Bundle, corpus: list[Case]) -> None:
    for case in corpus:  # warm up: every index built, every candidate compiled once
        identify(bundle, *case)
    cases = iter(corpus)
    benchmark.pedantic(identify, setup=lambda: ((bundle, *next(cases)), {}), rounds=len(corpus))
    times = benchmark.stats.stats.data
    note(benchmark, encoding=bundle.encoding, responses=len(times), median_us=_us(statistics.median(times)),
         p99_us=_us(percentile(times, 0.99)), goal_median_us=50)


# -- (b), (c) ----------------------------------------------------------------------------------


class Pcre2Engine:
    """PCRE2 as Nmap runs it: the pattern as written, flags i and s only, no time limit."""

    name = "pcre2"
    has_timeout = False

    def __init__(self) -> None:
        import pcre2

        self._pcre2 = pcre2

    def compile(self, pattern: bytes, *, caseless: bool, dotall: bool) -> Any:
        flags = (self._pcre2.IGNORECASE if caseless else 0) | (self._pcre2.DOTALL if dotall else 0)
        return self._pcre2.compile(pattern, flags)

    def search(self, compiled: Any, subject: bytes, timeout: float | None) -> Any:
        return compiled.search(subject)


class Pcre2Naive(NaiveMatcher):
    """Naive in-order matching of the original patterns with PCRE2."""

    def __init__(self, bundle: Bundle) -> None:
        super().__init__(bundle, engine=Pcre2Engine())

    def _compile(self, entry: Entry, engine: Any = None) -> object:
        record = entry.record
        try:
            return self.engine.compile(record.pattern, caseless=record.caseless, dotall=record.dotall)
        except Exception:
            return _FAILED


@pytest.mark.parametrize("engine", ["regex", "pcre2"])
def test_naive(benchmark: Any, bundles: dict[str, Path], corpus: list[Case], engine: str) -> None:
    bundle = open_bundle(bundles["json"])
    naive = NaiveMatcher(bundle) if engine == "regex" else Pcre2Naive(bundle)
    lines = naive.precompile()
    sample = random.Random(1).sample(corpus, NAIVE_SAMPLE)
    fast = Matcher(bundle)
    for case in corpus:
        fast.identify(*case)
    cases = iter(sample)
    benchmark.pedantic(naive.identify, setup=lambda: (next(cases), {}), rounds=len(sample))
    times = benchmark.stats.stats.data
    indexed, naive_alternated = _alternated(fast, naive, sample)
    agree = sum(naive.identify(*case).line == fast.identify(*case).line for case in sample)
    note(benchmark, engine=engine, lines=lines, responses=len(times), naive_median_us=_us(statistics.median(times)),
         naive_p99_us=_us(percentile(times, 0.99)), alternated_naive_median_us=_us(statistics.median(naive_alternated)),
         alternated_indexed_median_us=_us(statistics.median(indexed)),
         speedup=round(statistics.median(naive_alternated) / statistics.median(indexed), 1),
         same_line=f"{agree}/{len(sample)}", goal_speedup_vs_regex=30)


def _alternated(fast: Matcher, naive: Matcher, sample: list[Case]) -> tuple[list[float], list[float]]:
    """Per response, the median of its :data:`REPEAT` timings with each matcher, the matchers
    taking turns over the whole sample (a pass of one, then a pass of the other: alternating
    call by call would have each evict the other's patterns from the CPU caches)."""
    clock = time.perf_counter
    ours: list[list[float]] = [[] for _ in sample]
    theirs: list[list[float]] = [[] for _ in sample]
    for _ in range(REPEAT):
        for matcher, times in ((fast, ours), (naive, theirs)):
            for i, case in enumerate(sample):
                start = clock()
                matcher.identify(*case)
                times[i].append(clock() - start)
    return [statistics.median(t) for t in ours], [statistics.median(t) for t in theirs]


# -- (d) ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["db", "json"])
def test_cold_start(benchmark: Any, bundles: dict[str, Path], child_env: dict[str, str], suffix: str) -> None:
    python = sys.executable
    bare: list[float] = []

    def baseline() -> tuple[tuple[()], dict[str, Any]]:  # interleaved, not timed by the benchmark
        start = time.perf_counter()
        subprocess.run([python, "-c", "import regex"], env=child_env, check=True)
        bare.append(time.perf_counter() - start)
        return (), {}

    def cold() -> None:
        subprocess.run([python, "-c", COLD, str(bundles[suffix])], env=child_env, check=True, cwd=ROOT)

    rounds = 25 if suffix == "db" else 8
    benchmark.pedantic(cold, setup=baseline, rounds=rounds, warmup_rounds=2)
    cold_median = statistics.median(benchmark.stats.stats.data)
    bare_median = statistics.median(bare[2:] or bare)
    one = _child_rss(bundles[suffix], None, child_env)  # goal 2.5x since issue 13: docs/benchmarks.md
    note(benchmark, encoding=suffix, cold_median_ms=round(cold_median * 1e3, 1),
         import_regex_median_ms=round(bare_median * 1e3, 1), ratio=round(cold_median / bare_median, 2),
         goal_ratio=2.5, one_banner_peak_rss_mib=round(one["maxrss_kib"] / 1024, 1))


# -- (e) ---------------------------------------------------------------------------------------


def _child_rss(bundle: Path, corpus_file: Path | None, env: dict[str, str]) -> dict[str, int]:
    if corpus_file is None:  # one banner: a corpus of one case
        corpus_file = bundle.parent / "one.bin"
        from benchmarks.stream import write_cases

        with open(corpus_file, "wb") as f:
            write_cases(f, [("NULL", "tcp", BANNER)])
    out = subprocess.run([sys.executable, "-m", "benchmarks.rss_child", str(bundle), str(corpus_file)],
                         env=env, check=True, capture_output=True, text=True, cwd=ROOT)
    result: dict[str, int] = json.loads(out.stdout)
    return result


@pytest.mark.parametrize("suffix", ["db", "json"])
def test_peak_rss(benchmark: Any, bundles: dict[str, Path], corpus_file: Path, child_env: dict[str, str],
                  suffix: str) -> None:
    results: list[dict[str, int]] = []
    benchmark.pedantic(lambda: results.append(_child_rss(bundles[suffix], corpus_file, child_env)), rounds=1)
    (result,) = results
    note(benchmark, encoding=suffix, peak_rss_mib=round(result["maxrss_kib"] / 1024, 1),
         peak_rss_mb=round(result["maxrss_kib"] * 1024 / 1e6, 1), identified=result["identified"],
         matched=result["matched"], goal_mb=32 if suffix == "db" else 30)  # docs/benchmarks.md, issue 13
