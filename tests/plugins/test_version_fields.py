"""The emulations of the HTTP family and fingerprint-strings (tests/plugins/emulators:
https_redirect, http_devices, api_services, unknown_strings): beyond the fields
test_emulations.py compares, the ones these scripts also set or keep, ``cpe`` (scripts append
to the list the probes made), ``hostname``, ``devicetype``, ``ostype``, and the ``method`` and
``conf`` ``nmap.set_port_version`` gives, are the same in sigscan's scans (both profiles) as
in the real ``nmap -sV --script version`` on the same ports."""

from __future__ import annotations

import pytest

from tests.plugins.conftest import PROFILES, Scans
from tests.plugins.emulators import modules

MINE = ("https_redirect", "http_devices", "api_services", "unknown_strings")
FIELDS = ("cpe", "hostname", "devicetype", "ostype", "method", "conf")
CASES = [(m.__name__.rsplit(".", 1)[1], s.proto, s.port) for m in modules()
         if m.__name__.rsplit(".", 1)[1] in MINE for s in m.SERVERS]


def test_the_cases_are_there() -> None:
    assert {case[0] for case in CASES} == set(MINE)


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}-{c[2]}/{c[1]}")
def test_script_set_fields_match_nmap(case: tuple[str, str, int], profile: str, scans: Scans) -> None:
    module, proto, port = case
    reference = scans.nmap[module].get((proto, port))
    got = scans.sigscan[(profile, module)].get((proto, port))
    assert reference is not None, scans.raw[("reference", module)]
    assert got is not None, scans.raw[(profile, module)]
    assert {f: getattr(got, f) for f in FIELDS} == {f: getattr(reference, f) for f in FIELDS}, (
        f"{module} {port}/{proto}")
