"""Child process of the memory benchmark: open a bundle, identify every case of a corpus stream,
print one JSON object with the peak resident set size and counts.

The peak is the kernel's high-water mark of this process's memory (``VmHWM`` in
``/proc/self/status``). ``resource.getrusage().ru_maxrss`` would be the same number on its own,
but Linux carries ``ru_maxrss`` over from the parent at ``fork``, so a child of a big process
(pytest holding the corpus) reports the parent's peak; it is the fallback where /proc is absent.

Usage: python -m benchmarks.rss_child BUNDLE CORPUS [--one]  (``--one``: only the first case,
the memory of a cold ``sigscan identify``)
"""

from __future__ import annotations

import json
import resource
import sys

from benchmarks.stream import read_cases
from sigscan.bundle.loader import open_bundle
from sigscan.matcher import identify


def main(bundle_path: str, corpus_path: str, one: bool) -> dict[str, int]:
    bundle = open_bundle(bundle_path)
    seen = matched = 0
    with open(corpus_path, "rb") as f:
        for probe, proto, data in read_cases(f):
            seen += 1
            matched += identify(bundle, probe, proto, data).matched
            if one:
                break
    return {"maxrss_kib": peak_kib(), "identified": seen, "matched": matched}


def peak_kib() -> int:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2], "--one" in sys.argv[3:])))
