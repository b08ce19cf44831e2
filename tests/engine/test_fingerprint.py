"""The ``SF-Port…`` fingerprint against fingerprints printed by the real ``nmap -sV`` 7.93.

How the expectations were captured (2026-11-23, Debian's nmap 7.93, TZ=UTC): a small asyncio
server on 127.0.0.1 played each response (``banner_close``: send the bytes on connect, then close;
``udp``: answer every non-empty datagram; the SSL case was ``openssl s_server -rev`` on
127.0.0.1), and ``nmap -sV -Pn -n --version-intensity N -p PORT 127.0.0.1 -oN out`` printed
the fingerprints copied below verbatim. ``%Time`` is the capture's own clock. Some runs also
had ``--version-trace``, which raises Nmap's limits to 1,300 bytes per response and 10,000
characters (debug mode); that changes nothing for those short fingerprints.
"""

from __future__ import annotations

import datetime
import hashlib
import re

import pytest

from sigscan.engine.catalog import Catalog
from sigscan.engine.events import Proto
from sigscan.engine.fingerprint import ESCAPED_BYTES, SIZE_LIMIT, escape, service_fingerprint
from sigscan.engine.results import Method, PortResult, PortState
from sigscan.testing.fake import Behaviour, Server, close, on, send
from tests.engine.support import scan

UTC = datetime.UTC
BANNER = b"XYZZY unknown banner \x00\x01 [v1.0]\r\n"

# nmap -sV --version-intensity 0 -p 4004,41003 (banner, then close)
PORT_4004 = "\n".join((
    'SF-Port4004-TCP:V=7.93%I=0%D=11/23%Time=6B03DFF5%P=x86_64-pc-linux-gnu%r(N',
    'SF:ULL,20,"XYZZY\\x20unknown\\x20banner\\x20\\0\\x01\\x20\\[v1\\.0\\]\\r\\n");',
))
PORT_41003 = "\n".join((
    'SF-Port41003-TCP:V=7.93%I=0%D=11/23%Time=6B03DFF5%P=x86_64-pc-linux-gnu%r(',
    'SF:NULL,20,"XYZZY\\x20unknown\\x20banner\\x20\\0\\x01\\x20\\[v1\\.0\\]\\r\\n");',
))

# nmap -sU -sV --version-intensity 2 -p U:41006 (the port went open|filtered -> open)
UDP_REPLY = b"\x01\x02unknown udp reply\r\n\x00\x00\xff"
PORT_41006_UDP = "\n".join((
    'SF-Port41006-UDP:V=7.93%I=2%D=11/23%Time=6B03E00A%P=x86_64-pc-linux-gnu%r(',
    'SF:RPCCheck,18,"\\x01\\x02unknown\\x20udp\\x20reply\\r\\n\\0\\0\\xff")%r(DNSVersion',
    'SF:BindReq,18,"\\x01\\x02unknown\\x20udp\\x20reply\\r\\n\\0\\0\\xff");',
))

# nmap -sV --version-intensity 2 -p 41011 against openssl s_server -rev: SSLSessionReq was
# answered with an alert (ssl), then every probe ran again through TLS; the header says %T=SSL
# and is longer than one line.
PORT_41011_SSL = "\n".join((
    'SF-Port41011-TCP:V=7.93%T=SSL%I=2%D=11/23%Time=6B03E030%P=x86_64-pc-linux-',
    'SF:gnu%r(GenericLines,2,"\\n\\n")%r(GetRequest,10,"0\\.1/PTTH\\x20/\\x20TEG\\n\\n',
    'SF:")%r(SSLSessionReq,34,"\\0\\x13\\0\\x16\\0\\(\\0\\0n\\x10\\xefo\\xdb=<\\xdb\\xc4\\xe6',
    'SF:\\x9bw\\xc8\\x96\\xd5\\xb9{\\x82\\xfd\\0\\xf3~`\\xb2\\xea\\xee,\\xba\\xf7\\xd7G\\?\\0\\x0',
    'SF:3O\\0\\0\\x01S\\0\\0\\x03\\x16\\n")%r(TLSSessionReq,32,"\\0/\\0\\x0c\\0\\x004modnar3',
    'SF:modnar2modnar1modnar\\xe4\\xa7\\x1cU\\x03\\x03e\\0\\0\\x01i\\0\\0\\x03\\x16\\n");',
))
SSL_RESPONSES = (
    ('GenericLines', b'\n\n'),
    ('GetRequest', b'0.1/PTTH / TEG\n\n'),
    ('SSLSessionReq', b'\x00\x13\x00\x16\x00(\x00\x00n\x10\xefo\xdb=<\xdb\xc4\xe6\x9bw\xc8\x96\xd5\xb9{\x82\xfd\x00\xf3~`\xb2\xea\xee,\xba\xf7\xd7G?\x00\x03O\x00\x00\x01S\x00\x00\x03\x16\n'),
    ('TLSSessionReq', b'\x00/\x00\x0c\x00\x004modnar3modnar2modnar1modnar\xe4\xa7\x1cU\x03\x03e\x00\x00\x01i\x00\x00\x03\x16\n'),
)

# nmap -sV --version-intensity 2 -p 8: a NUL before a digit is written \x00; DEL and 0x80 as \xhh
PORT_8 = "\n".join((
    'SF-Port8-TCP:V=7.93%I=2%D=11/23%Time=6B03E04E%P=x86_64-pc-linux-gnu%r(NULL',
    'SF:,10,"\\x00123\\x20short\\x20\\x7f\\x80\\x20ab");',
))

# nmap -sV --version-intensity 2 -p 41022: 1,103 bytes, sent again (then closed) on every
# connection. Only the first 900 bytes are written, the length says 0x44F, and no other probe's
# entry follows because the text is already over 2,200 characters.
LONG = b"ZQX" + b"".join(hashlib.sha256(b"sigc-%d" % i).digest() for i in range(35))[:1100]
PORT_41022_LONG = "\n".join((
    'SF-Port41022-TCP:V=7.93%I=2%D=11/23%Time=6B03E05C%P=x86_64-pc-linux-gnu%r(',
    'SF:NULL,44F,"ZQX\\x15\\x10\\xca\\x17:yQw\\xa9\\xecm\\+\\xe5\\+\\xa1\\xf6\\xa0\\xe7\\x8d\\',
    'SF:xa3\\x88L\\xa7\\xaeB\\x88\\xed>\\xb8\\xc01\\xc0\\x88\\xc8\\xab\\xebG<\\x9f\\x02d\\xde\\',
    'SF:xfb\\*\\x9fS\\xcb\\x81O6\\xe8\\x94F\\xd0\\xd1\\xd6O\\xc5\\xd8xL\\^\\x9c\\x17\\xc5\\xfd\\',
    'SF:xf7\\x20\\x13I\\x016w\\"u:\\xe9v\\|\\xfe\\x1e\\xbb2\\?E\\xe5\\x82\\xf9\\xcc\\x18\\x91\\x',
    'SF:99\\xbb\\x08sg\\x8a\\x08\\xcb\\x06\\xc77\\xc2Th\\xc0D\\xc5\\x96\\xcd\\x15\\xc6:\\xd4\\x',
    'SF:1e\\x15\\x06\\xcb\\xe3=M#\\x8a\\x10\\xf8\\xe5\\xc1\\x8bT\\xb9\\x94\\x95M\\xde3\\xe2\\xe',
    "SF:aW\\xb0\\x1b\\xca\\xab\\xc4Y\\x05V\\x13\\x91R\\x97\\x910\\xff\\*\\xdb'\\xb3\\xbcI\\xc8\\",
    'SF:xe9\\xb1\\\\\\xeb\\xbeVS\\xccx\\xe0~\\xafIS\\\\c\\xa5\\xe9=\\xf3\\x84G\\x8aj\\?\\xad\\xa5',
    'SF:E\\x80u~C\\xe6\\^\\|Y\\xfd\\x0fi\\x1b\\\\\\x07\\)\\xaa\\xa0;\\x1f\\xe9F\\x88\\t\\x1c\\x9c\\',
    'SF:xdc\\xe1\\x8f\\xd9\\x1d~\\x02\\xbc\\x03\\xe3gjLL\\xcd\\(\\(jO\\x9f\\xd7\\x93:\\+\\xda\\x',
    'SF:cc\\xcb\\x02\\xcc\\xf4\\xa2\\x9eeD=\\x1f\\x0e\\x180V\\xb5\\x11P\\x19\\nP_YB1\\xda\\t\\x',
    'SF:cb\\xac\\x03F\\x12\\]\\xad\\xee\\*\\x08\\xd4\\x8d\\xbatku\\x11u\\)\\x8f\\+\\.\\x13\\x17_\\',
    'SF:xfe\\xe9K\\xbd\\xfal\\x07\\xa0\\xa9\\xa6J\\x8e\\\\\\x0f\\xc4E\\x15\\x89\\x98c\\xccH\\xe5',
    'SF:\\x91T\\xf5\\xac\\x17r\\x820\\x03\\xacO\\x91\\x90\\xd9\\xed\\xa7K\\x80h\\x06\\xf8\\x1f2',
    "SF:\\xcdi\\xe2\\xd2\\xc5n\\xc4toXW\\xd6'}T\\xd3\\x01\\x9d\\xea\\xb4\\x96\\xa5Q\\*\\xef\\xc",
    "SF:1\\xf1\\xe00\\x08\\xf2\\^H\\xbb\\xdc5\\xd9\\xa6\\xca\\x069\\xdc\\x18\\xd3\\xfa\\x7f&'\\x",
    'SF:c1\\xca\\xd3\\xf6\\xa4,\\x18u\\xfa\\xc2\\x96t\\xads\\x9d\\x157\\x97\\x20\\xf5;\\+lY/P\\',
    'SF:xd4\\xf5h\\xb2\\xcb\\)\\"\\x0fp\\x07\\xb0\\xf0\\xd7L\\"\\xbe\\)\\x86\\xe7\\xa0\\xb8\\x87\\',
    'SF:x94\\xa1\\xe6t\\x8d1\\xab\\$\\xcf\\x01\\xfao7\\xb8{\\x9ce\\x0b\\xc6\\xc2\\x9f\\x06\\x97',
    'SF:\\x9e\\x14\\xb2\\xdaZ\\xcb\\*\\xa9\\xf1\\xc8\\x0b\\x8e\\xef\\xe1\\xe2\\x98\\xa7i\\xf1\\x1',
    'SF:4\\xd5\\xc0!\\xb1\\xc569\\xff>\\xd6\\x98\\xd7<\\xa8m\\x95\\x88\\x19\\xb6w\\x89\\x0c\\xd',
    'SF:8\\xa5\\x15-\\x88\\xeep\\x8f\\xd6E\\x16;\\xba\\xd1\\x85t\\xfa=\\x9c\\x9a\\xd6t\\xce\\xc',
    'SF:d0\\x92f\\xc1\\xf1O\\xc8\\xe8\\x81\\xa3\\x1d\\xfb@\\x18\\xce\\xa8\\xa2\\.\\xd1h\\xb8\\x8',
    'SF:1Q>\\xbe\\x9c\\xfe8f\\x15\\)\\x0f\\xc0\\.u\\xdd\\xf6vG\\xa4p\\xf0\\xe8\\xa9\\x99\\"\\xf6',
    "SF:\\xd5~\\xde\\x0c\\xcb5\\xae\\n\\t\\xd3\\\\\\x030:=\\xf6'\\xe2\\xb180\\xfd\\x0c\\x13\\xd4\\",
    'SF:xb3\\xb1\\xee\\x0e\\xfd\\xb6\\xfd\\xfd\\x1c;\\x85\\xa2So\\x1f\\x12\\xb3\\x9e\\xfcC\\x1f',
    'SF:yS\\xfe\\x19o4l1\\x8d\\xd7,\\xc8\\x05\\x96<\\xd3\\x05\\xc5\\xd9T\\x08\\xf6\\x1eW\\x16\\',
    "SF:xc7\\x8aV5\\xfd\\xa0\\xd5\\x1a\\xf2o-\\r\\xc6\\xe9\\xd6\\xdd'\\xd0#a\\x0e\\xd6\\xadl\\x",
    'SF:0cV\\xbbP\\x0b4\\x9c<\\xfb\\xfdo%\\x8a\\x98\\xdf\\x94\\xb1\\xc3\\xf4\\xb7\\xfa\\xb8\\xf',
    'SF:9\\xbb\\xfe\\?F\\xe1Nd\\x85\\xa5b\\xab\\xe3\\x8e\\xda\\xd0\\xf9\\x1ecs\\xd5y\\x2028\\x8',
    'SF:4\\x08\\xba\\xf4\\x91C\\xbc=f{K\\x95\\x81\\xa2\\x1b\\xf7\\x06\\^\\tt\\xf5e\\x15\\x82jk\\',
    'SF:x8a\\x19`\\[:B\\xfe\\xf4\\xe9\\x8b\\xf8\\x86\\xd7\\x9c\\xb52\\xba\\xabAg\\xec\\xd0=\\xf',
    'SF:2\\xa3z\\xeb\\x84u\\x9a\\x17L\\xc9\\xa3\\xaf\\x15oX\\xb1\\xae\\xbb\\x92\\x04\\x03P{60\\',
    'SF:x1c_\\xfee\\x7f\\x0f\\x0f\\x12f\\xee\\xaeq\\x85\\x19\\(\\x94\\xb7\\x91\\xfd\\xde\\xf6\\x',
    'SF:de\\x1a\\xa9\\xc9\\x8a\\xfa\\x1ab\\xe6\\^T\\xdd\\x88n\\x9f\\x82\\x19\\xf8\\?\\xa7,\\x8b\\',
    'SF:x9b\\xc6\\xe4,\\r\\xc2!AK\\xc7~\\x9d\\x90@\\x89\\xc0n5\\xd4\\x96\\xbf/\\xae\\x93bl\\xa',
    'SF:5\\x96\\xfeX\\xfe\\x123\\x01;\\$\\|\\xc2y\\x001\\xb8\\xc1\\|Vl\\xd1\\x9a\\n\\xbf\\xa6\\xf',
    'SF:fq\\xf5\\x0b\\xf1\\$\\xb5P\\xceZ\\xbb\\x1c\\x05\\xcbsX\\xdf\\x81=");',
))


def fp(port: int, proto: str, responses: list[tuple[str, bytes]], intensity: int, stamp: str,
       tls: bool = False) -> str:
    return service_fingerprint(port, proto, responses, intensity=intensity, tls=tls,
                               unix_time=int(stamp, 16), tz=UTC)


def test_captured_null_banners_with_short_and_long_ports() -> None:
    assert fp(4004, "tcp", [("NULL", BANNER)], 0, "6B03DFF5") == PORT_4004
    assert fp(41003, "tcp", [("NULL", BANNER)], 0, "6B03DFF5") == PORT_41003


def test_captured_udp_fingerprint() -> None:
    responses = [("RPCCheck", UDP_REPLY), ("DNSVersionBindReq", UDP_REPLY)]
    assert fp(41006, "udp", responses, 2, "6B03E00A") == PORT_41006_UDP


def test_captured_ssl_fingerprint_wraps_inside_the_header() -> None:
    assert fp(41011, "tcp", list(SSL_RESPONSES), 2, "6B03E030", tls=True) == PORT_41011_SSL
    assert PORT_41011_SSL.splitlines()[0].endswith("%P=x86_64-pc-linux-")


def test_captured_nul_before_digit_and_high_bytes() -> None:
    assert fp(8, "tcp", [("NULL", b"\x00123 short \x7f\x80 ab")], 2, "6B03E04E") == PORT_8


def test_captured_long_response_is_cut_and_ends_the_fingerprint() -> None:
    responses = [(name, LONG) for name in ("NULL", "GenericLines", "GetRequest", "SSLSessionReq")]
    assert fp(41022, "tcp", responses, 2, "6B03E05C") == PORT_41022_LONG
    flat = PORT_41022_LONG.replace("\nSF:", "")
    assert flat.count("%r(") == 1 and ",44F," in flat


def test_verified_sample_of_the_semantics_doc() -> None:
    """nmap-semantics §8: the first lines of its sample (NULL banner, then the same banner glued
    to the echo of GenericLines on the reused connection)."""
    got = fp(41003, "tcp", [("NULL", BANNER), ("GenericLines", BANNER + b"ECHO:\r\n\r\n")],
             2, "6B0277A0")
    assert got.splitlines()[:3] == [
        "SF-Port41003-TCP:V=7.93%I=2%D=11/22%Time=6B0277A0%P=x86_64-pc-linux-gnu%r(",
        'SF:NULL,20,"XYZZY\\x20unknown\\x20banner\\x20\\0\\x01\\x20\\[v1\\.0\\]\\r\\n")%r(Gene',
        'SF:ricLines,29,"XYZZY\\x20unknown\\x20banner\\x20\\0\\x01\\x20\\[v1\\.0\\]\\r\\nECHO:',
    ]


def test_case_10_escaping() -> None:
    """nmap-semantics §11 case 10."""
    got = fp(41003, "tcp", [("NULL", bytes.fromhex("41200031ff3f250d0a"))], 7, "6B0277A0")
    assert '%r(NULL,9,"A\\x20\\x001\\xff\\?%\\r\\n")' in got.replace("\nSF:", "")


@pytest.mark.parametrize(("byte", "text"), [
    (b"a", "a"), (b"Z", "Z"), (b"7", "7"), (b"\x00", "\\0"), (b" ", "\\x20"),
    (b"\r", "\\r"), (b"\n", "\\n"), (b"\t", "\\t"), (b"\x0b", "\\x0b"), (b"\x7f", "\\x7f"),
    (b"\xe9", "\\xe9"), *[(bytes([c]), "\\" + chr(c)) for c in b'\\?"[]().*+$^|'],
    *[(bytes([c]), chr(c)) for c in b"!#%&',-/:;<=>@_`{}~"],
])
def test_escape_each_class(byte: bytes, text: str) -> None:
    assert escape(byte) == text


def test_lines_are_74_characters_and_the_semicolon_is_never_wrapped() -> None:
    for size in range(1, 300):
        text = fp(12345, "tcp", [("NULL", b"x" * size)], 7, "6B0277A0")
        *full, last = text.split("\n")
        assert all(len(line) == 74 for line in full), size
        assert last.endswith(";") and 4 <= len(last) <= 75
        assert all(line.startswith("SF:") for line in text.split("\n")[1:])


def test_no_entry_after_2200_characters_and_900_bytes_per_entry() -> None:
    entries = [(f"P{i}", b"a" * 1000) for i in range(5)]
    flat = fp(1, "tcp", entries, 7, "1").replace("\nSF:", "")
    assert flat.count("%r(") == 3  # the text is about 1,000 then 2,000 characters long
    assert f',3E8,"{"a" * ESCAPED_BYTES}")' in flat
    assert SIZE_LIMIT == 2200


def test_nothing_to_print_without_data() -> None:
    assert fp(1, "tcp", [], 7, "1") == ""
    assert fp(1, "tcp", [("NULL", b"")], 7, "1") == ""


def test_a_nul_at_the_cut_is_not_followed_by_a_digit() -> None:
    data = b"a" * (ESCAPED_BYTES - 1) + b"\x001"
    assert fp(1, "tcp", [("NULL", data)], 7, "1").replace("\nSF:", "").endswith('\\0");')


def test_local_time_zone_by_default() -> None:
    stamp = 1_700_000_000
    local = datetime.datetime.fromtimestamp(stamp).astimezone()
    text = service_fingerprint(80, "tcp", [("NULL", b"x")], intensity=7, tls=False, unix_time=stamp)
    assert f"%D={local.month}/{local.day}%Time=6553F100%" in text.replace("\nSF:", "")


# -- the engine end to end: the same servers, scripted, give the same fingerprints ----------------
# (on tests/data/engine.probes, whose probe names, order, rarities and waits are 7.93's for these
# ports and intensities, so the engine sends what nmap sent)


def _engine_fp(catalog: Catalog, server: Server, port: int, proto: Proto, intensity: int,
               stamp: str, state: PortState = PortState.OPEN, entry_at: float = 0.0) -> PortResult:
    """The engine's result; ``stamp`` is the time of the first fingerprint entry, which the
    engine adds ``entry_at`` seconds after the start."""
    result, _ = scan(catalog, server, port, proto, state=state, intensity=intensity, net_rtt=0.0,
                     unix_time=int(stamp, 16) - entry_at, unix_time_clock=0.0, tz=UTC)
    return result


def test_engine_gives_the_captured_tcp_fingerprints(nmaplike: Catalog) -> None:
    server = Server(Behaviour(banner=(close(0.0, BANNER),)))
    short = _engine_fp(nmaplike, server, 4004, Proto.TCP, 0, "6B03DFF5")
    assert short.service is not None and short.service.servicefp == PORT_4004
    assert (short.service.name, short.service.conf) == ("pxc-roid", 3)  # as nmap printed it
    long_port = _engine_fp(nmaplike, server, 41003, Proto.TCP, 0, "6B03DFF5")
    assert long_port.service is not None and long_port.service.servicefp == PORT_41003
    cut = _engine_fp(nmaplike, Server(Behaviour(banner=(close(0.0, LONG),))), 41022, Proto.TCP, 2,
                     "6B03E05C")
    assert cut.service is not None and cut.service.servicefp == PORT_41022_LONG


def test_engine_gives_the_captured_udp_fingerprint(nmaplike: Catalog) -> None:
    server = Server(Behaviour(rules=(on(b".", send(UDP_REPLY)),)))
    # the first entry is added when RPCCheck's 5-second wait ends
    result = _engine_fp(nmaplike, server, 41006, Proto.UDP, 2, "6B03E00A", PortState.OPEN_FILTERED, 5.0)
    assert result.service is not None and result.service.servicefp == PORT_41006_UDP
    assert (result.state, result.reason) == (PortState.OPEN, "udp-response")


def test_engine_gives_the_captured_ssl_fingerprint(nmaplike: Catalog) -> None:
    """openssl s_server -rev, scripted: it closes plain connections on anything but a TLS hello,
    answers nmap's SSLv3 hello with an alert, and through TLS reverses each line it reads. The
    entries come from the TLS phase only; %Time is the moment of the first one, so it is
    compared apart."""
    replies = dict(SSL_RESPONSES)
    by_name = {p.name: p for p in nmaplike.probes[Proto.TCP]}
    tls = Behaviour(rules=tuple(on(b"^" + re.escape(by_name[name].payload), send(reply))
                                for name, reply in replies.items()))
    plain = Behaviour(rules=(on(rb"^\x16\x03\x00", close(0.0, b"\x15\x03\x00\x00\x02\x02\x28")),
                             on(rb"^[^\x16]", close(0.0))))
    result = _engine_fp(nmaplike, Server(plain=plain, tls=tls), 41011, Proto.TCP, 2, "6B03E030")
    svc = result.service
    assert svc is not None and (svc.name, svc.tunnel, svc.method, svc.conf) == (None, "ssl", Method.TABLE, 3)
    stamp = re.compile(r"%Time=[0-9A-F]{8}%")
    assert svc.servicefp is not None
    assert stamp.sub("%Time=T%", svc.servicefp) == stamp.sub("%Time=T%", PORT_41011_SSL)


# nmap -sV --version-intensity 0 -p 79 against a server that sends 5,000 bytes on connect and
# "!" after the first bytes it reads: the NULL probe stops at the 4,096-byte cap, GenericLines
# reuses its connection (5,000 + 1 bytes glued), GetRequest reads 5,000 at once on a new
# connection, and Help's entry is left out (over 2,200 characters).
PORT_79_CAP = "\n".join((
    'SF-Port79-TCP:V=7.93%I=0%D=11/23%Time=6B03E50B%P=x86_64-pc-linux-gnu%r(NUL',
    'SF:L,1388,"QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ',
    'SF:QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ',
    'SF:QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ',
    'SF:QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ',
    'SF:QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ',
    'SF:QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ',
    'SF:QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ',
    'SF:QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ',
    'SF:QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ',
    'SF:QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ',
    'SF:QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ',
    'SF:QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ',
    'SF:QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ")%r(GenericLin',
    'SF:es,1389,"QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ',
    'SF:QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ',
    'SF:QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ',
    'SF:QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ',
    'SF:QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ',
    'SF:QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ',
    'SF:QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ',
    'SF:QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ',
    'SF:QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ',
    'SF:QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ',
    'SF:QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ',
    'SF:QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ',
    'SF:QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ")%r(GetReques',
    'SF:t,1388,"QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ',
    'SF:QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ',
    'SF:QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ',
    'SF:QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ',
    'SF:QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ',
    'SF:QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ',
    'SF:QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ',
    'SF:QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ',
    'SF:QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ',
    'SF:QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ',
    'SF:QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ',
    'SF:QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ',
    'SF:QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ");',
))


def test_engine_gives_the_captured_read_cap_fingerprint(nmaplike: Catalog) -> None:
    server = Server(Behaviour(banner=(send(b"Q" * 5000),), rules=(on(b".", send(b"!")),)))
    result = _engine_fp(nmaplike, server, 79, Proto.TCP, 0, "6B03E50B")
    assert result.probes == ("NULL", "GenericLines", "GetRequest", "Help")
    assert result.service is not None and result.service.servicefp == PORT_79_CAP
