"""xmpp-info on scripted XMPP servers (streams written here from RFC 6120 and the XEPs the script
knows): its tag reader, the three streams it opens, the features and errors it lists, the
server software it guesses from stream IDs (against the real Prosody:
tests/services/test_scan_vs_nmap.py)."""

from __future__ import annotations

import pytest

from sigscan.engine.plugin import PortView
from sigscan.engine.results import Method, PortState, Service
from sigscan.plugins.xmpp_info import PLUGIN, parse_tag, rule, run, server_software
from tests.plugins.peer import Peer, silent_run, talk

UUID = "c6455cc7-6ca5-4d88-8c58-a4ef7167f778"


def header(stream_id: str, extra: str = "") -> bytes:
    return (f"<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream="
            f"'http://etherx.jabber.org/streams' id='{stream_id}' xml:lang='en' version='1.0'{extra}>"
            ).encode()


HOST_UNKNOWN = (b"<stream:error><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
                b"<text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>This server does not serve "
                b"</text></stream:error></stream:stream>")
FEATURES = (b"<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/>"
            b"</starttls><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN"
            b"</mechanism><mechanism>SCRAM-SHA-1</mechanism></mechanisms><compression xmlns="
            b"'http://jabber.org/features/compress'><method>zlib</method></compression>"
            b"<register xmlns='http://jabber.org/features/iq-register'/><c xmlns='http://jabber.org"
            b"/protocol/caps' hash='sha-1' node='http://www.process-one.net/en/ejabberd/' "
            b"ver='TQ2JFyRoSa70h2G1bpgjzuXb2sU='/><weird/></stream:features>")


def view(name: str | None = "xmpp-client", port: int = 5222, hostname: str | None = None) -> PortView:
    return PortView("127.0.0.1", port, "tcp", PortState.OPEN, "syn-ack",
                    Service(name, Method.TABLE, 3, servicefp="SF-fp"), hostname=hostname)


def prosody_like(n: int, data: bytes) -> list[bytes | None]:
    """Every stream to an unknown host ends with host-unknown (IDs: UUIDs)."""
    return [header(UUID), HOST_UNKNOWN, None]


def test_a_server_that_serves_no_such_host() -> None:
    outcome, log = talk(run, view(), Peer(answer=prosody_like))
    assert log.connections == 3 and log.closed == {0, 1, 2}
    first, second, third = (b"".join(sent) for sent in log.sent)
    assert b" to='.' " in first and b" to='' " in second
    assert b"xmlns='jabber:client'" in first
    assert third.endswith(b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
    assert outcome is not None and outcome.version is None
    assert outcome.output == (
        f"\n  STARTTLS Failed\n  info: \n    stream_id: {UUID}\n    xmpp: \n      lang: en"
        "\n      version: 1.0\n    features: \n    capabilities: \n    compression_methods: "
        "\n    auth_mechanisms: \n    errors: \n      host-unknown\n      \n        text: This server "
        "does not serve \n      stream:stream\n      (timeout)\n    unknown: ")


def test_jabber_server_namespace_elsewhere_and_the_name_given() -> None:
    _, log = talk(run, view("jabber", hostname="chat.example"), Peer(answer=prosody_like))
    assert b"xmlns='jabber:server'" in log.sent[1][0] and b" to='chat.example' " in log.sent[1][0]


def test_features_and_the_ejabberd_capabilities_node() -> None:
    def server(n: int, data: bytes) -> list[bytes | None]:
        if b"to='.'" in data:
            return [header("1234567890"), HOST_UNKNOWN, None]
        if b"<starttls" in data:
            return [header("99"), FEATURES, b"<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"]
        return [header("12345678", " from='chat.example'"), FEATURES]

    outcome, _ = talk(run, view(), Peer(answer=server))
    assert outcome is not None and outcome.version is not None
    assert outcome.version.product == "ejabberd"  # the IDs match ejabberd's line, the node too
    assert outcome.output == (
        "\n  Respects server name\n  STARTTLS Failed\n  info: \n    stream_id: 12345678"
        "\n    xmpp: \n      lang: en\n      server name: chat.example\n      version: 1.0"
        "\n    features: \n      In-Band Registration\n      TLS (required)"
        "\n    capabilities: \n      node: http://www.process-one.net/en/ejabberd/"
        "\n      ver: TQ2JFyRoSa70h2G1bpgjzuXb2sU=\n    compression_methods: \n      zlib"
        "\n    auth_mechanisms: \n      PLAIN\n      SCRAM-SHA-1\n    errors: \n    unknown: "
        "\n      weird")


def test_starttls_compares_the_streams_before_and_after() -> None:
    before = (b"<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/><mechanisms>"
              b"<mechanism>PLAIN</mechanism></mechanisms><register/></stream:features>")
    after = (b"<stream:features><mechanisms><mechanism>PLAIN</mechanism><mechanism>EXTERNAL"
             b"</mechanism></mechanisms><register/><bind/></stream:features>")
    secured: set[int] = set()

    def server(n: int, data: bytes) -> list[bytes | None]:
        if b"to='.'" in data:
            return [header("a1"), HOST_UNKNOWN, None]
        if b"<starttls" in data:
            secured.add(n)
            return [header("s1"), before, b"<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"]
        if n in secured:
            return [header("s2", " xml:lang='de'"), after]
        return [header("p1"), before]

    outcome, log = talk(run, view(hostname="chat.example"), Peer(answer=server, starttls=lambda n: True))
    assert log.tls == [False, False, True]
    assert log.sent[2][1].startswith(b"<?xml version='1.0'?><stream:stream ")  # again, over TLS
    assert outcome is not None and outcome.version is None
    assert outcome.output == (
        "\n  Respects server name\n  info: \n    xmpp: \n      version: 1.0\n    capabilities: "
        "\n    features: \n      In-Band Registration\n    auth_mechanisms: \n      PLAIN"
        "\n  pre_tls: \n    xmpp: \n      lang: en\n    capabilities: \n    features: \n      TLS"
        "\n  post_tls: \n    xmpp: \n      lang: de\n    capabilities: \n    features: "
        "\n      Resource Binding\n    auth_mechanisms: \n      EXTERNAL")


def test_a_failed_handshake_is_a_failed_starttls() -> None:
    def server(n: int, data: bytes) -> list[bytes | None]:
        if b"<starttls" in data:
            return [header("s1"), b"<stream:features/><proceed/>"]
        return [header("p1"), b"<stream:features/>"]

    outcome, log = talk(run, view(), Peer(answer=server))
    assert log.tls == [False, False, False] and log.closed == {0, 1, 2}
    assert outcome is not None and outcome.output is not None
    assert outcome.output.startswith("\n  Ignores server name\n  STARTTLS Failed\n  info: ")


def test_a_server_that_ignores_the_name() -> None:
    outcome, _ = talk(run, view(), Peer(answer=lambda n, data: [header("x1"), b"<stream:features/>"]))
    assert outcome is not None and outcome.output is not None
    assert outcome.output.startswith("\n  Ignores server name\n  STARTTLS Failed\n")


def test_stream_management_stops_the_script_as_in_nmap() -> None:
    """The script's pattern wants ``urn:xmpp:sm:.``: a real namespace is a Lua error."""
    sm = b"<stream:features><sm xmlns='urn:xmpp:sm:3'/></stream:features>"
    outcome, _ = talk(run, view(), Peer(answer=lambda n, data: [header("1"), sm]))
    assert outcome is None


def test_a_product_set_before_the_script_stops_stays() -> None:
    caps = (b"<stream:features><c node='http://www.process-one.net/en/ejabberd/'/>"
            b"<sm xmlns='urn:xmpp:sm:3'/></stream:features>")
    outcome, _ = talk(run, view(), Peer(answer=lambda n, data: [header("1"), caps]))
    assert outcome is not None and outcome.output is None
    assert outcome.version is not None and outcome.version.product == "ejabberd"


def test_a_refused_connection_gives_nothing() -> None:
    outcome, _ = talk(run, view(), Peer(refuse=lambda n, tls: True))
    assert outcome is None


def test_a_silent_server_times_out_each_stream() -> None:
    outcome, log = talk(run, view(), Peer())
    assert outcome is not None and outcome.output is not None
    assert "      (timeout)" in outcome.output and "Ignores" not in outcome.output
    assert log.now - 1_800_000_000.0 == 30.0  # three streams, 10 s each


def test_garbage_is_read_in_pieces_of_256_bytes() -> None:
    outcome, _ = talk(run, view(), Peer(answer=lambda n, data: [b"A" * 1000, None]))
    assert outcome is not None and outcome.output is not None and "(timeout)" in outcome.output


@pytest.mark.parametrize(("chunk", "name", "start", "finish", "contents", "attrs"), [
    (b"<stream:stream id='x' version=\"1.0\" empty=''>", "stream:stream", True, False, "",
     {"id": "x", "version": "1.0"}),
    (b"<required/>", "required", True, True, "", {}),
    (b"PLAIN</mechanism>", "mechanism", False, True, "PLAIN", {}),
    (b"<?xml version='1.0'?>", "?xml", True, False, "", {"version": "1.0"}),
    (b"text <<x-y>", "x-y", True, False, "", {}),
])
def test_the_tag_reader(chunk: bytes, name: str, start: bool, finish: bool, contents: str,
                        attrs: dict[str, str]) -> None:
    tag = parse_tag(chunk)
    assert tag is not None
    assert (tag.name, tag.start, tag.finish, tag.contents, tag.attrs) == (name, start, finish,
                                                                          contents, attrs)


def test_no_tag() -> None:
    assert parse_tag(b"just text>") is None


@pytest.mark.parametrize(("alt", "plain", "product"), [
    (UUID, "", "prosody"), (UUID, UUID, None), ("0000000a", "0000000f", "Citadel"),
    ("0000000a", "000000ff", "Openfire"),  # Citadel's check fails: IDs too far apart
    ("123456789", None, "jabberd"), ("1234567890", None, "jabberd"),
    ("a" * 40, "b" * 40, "jabberd2"), ("4c9e369a841db417", "fc0a60b82275289e", "Isode M-Link"),
    ("1114798225", "494549622", "ejabberd"), ("5f049d72", "3b5b40b", "Openfire"),
    (UUID, "tigase-error-tigase", "Tigase"), ("c2s_1", "c2s_2", "VKontakte/XMPP"),
    ("12345678\n", "12345678", None), (None, None, None),
])
def test_server_software(alt: str | None, plain: str | None, product: str | None) -> None:
    assert server_software(alt, plain) == product


@pytest.mark.parametrize(("port", "name", "accepted"), [
    (5222, None, True), (5269, None, True), (5223, "jabber", True), (5223, "xmpp-server", True),
    (5223, "http", False),
])
def test_the_port_rule(port: int, name: str | None, accepted: bool) -> None:
    assert rule(view(name, port)) is accepted


def test_a_silent_server_through_the_engine_gets_its_three_timeouts() -> None:
    outcome, ended, notes = silent_run(PLUGIN, view())
    assert notes == [] and 30.0 <= ended < PLUGIN.timeout
    assert outcome is not None and outcome.output is not None
    assert outcome.output.startswith("\n  STARTTLS Failed\n  info: ")
