"""``sigc`` against hostile probe files: every run ends in time with a documented exit code,
one clear line on error, no traceback, and no bundle destroyed."""

from __future__ import annotations

import os
import resource
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from sigscan.bundle.files import INPUT_LIMIT
from tests.helpers import TINY, write
from tests.hostile.support import run_bounded

BOUND = 60.0  # seconds: far above any of these runs, low enough to catch a hang


# -- a run that defines no probe -------------------------------------------------------------------


@pytest.mark.parametrize("content", [b"", b"# only a comment\n", b"\n"], ids=["empty", "comment", "newline"])
def test_build_and_lint_agree_on_a_file_without_probes(content: bytes, tmp_path: Path) -> None:
    """Nmap loads such a file and detects nothing; sigc calls it unusable input (exit 2) in both
    commands, and the bundle already in place stays as it was."""
    source = write(tmp_path, "none.probes", content)
    bundle = tmp_path / "signatures.db"
    good = write(tmp_path, "tiny.probes", TINY)
    run_bounded("sigc", "build", str(good), "-o", str(bundle), "-q", timeout=BOUND, codes={0})
    built = run_bounded("sigc", "build", str(source), "-o", str(bundle), timeout=BOUND, codes={2}, unchanged=[bundle])
    linted = run_bounded("sigc", "lint", str(source), timeout=BOUND, codes={2})
    for outcome in (built, linted):
        assert outcome.stdout == b"" and outcome.err.startswith("sigc: error: no Probe line in ")
    assert not (tmp_path / "other.json").exists()
    run_bounded("sigc", "build", str(source), "-o", str(tmp_path / "other.json"), timeout=BOUND, codes={2})
    assert not (tmp_path / "other.json").exists()


def test_a_file_without_probes_beside_one_with_probes_is_a_warning(tmp_path: Path) -> None:
    source = write(tmp_path, "none.probes", b"")
    good = write(tmp_path, "tiny.probes", TINY)
    bundle = tmp_path / "b.json"
    run_bounded("sigc", "build", str(good), str(source), "-o", str(bundle), "-q", timeout=BOUND, codes={0})
    assert bundle.is_file()
    linted = run_bounded("sigc", "lint", str(good), str(source), timeout=BOUND, codes={0})
    assert f"{source}:1:1: SIG547 warning" in linted.out


# -- sources that are not probe files --------------------------------------------------------------


def _fifo(tmp: Path) -> Path:
    path = tmp / "fifo.probes"
    os.mkfifo(path)
    return path


def _sparse(tmp: Path) -> Path:
    path = tmp / "huge.probes"
    with open(path, "wb") as f:
        f.truncate(INPUT_LIMIT + 1)  # a hole: no disk used, but that many bytes to read
    return path


@pytest.mark.parametrize("command", ["build", "lint"])
@pytest.mark.parametrize("make", [_fifo, lambda _: Path("/dev/zero"), _sparse], ids=["fifo", "dev-zero", "huge"])
def test_a_source_that_is_not_a_regular_file_ends_at_once(
    command: str, make: Callable[[Path], Path], tmp_path: Path,
) -> None:
    """A FIFO that no one writes to reads as empty (waiting for a writer would hang); /dev/zero
    and a huge file are read no further than the input bound, so they cannot fill the memory."""
    source = make(tmp_path)
    bundle = tmp_path / "out.db"
    args = ["-o", str(bundle)] if command == "build" else []
    outcome = run_bounded("sigc", command, str(source), *args, timeout=BOUND, codes={2},
                          rlimits={resource.RLIMIT_AS: 1 << 30})
    if stat.S_ISFIFO(source.stat().st_mode):
        assert outcome.err.startswith(f"sigc: error: no Probe line in {source}: ")
    else:
        assert outcome.err.startswith(f"sigc: error: cannot read '{source}': larger than 64 MiB")
    assert not bundle.exists()


def test_build_and_lint_agree_on_a_folder_without_a_database(tmp_path: Path) -> None:
    """A folder stands for the nmap-service-probes in it: when there is none, both commands say
    so on one line and exit 2 (build used to report it as a finding, exit 1)."""
    folder = tmp_path / "nmap"
    folder.mkdir()
    write(folder, "nmap-services", b"http\t80/tcp\t0.5\n")
    for command in ("build", "lint"):
        outcome = run_bounded("sigc", command, str(folder), timeout=BOUND, codes={2}, cwd=tmp_path)
        assert "nmap-service-probes" in outcome.err
    assert not (tmp_path / "build").exists()


# -- patterns that would make a step run away -------------------------------------------------------

# Each refused before anything compiles it: (code, pattern). The first ran lint past 30 s.
REFUSED_PATTERNS = [
    ("SIG208", b"^(?:(?:a{1000}){1000}){1000}"),  # PCRE1: regular expression is too large
    ("SIG208", b"(?:[ab]{2,3}){1700}"),
    ("SIG210", b"(?:a{1000}){6552}"),  # PCRE1 accepts it; regex.compile took 6 s
    ("SIG210", b"(?:.{65535}){5000}"),  # regex.compile ran out of memory
    ("SIG210", b"(?:" * 30 + b"a+" + b")+" * 30),  # no count: regex's compile time doubles a level
    ("SIG210", b"(?:" * 13 + b"a" + b"){2}" * 13),
]

# Accepted, and each step still quick: the worst shapes within the limits.
HEAVY_PATTERNS = [
    b"a{65535}", b"(?:a{13}){5000}", b"(" * 100 + b"a" + b")" * 100, b"(?:" * 14 + b"a" + b")+" * 14,
    b"(?:" * 9 + b"a" + b"){2}" * 9, b"(?:(?:(?:(?:ab){4}){4}){4}){60}", b"|".join(b"x%d" % i for i in range(300)),
    b"(a)" * 600, b"(?<=ab|cd)" * 150, b"(a)" + b"\\1" * 900, b"[a-z]" * 400, b"A" * 2000,
    b"(?:(?:\\w+\\s?)+)+" * 50 + b"x", b"(?:(?:a+)+" * 40 + b"b" + b")" * 40,
]


def _probe_file(tmp: Path, name: str, patterns: list[bytes]) -> Path:
    lines = [b"Probe TCP Hostile q|x|", b"rarity 1", b"ports 1"]
    lines += [b"match svc%d m\x01%s\x01 p/x/" % (i, p) for i, p in enumerate(patterns)]
    return write(tmp, name, b"\n".join(lines) + b"\n")


@pytest.mark.parametrize("command", ["lint", "build"])
def test_patterns_too_large_to_compile_are_refused_in_time(command: str, tmp_path: Path) -> None:
    source = _probe_file(tmp_path, "refused.probes", [p for _, p in REFUSED_PATTERNS])
    bundle = tmp_path / "b.db"
    args = ["-o", str(bundle)] if command == "build" else []
    outcome = run_bounded("sigc", command, str(source), *args, timeout=BOUND, codes={1}, one_line=False,
                          rlimits={resource.RLIMIT_AS: 2 << 30})
    report = outcome.out if command == "lint" else outcome.err
    for line, (code, _) in enumerate(REFUSED_PATTERNS, start=4):
        assert f"{source}:{line}:" in report and f"{code} error" in report, (line, code)
    assert not bundle.exists()


@pytest.mark.parametrize("command", ["lint", "build"])
def test_heavy_patterns_within_the_limits_pass_in_time(command: str, tmp_path: Path) -> None:
    source = _probe_file(tmp_path, "heavy.probes", HEAVY_PATTERNS)
    args = ["-o", str(tmp_path / "b.db"), "-q"] if command == "build" else []
    run_bounded("sigc", command, str(source), *args, timeout=BOUND, codes={0},
                rlimits={resource.RLIMIT_AS: 2 << 30})


# Version fields at the line length limit: the template parser and lint's template rules.
HOSTILE_FIELDS = [
    b"p/" + b"$" * 1900 + b"/",
    b"i/" + b'$SUBST(1,"a","b")' * 100 + b"/",
    b"p/" + b"$P(" * 500 + b"1" + b")" * 500 + b"/",
    b" ".join(b"p/$1/" for _ in range(300)),
    b" ".join(b"cpe:/a:b:c:$1/" for _ in range(120)),
    b'i/$SUBST(1,"' + b'\\"' * 900 + b'","x")/',
    b"v/" + b'$I(1,">")' * 200 + b"/",
]


def test_hostile_fields_end_in_time(tmp_path: Path) -> None:
    lines = [b"Probe TCP Fields q|x|", b"rarity 1", b"ports 1"]
    lines += [b"match svc%d m|^(a)| %s" % (i, f) for i, f in enumerate(HOSTILE_FIELDS)]
    assert max(map(len, lines)) < 2048  # within the line length Nmap 7.93 reads whole
    source = write(tmp_path, "fields.probes", b"\n".join(lines) + b"\n")
    run_bounded("sigc", "lint", str(source), timeout=BOUND, codes={0, 1}, one_line=False)
    run_bounded("sigc", "build", str(source), "-o", str(tmp_path / "b.db"), "-q", timeout=BOUND, codes={0, 1},
                one_line=False)


@pytest.mark.parametrize("line", [
    b"match svc m|^a\0b| p/x/",  # Nmap: next_template: parse error
    b"match svc m|^a| p/x/\0 i/dropped/",  # Nmap loads it without i/dropped/
    b"match long m|^" + b"a" * 2100 + b"|",  # Nmap 7.93 reads it in two pieces
], ids=["nul-in-pattern", "nul-after-line", "long-line"])
def test_a_file_nmap_reads_otherwise_leaves_the_bundle_alone(line: bytes, tmp_path: Path) -> None:
    bundle = tmp_path / "signatures.db"
    run_bounded("sigc", "build", str(write(tmp_path, "tiny.probes", TINY)), "-o", str(bundle), "-q",
                timeout=BOUND, codes={0})
    source = write(tmp_path, "bad.probes", b"Probe TCP P q|x|\nrarity 1\nports 1\n" + line + b"\n")
    outcome = run_bounded("sigc", "build", str(source), "-o", str(bundle), timeout=BOUND, codes={1},
                          unchanged=[bundle], one_line=False)
    assert f"{source}:4:" in outcome.err and ("SIG123 error" in outcome.err or "SIG115 error" in outcome.err)
