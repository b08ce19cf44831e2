"""The index a bundle stores for each probe is the one the compiler computes from the stored
lines themselves (sigc.prefilter): same heads, buckets, tokens, first bytes and always-lines,
and the same key description per line, for every probe of tests/data/engine.probes and of both real databases,
in both encodings."""

from __future__ import annotations

from pathlib import Path

import pytest

from sigc.prefilter import assign_keys, index_data
from sigscan.bundle.loader import open_bundle
from sigscan.matcher.index import ProbeIndex
from tests.conftest import REAL_FILES, SMALL, bundle_of


def _keys(index: ProbeIndex) -> list[tuple[str, bytes, str]]:
    return [(e.kind, e.value, e.key) for e in index.entries]


@pytest.mark.parametrize("encoding", ["db", "json"])
@pytest.mark.parametrize("name", [SMALL, *sorted(REAL_FILES)])
def test_stored_keys_build_the_computed_index(request: pytest.FixtureRequest, name: str, encoding: str) -> None:
    with open_bundle(bundle_of(request, name, encoding)) as bundle:
        for probe in bundle.probes:
            computed = index_data(assign_keys(bundle.matches(probe.id)))
            assert bundle.probe_index(probe.id) == computed, f"{probe.protocol}/{probe.name}"
            assert (_keys(ProbeIndex.load(bundle, probe.id))
                    == _keys(ProbeIndex.from_data(bundle, probe.id, computed))), probe.name


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
