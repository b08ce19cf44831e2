"""The Verdict record and its JSON form."""

from __future__ import annotations

import dataclasses
import json

import pytest

from sigscan.matcher.verdict import FIELD_NAMES, Verdict, tunnelled


def test_no_match_is_all_nulls() -> None:
    v = Verdict()
    assert not v.matched
    assert json.loads(v.to_json()) == {
        "name": None, "product": None, "version": None, "extrainfo": None, "hostname": None,
        "ostype": None, "devicetype": None, "tunnel": None, "cpe": [], "soft": False, "probe": None, "line": None,
        "source": None, "diagnostics": [],
    }


def test_names_and_order_are_nmaps() -> None:
    v = Verdict(name="ssh", product="OpenSSH", version="9.6", extrainfo="protocol 2.0",
                ostype="Linux", cpe=("cpe:/a:openbsd:openssh:9.6", "cpe:/o:linux:linux_kernel"),
                soft=False, probe="NULL", line=3524, source="/usr/share/nmap/nmap-service-probes",
                diagnostics=("x",))
    data = v.to_dict()
    assert list(data) == ["name", *FIELD_NAMES, "tunnel", "cpe", "soft", "probe", "line", "source",
                          "diagnostics"]
    assert FIELD_NAMES == ("product", "version", "extrainfo", "hostname", "ostype", "devicetype")
    assert json.loads(v.to_json()) == data and data["cpe"] == list(v.cpe)
    assert v.matched


def test_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        Verdict().name = "x"  # type: ignore[misc]


@pytest.mark.parametrize(("service", "soft", "expected"), [
    ("ssl/http", False, ("http", "ssl")),  # Nmap's scanThroughTunnel strips it into the tunnel
    ("ssl/http", True, ("ssl/http", None)),  # a softmatch never goes through it
    ("ssl", False, ("ssl", None)),  # the SSL restart's business, not a tunnel yet
    ("http", False, ("http", None)),
    ("sslvpn", False, ("sslvpn", None)),
])
def test_ssl_lines_are_split_as_nmap_reports_them(service: str, soft: bool,
                                                  expected: tuple[str, str | None]) -> None:
    assert tunnelled(service, soft) == expected
