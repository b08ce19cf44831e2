"""The certificate subject reader (DER) on certificates made now, and on junk."""

from __future__ import annotations

import ssl

import pytest
import trustme

from sigscan.net.cert import subject


def der(cert: trustme.LeafCert) -> bytes:
    pem = cert.cert_chain_pems[0].bytes().decode()
    return ssl.PEM_cert_to_DER_cert(pem)


def test_subject_names_in_order() -> None:
    ca = trustme.CA(organization_name="Sig CA")
    cert = ca.issue_cert("example.test", common_name="example.test", organization_name="Example Org",
                         organization_unit_name="Ops")
    assert subject(der(cert)) == "organizationName=Example Org/organizationalUnitName=Ops/commonName=example.test"


def test_utf8_values() -> None:
    cert = trustme.CA().issue_cert("x.test", common_name="x.test", organization_name="Société Générale")
    text = subject(der(cert))
    assert text is not None and "organizationName=Société Générale" in text


@pytest.mark.parametrize("junk", [b"", b"\x30", b"\x30\x82\xff\xff\x30", b"not a certificate",
                                  b"\x30\x03\x02\x01\x00"])
def test_junk_gives_none(junk: bytes) -> None:
    assert subject(junk) is None


def test_truncated_certificates_give_none() -> None:
    whole = der(trustme.CA().issue_cert("t.test", common_name="t.test"))
    assert subject(whole) is not None
    for cut in range(1, len(whole), 17):
        assert subject(whole[:cut]) is None
