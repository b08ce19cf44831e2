"""fingerprint-strings on tricky fingerprints, built by the engine's fingerprint builder (so
escaped, cut and wrapped as Nmap writes them) and read back as Nmap's ``lpeg-utility`` reads
them. Each expected output is worked out from the script's LPeg grammar (runs of at least four
printable characters, a blank run counting as one; up to three printable characters before a
control byte or blank skipped with it) and, for the backslash quirk, seen in Nmap's own output
on the emulation (tests/plugins/emulators/unknown_strings.py)."""

from __future__ import annotations

import pytest

from sigscan.engine.fingerprint import ESCAPED_BYTES, service_fingerprint
from sigscan.plugins.fingerprint_strings import PLUGIN, render, strings
from sigscan.plugins.lib.fingerprint import FingerprintError, response, responses
from tests.plugins.drive import Server, drive, view


def fingerprint(*entries: tuple[str, bytes]) -> str:
    return service_fingerprint(40123, "tcp", entries, intensity=7, tls=False, unix_time=1_715_700_000.0)


def output(*entries: tuple[str, bytes]) -> str | None:
    run = drive(PLUGIN.run(view(40123, name=None, conf=3, servicefp=fingerprint(*entries))),
                Server(lambda sent: b""))
    assert run.connections == []  # the script sends nothing
    if run.result is None:
        return None
    output = getattr(run.result, "output", None)
    assert isinstance(output, str)
    return output


@pytest.mark.parametrize(("blob", "found"), [
    (b"hello world", b"hello world"),
    (b"ab  \t cd", b"ab cd"),                       # a blank run is one character, one space
    (b"\x00\x00abc\x00defg\x00\x00hi", b"\n    defg\n    "),  # 'abc' goes with the NULs, 'hi' is dropped
    (b"abc \x01wxyz", b"abc \n    wxyz"),          # a blank run counts towards a run's four
    (b"ab \x01wxyz", b"\n    wxyz"),               # but two characters and a blank are skipped
    (b"abcd\xffefgh", b"abcd\n    efgh"),
    (b"ab", None),                                   # neither a run nor a stretch to skip
    (b"", None),
])
def test_strings_follow_the_scripts_grammar(blob: bytes, found: bytes | None) -> None:
    assert strings(blob) == found


def test_a_backslash_the_service_sent_escapes_again_as_nmap_reads_it() -> None:
    sent = b"path=C:\\new\\x41BCDEF"
    assert response(fingerprint(("NULL", sent)), "NULL") == b"path=C:\newABCDEF"
    assert output(("NULL", sent)) == "\n  NULL: \n    path=C:\n    ewABCDEF"


def test_nuls_before_digits_and_other_escapes_read_back() -> None:
    sent = b"\x001234 ok\x00abcd\r\n(x) [y] \"q\" 50% ?*+"
    assert response(fingerprint(("GetRequest", sent)), "GetRequest") == sent
    # the three-character words after the CRLF each go with the blank after them, and the
    # last is too short to print: all skipped
    assert output(("GetRequest", sent)) == "\n  GetRequest: \n    1234 ok\n    abcd"


def test_only_the_900_bytes_a_fingerprint_keeps_are_read_and_wrapping_is_undone() -> None:
    long = b"LONG-LINE-" * 120
    fp = fingerprint(("Help", long))
    assert "\nSF:" in fp
    assert response(fp, "Help") == long[:ESCAPED_BYTES]
    assert output(("Help", long)) == "\n  Help: \n    " + "LONG-LINE-" * 90


def test_probes_with_the_same_strings_share_a_label_and_labels_sort_as_bytes() -> None:
    assert output(("NULL", b"\x01banner\x02"), ("afp", b"banner"), ("GetRequest", b"other\x00text"),
                  ("Help", b"banner"), ("X11Probe", b"\x00\x01")) == (
        "\n  GetRequest: \n    other\n    text\n  Help, NULL, afp: \n    banner")


def test_nothing_printable_prints_nothing() -> None:
    assert output(("NULL", b"\x00\x01\x02ab\x03")) is None


def test_entries_after_one_that_does_not_parse_are_not_read() -> None:
    good = fingerprint(("NULL", b"first one"))
    broken = good[:-1] + '%r(GetRequest,5,"never'  # no closing quote: parse_fp stops before it
    assert responses(broken) == {"NULL": b"first one"}
    assert render(responses(broken)) == "\n  NULL: \n    first one"
    assert responses("no entries here") == {}
    with pytest.raises(FingerprintError):  # parse_fp's nil: the script fails
        drive(PLUGIN.run(view(40123, servicefp='SF-Port40123-TCP:V=7.93%r(,1,"x")')), Server(lambda s: b""))


def test_an_x_escape_without_hex_digits_is_an_error_as_in_nmap() -> None:
    with pytest.raises(FingerprintError):
        output(("NULL", b"C:\\xyz"))  # written C:\\xyz, read back as \xyz: no hex digit
    with pytest.raises(FingerprintError):
        response(fingerprint(("GetRequest", b"\\xq")), "GetRequest")


def test_the_rule_wants_a_fingerprint_whatever_the_intensity() -> None:
    assert PLUGIN.rule(view(9, servicefp=fingerprint(("NULL", b"data")), intensity=0))
    assert not PLUGIN.rule(view(80))
