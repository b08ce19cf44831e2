"""``sigscan.identify``: matches, softmatches, no match, UDP, unknown probes and bad arguments,
the same verdict as ``sigscan identify``, and one matcher per bundle that goes with it."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import weakref
from pathlib import Path

import pytest

import sigscan
from sigscan.matcher import matcher_for
from tests.api.conftest import BANNER

DNS_REPLY = b"\x00\x00\x90\x04\x00\x00\x00\x00\x00\x00\x00\x00"


def test_a_banner_matches_with_nmaps_fields(bundle: sigscan.Bundle) -> None:
    verdict = sigscan.identify(bundle, BANNER)
    assert isinstance(verdict, sigscan.Verdict)
    assert (verdict.name, verdict.product, verdict.version, verdict.hostname) == ("ftp", "Tiny FTP", "2.1", "box")
    assert verdict.cpe == ("cpe:/a:tiny:ftp:2.1",)
    assert verdict.matched and not verdict.soft
    assert (verdict.probe, verdict.line) == ("NULL", 4)


def test_a_softmatch_is_a_verdict_with_soft_set(bundle: sigscan.Bundle) -> None:
    verdict = sigscan.identify(bundle, bytearray(b"220 Welcome\r\n"))
    assert (verdict.name, verdict.soft, verdict.product) == ("ftp", True, None)


def test_no_match_is_an_empty_verdict_not_none(bundle: sigscan.Bundle) -> None:
    verdict = sigscan.identify(bundle, b"\x00\x01garbage", probe="GetRequest")
    assert verdict == sigscan.Verdict()
    assert not verdict.matched and verdict.name is None


def test_an_empty_response_is_identified_too(bundle: sigscan.Bundle) -> None:
    assert sigscan.identify(bundle, b"") == sigscan.Verdict()


def test_a_probe_falls_back_to_null_as_in_nmap(bundle: sigscan.Bundle) -> None:
    verdict = sigscan.identify(bundle, memoryview(BANNER), probe="GetRequest")
    assert (verdict.name, verdict.probe) == ("ftp", "NULL")


def test_udp(bundle: sigscan.Bundle) -> None:
    verdict = sigscan.identify(bundle, DNS_REPLY, probe="DNSStatusRequest", proto="udp")
    assert (verdict.name, verdict.product, verdict.probe) == ("domain", "Tiny DNS", "DNSStatusRequest")
    assert sigscan.identify(bundle, DNS_REPLY, probe="DNSStatusRequest", proto="UDP") == verdict


def test_an_unknown_probe_is_a_lookup_error_that_suggests_names(bundle: sigscan.Bundle) -> None:
    with pytest.raises(sigscan.UnknownProbe, match=r"no TCP probe named 'GetReqest' .*did you mean GetRequest\?"):
        sigscan.identify(bundle, b"x", probe="GetReqest")
    with pytest.raises(LookupError, match="no UDP probe named 'NULL'"):  # UDP has no NULL probe
        sigscan.identify(bundle, DNS_REPLY, proto="udp")


def test_bad_arguments(bundle: sigscan.Bundle) -> None:
    with pytest.raises(ValueError, match="proto must be 'tcp' or 'udp', not 'sctp'"):
        sigscan.identify(bundle, BANNER, proto="sctp")
    with pytest.raises(TypeError, match="data must be bytes, not str"):
        sigscan.identify(bundle, BANNER.decode())  # type: ignore[arg-type]


def test_a_closed_bundle_is_a_bundle_error(bundles: dict[str, Path]) -> None:
    for path in bundles.values():
        bundle = sigscan.open_bundle(path)
        bundle.close()
        with pytest.raises(sigscan.BundleError):
            sigscan.identify(bundle, BANNER)


def test_the_same_verdict_as_the_command(bundle: sigscan.Bundle, tmp_path: Path) -> None:
    banner = tmp_path / "banner.bin"
    banner.write_bytes(BANNER)
    done = subprocess.run([sys.executable, "-m", "sigscan", "identify", "--bundle", bundle.path,
                           "--probe", "NULL", str(banner)], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == sigscan.identify(bundle, BANNER).to_dict()


def test_one_matcher_per_bundle_freed_with_it(bundles: dict[str, Path]) -> None:
    bundle = sigscan.open_bundle(bundles["db"])
    sigscan.identify(bundle, BANNER)
    matcher = matcher_for(bundle)
    sigscan.identify(bundle, b"220 Welcome\r\n")
    assert matcher_for(bundle) is matcher  # made once, by the first call
    assert matcher_for(sigscan.open_bundle(bundles["db"])) is not matcher  # per bundle
    gone = weakref.ref(bundle), weakref.ref(matcher)
    bundle.close()
    del bundle, matcher
    gc.collect()
    assert [ref() for ref in gone] == [None, None]  # nothing module-level keeps them
