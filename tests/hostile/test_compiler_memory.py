"""A large probe file lints and builds within a bound of memory per line (hardening item 14).

Memory is bounded, not timed: the command runs with its address space limited (``RLIMIT_AS``,
inherited by the analysis' forked helper) to :data:`BASE` plus :data:`PER_LINE` for each of the
file's :data:`LINES` lines. Past the limit Python raises MemoryError and the run ends with a
traceback, which :func:`~tests.hostile.support.run_bounded` refuses.

The lines are made here, each pattern different (as in a real file, where nothing a line's
analysis makes is shared with another), spread over ten probes like a real file's, with
version fields that read groups. Measured on the CI machine (peak address space of the main
process, MiB): sigc lint 149 before item 14 and 77 after, sigc build 134 and 92; the bound
is 113. What one line costs in full (time, resident memory, real databases) is in
docs/benchmarks.md.
"""

from __future__ import annotations

import resource
from pathlib import Path

import pytest

from tests.hostile.support import run_bounded

LINES = 20_000
PROBES = 10
BASE = 64 << 20  # bytes of address space for Python, the compiler's modules and their libraries
PER_LINE = 2560  # bytes of address space per match line
TIMEOUT = 120.0  # seconds; a run takes about 10 s on the CI machine

SHAPES = (
    b"match http m|^HTTP/1\\.[01] \\d\\d\\d .*\\r\\nServer: Prod%(i)d/([\\d.]+)\\r\\n|s"
    b" p/Product %(i)d/ v/$1/ cpe:/a:vendor%(i)d:product:$1/\n",
    b"match ftp m|^220 host%(i)d FTP server \\(Version ([\\w._-]+)\\) ready\\.\\r\\n| p/FTPd %(i)d/ v/$1/ o/Unix/\n",
    b"match ssh m|^SSH-2\\.0-Impl%(i)d[_-]([\\w.]+)(?: (\\w+))?\\r?\\n| p/Impl %(i)d SSH/ v/$1/ i/$2/\n",
    b"softmatch smtp m|^220 [-.\\w]+ ESMTP mailer%(i)d\\r\\n|\n",
    b"match redis m|^\\$\\d+\\r\\n# Server\\r\\nredis_version:%(i)d\\.([\\d.]+)\\r\\n|s p/Redis %(i)d/ v/$1/\n",
)


def _probes(lines: int) -> bytes:
    out = [b"Probe TCP NULL q||\ntotalwaitms 6000\n"]
    per_probe = lines // PROBES
    for i in range(lines):
        if i % per_probe == 0 and i:
            out.append(b"Probe TCP Get%d q|GET /%d HTTP/1.0\\r\\n\\r\\n|\nrarity 1\nports 80\n" % (i, i))
        out.append(SHAPES[i % len(SHAPES)] % {b"i": i})
    return b"".join(out)


@pytest.mark.slow
@pytest.mark.parametrize("command", ["lint", "build"])
def test_a_large_file_within_a_memory_bound_per_line(tmp_path: Path, command: str) -> None:
    source = tmp_path / "large.probes"
    source.write_bytes(_probes(LINES))
    target = tmp_path / "large.db"
    args = [command, str(source)] + (["-o", str(target), "-q"] if command == "build" else [])
    out = run_bounded("sigc", *args, timeout=TIMEOUT, codes={0}, unchanged=[source],
                      rlimits={resource.RLIMIT_AS: BASE + LINES * PER_LINE})
    if command == "lint":
        assert out.out.endswith("0 errors, 0 warnings, 0 info\n"), out.out[-2000:]
    else:
        assert target.stat().st_size > 0
