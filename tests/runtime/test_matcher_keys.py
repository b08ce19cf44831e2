"""The prefilter keys the compiler stores give the index the matcher would compute from the
lines themselves: same heads, buckets, tokens, first bytes and always-lines, and the same key
description per line, for every probe of tests/data/engine.probes and of both real databases,
in both encodings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sigscan.bundle.loader import open_bundle
from sigscan.matcher.index import ProbeIndex
from tests.conftest import REAL_FILES, SMALL, bundle_of


def _shape(index: ProbeIndex) -> dict[str, Any]:
    return {**index.to_data(), "keys": [(e.kind, e.value, e.key) for e in index.entries]}


@pytest.mark.parametrize("encoding", ["db", "json"])
@pytest.mark.parametrize("name", [SMALL, *sorted(REAL_FILES)])
def test_stored_keys_build_the_computed_index(request: pytest.FixtureRequest, name: str, encoding: str) -> None:
    with open_bundle(bundle_of(request, name, encoding)) as bundle:
        for probe in bundle.probes:
            stored = ProbeIndex.load(bundle, probe.id)
            computed = ProbeIndex(probe, bundle.matches(probe.id))
            assert _shape(stored) == _shape(computed), f"{probe.protocol}/{probe.name}"


def test_lines_are_read_only_when_they_become_candidates(nmaplike_built: dict[str, Path]) -> None:
    from sigscan.matcher.index import Subject

    with open_bundle(nmaplike_built["db"]) as bundle:
        null = bundle.probe("NULL")
        assert null is not None
        index = ProbeIndex.load(bundle, null.id)
        found = index.candidate_entries(Subject(b"SSH-2.0-OpenSSH_9.6\r\n"))
        assert found and all(e.record.seq == e.pos for e in found)
        assert 0 < index._loaded == len(found) < index.size / 10
        assert found[0].record == bundle.matches(null.id)[found[0].pos]
