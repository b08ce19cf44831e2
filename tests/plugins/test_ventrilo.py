"""ventrilo-info: the codec (sigscan.plugins.lib.ventrilo) against what the installed Nmap
script uses, the plugin on replies the emulations do not send (driven step by step), the Lua
semantics it mirrors (patterns, numbers) against Nmap's own Lua, and its text output against
Nmap's on the odd emulation (tests/plugins/emulators/ventrilo_quirks.py; the generic
test_emulations.py compares the XML of every Ventrilo emulation)."""

from __future__ import annotations

import os
import random
import re
import subprocess
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pytest

from sigscan.engine.config import EngineConfig
from sigscan.engine.events import Connect, Connected, Data, Proto, Send
from sigscan.engine.plugin import (
    NO_SERVICE,
    SCRIPT_ERROR,
    Clock,
    Open,
    Opened,
    Outcome,
    PortView,
    Read,
    Reply,
    ReplyEnd,
    Shut,
    Write,
)
from sigscan.engine.results import PortState
from sigscan.engine.scripts import FIRST_CONN, PluginRun
from sigscan.plugins import ventrilo_info
from sigscan.plugins.lib import ventrilo
from sigscan.plugins.lib.luapattern import PatternError, Untranslated, compile_pattern, find
from tests.plugins.conftest import NMAP, SIGSCAN, Emulation
from tests.plugins.emulators import ventrilo_quirks
from tests.services.netns import Namespace

SCRIPT = Path("/usr/share/nmap/scripts/ventrilo-info.nse")
needs_nmap = pytest.mark.skipif(not SCRIPT.exists() or not Path(NMAP).exists(),
                                reason="nmap is not installed (bash scripts/setup.sh installs it)")
UDP = PortView("127.0.0.1", 3784, "udp", PortState.OPEN_FILTERED, "no-response", NO_SERVICE)
TCP = replace(UDP, proto="tcp", state=PortState.OPEN, reason="syn-ack")
STATUS = (b"NAME: Test\nPHONETIC: test\nCOMMENT: \nAUTH: 0\nMAXCLIENTS: 4\nVOICECODEC: 0,GSM\n"
          b"VOICEFORMAT: 1,8 KHz\nUPTIME: 3670\nPLATFORM: Linux-i386\nVERSION: 3.0.5\n"
          b"CHANNELCOUNT: 1\nCHANNELFIELDS: CID,PID,PROT,NAME,COMM\n"
          b"CHANNEL: CID=2,PID=0,PROT=0,NAME=Room,COMM=\nCLIENTCOUNT: 1\n"
          b"CLIENTFIELDS: ADMIN,CID,PHAN,PING,SEC,NAME,COMM\n"
          b"CLIENT: ADMIN=0,CID=2,PHAN=0,PING=9,SEC=99,NAME=ann,COMM=\n")


def _script_bytes(name: str) -> list[int]:
    """The numbers of a table the installed script defines (read, not copied)."""
    found = re.search(rf"local {name} = \{{(.*?)\}}", SCRIPT.read_text(), re.DOTALL)
    assert found is not None
    return [int(x, 16) for x in re.findall(r"0x[0-9a-fA-F]+", found.group(1))]


# --------------------------------------------------------------------------- the codec


@needs_nmap
def test_the_key_tables_and_checksum_are_the_ones_nmaps_script_uses() -> None:
    assert list(ventrilo.HEAD_TABLE) == _script_bytes("crypt_head")
    assert list(ventrilo.DATA_TABLE) == _script_bytes("crypt_data")
    assert list(ventrilo.CRC_TABLE) == _script_bytes("crypt_crc")


@needs_nmap
def test_the_request_is_the_one_nmaps_script_sends() -> None:
    found = re.search(r'static_probe_payload = "((?:\\x[0-9a-f]{2})+)"', SCRIPT.read_text())
    assert found is not None
    assert bytes.fromhex(found.group(1).replace("\\x", "")) == ventrilo_info.REQUEST
    head = ventrilo.decode_head(ventrilo_info.REQUEST)
    assert (head.cmd, head.id, head.len, head.totpck) == (2, ventrilo_info.IDENT, 16, 1)


@pytest.mark.parametrize("key", [0x49DE, 0x0001, 0xFF7F, 0x3300])
def test_headers_and_data_round_trip(key: int) -> None:
    rng = random.Random(key)
    head = ventrilo.Head(key, *(rng.randrange(1 << 16) for _ in range(9)))
    wire = ventrilo.encode_head(head)
    assert len(wire) == ventrilo.HEAD_SIZE and ventrilo.decode_head(wire + b"tail") == head
    data = bytes(rng.randrange(256) for _ in range(300))
    assert ventrilo.decode_data(ventrilo.encode_data(data, key), key) == data
    assert (ventrilo.encode_data(data, key) == data) == (key & 0xFF == 0)  # a zero low byte: plain


def test_the_checksum_looks_up_before_it_adds_the_byte() -> None:
    assert [ventrilo.crc(d) for d in (b"", b"\x01", b"\x01\x00", b"\x01\x00\x00")] == [0, 1, 0x100, 0x1021]


def test_a_short_header_is_refused() -> None:
    with pytest.raises(ValueError, match="20-byte header"):
        ventrilo.decode_head(bytes(19))


# --------------------------------------------------------------------------- the plugin, step by step


def _packet(text: bytes, *, number: int = 0, count: int = 1, total: int | None = None,
            ident: int = ventrilo_info.IDENT, crc: int | None = None, key: int = 0x2B17,
            chunk: bytes | None = None) -> bytes:
    chunk = text if chunk is None else chunk
    head = ventrilo.Head(0x1D05, 0, 2, ident, len(text) if total is None else total, len(chunk),
                         count, number, key, ventrilo.crc(text) if crc is None else crc)
    return ventrilo.encode_head(head) + ventrilo.encode_data(chunk, key)


def _split(text: bytes, size: int) -> list[bytes]:
    chunks = [text[i:i + size] for i in range(0, len(text), size)]
    crc = ventrilo.crc(text)
    return [_packet(text, number=n, count=len(chunks), chunk=c, crc=crc) for n, c in enumerate(chunks)]


def _drive(view: PortView, datagrams: Sequence[bytes | None]) -> tuple[Outcome | None, list[object]]:
    """Run the plugin with each read answered by the next datagram (None: a timeout)."""
    pending = list(datagrams)
    steps: list[object] = []
    gen = ventrilo_info.run(view)
    answer: object = None
    try:
        while True:
            step = gen.send(answer)
            steps.append(step)
            if isinstance(step, Open):
                answer = Opened(1)
            elif isinstance(step, Read):
                datagram = pending.pop(0) if pending else None
                answer = (Reply(b"", ReplyEnd.TIMEOUT) if datagram is None
                          else Reply(datagram, ReplyEnd.DATA))
            elif isinstance(step, Clock):
                answer = 0.0
            else:
                assert isinstance(step, Write | Shut)
                answer = None
    except StopIteration as stop:
        assert stop.value is None or isinstance(stop.value, Outcome)
        return stop.value, steps


def test_three_requests_to_the_udp_port_then_nothing() -> None:
    for view in (UDP, TCP):
        outcome, steps = _drive(view, [])
        assert outcome is None
        assert steps[0] == Open(udp=True)
        assert [s for s in steps if isinstance(s, Write)] == [Write(1, ventrilo_info.REQUEST)] * 3
        assert [s.timeout for s in steps if isinstance(s, Read)] == [2.0] * 3


def test_a_reply_after_a_timeout_is_read() -> None:
    outcome, _ = _drive(UDP, [None, None, *_split(STATUS, 492)])
    assert outcome is not None and outcome.output and outcome.state is PortState.OPEN


def test_packets_in_any_order_and_strays_give_the_same_status() -> None:
    pieces = _split(STATUS, 100)
    stray = _packet(b"someone else's", ident=0x1234)
    first, _ = _drive(UDP, pieces)
    again, _ = _drive(UDP, [stray, *reversed(pieces)])
    assert first is not None and first.version is not None and first.version.version == "3.0.5"
    assert first == again


def test_the_tcp_port_is_named_the_voice_port_and_not_opened() -> None:
    outcome, _ = _drive(TCP, _split(STATUS, 492))
    assert outcome is not None and outcome.state is None
    assert outcome.version is not None and outcome.version.extrainfo == (
        "voice port; name: Test; uptime: 1h:1m; auth: none")


@pytest.mark.parametrize(("datagrams", "why"), [
    ([_packet(STATUS, crc=0xBEEF)], "CRC"),
    ([_split(STATUS, 300)[0]], "midway"),
    ([_packet(STATUS, number=1)], "invalid response"),
    ([_packet(STATUS, total=10)], "invalid response"),
    ([_packet(STATUS, count=2, total=len(STATUS))], "invalid state"),
])
def test_replies_the_script_gives_up_on_open_the_port_and_say_nothing(
        datagrams: list[bytes], why: str) -> None:
    outcome, _ = _drive(UDP, datagrams)
    assert outcome is not None and outcome.note is not None and why in outcome.note
    assert (outcome.output, outcome.version, outcome.state) == (None, None, PortState.OPEN)


@pytest.mark.parametrize("datagram", [b"", b"\x01", bytes(19), b"\x05\x00" + bytes(30),
                                      _packet(STATUS)[:60]])
def test_replies_the_scripts_lua_fails_on_print_the_script_error(datagram: bytes) -> None:
    outcome, _ = _drive(UDP, [datagram])
    assert outcome is not None and outcome.output == SCRIPT_ERROR
    assert (outcome.version, outcome.state) == (None, PortState.OPEN)
    outcome, _ = _drive(TCP, [datagram])
    assert outcome is not None and (outcome.output, outcome.state) == (SCRIPT_ERROR, None)


def test_a_data_key_with_a_zero_low_byte_reads_the_bytes_as_decimal_numbers() -> None:
    plain = b"NAME: x\n"
    digits = b"".join(b"%d" % b for b in plain)
    head = ventrilo.Head(0x1D05, 0, 2, ventrilo_info.IDENT, len(plain), len(plain), 1, 0, 0x4500,
                         ventrilo.crc(digits))
    outcome, _ = _drive(UDP, [ventrilo.encode_head(head) + plain])
    assert outcome is not None and outcome.version is not None
    assert outcome.output is not None and outcome.output.startswith("\nname: n/a\nphonetic: n/a")


@pytest.mark.parametrize(("fields", "line", "note"), [
    (b"XYZ", b"CHANNEL: CID=1", "loops forever"),  # no field found: Nmap's script never ends
    (b"", b"CHANNEL: CID=1", "loops forever"),
    (b"C*D,NAME", b"CHANNEL: CID=1", "quantifiers"),
    (b"%bxy", b"CHANNEL: CID=1", "not translated"),
])
def test_replies_the_script_would_not_finish_on_end_with_a_note(
        fields: bytes, line: bytes, note: str) -> None:
    text = STATUS.replace(b"CHANNELFIELDS: CID,PID,PROT,NAME,COMM\nCHANNEL: CID=2,PID=0,PROT=0,NAME=Room,COMM=",
                          b"CHANNELFIELDS: " + fields + b"\n" + line)
    outcome, _ = _drive(UDP, _split(text, 492))
    assert outcome is not None and outcome.note is not None and note in outcome.note
    assert (outcome.output, outcome.version, outcome.state) == (None, None, PortState.OPEN)


def test_a_reply_that_takes_too_many_searches_ends_with_a_note() -> None:
    fields = b",".join(b"F%d" % i for i in range(3000))
    text = (b"CHANNELFIELDS: " + fields + b"\n" + b"CHANNEL: F1=1\n" * 3000)[:65000]
    outcome, _ = _drive(UDP, _split(text, 492))
    assert outcome is not None and outcome.note is not None and "too many searches" in outcome.note


def test_a_full_size_reply_with_a_field_missing_from_every_line_is_read_whole() -> None:
    clients = b"".join(b"CLIENT: ADMIN=0,CID=2,PHAN=0,PING=9,SEC=%d,NAME=user%d\n" % (i, i)
                       for i in range(1200))
    text = (STATUS.split(b"CLIENT: ")[0] + clients)[:65000]
    outcome, _ = _drive(UDP, _split(text, 492))
    assert outcome is not None and outcome.output is not None and outcome.note is None
    last = text.rsplit(b"NAME=", 1)[1].split(b"\n")[0].decode()
    assert f"\n  {last} (ADMIN: 0, PHAN: 0, PING: 9, SEC: " in outcome.output


def test_a_malformed_field_pattern_is_the_script_error() -> None:
    text = STATUS.replace(b"CID,PID,PROT,NAME,COMM", b"CID,P(ID,NAME")
    outcome, _ = _drive(UDP, _split(text, 492))
    assert outcome is not None and (outcome.output, outcome.version) == (SCRIPT_ERROR, None)


def test_a_clients_field_makes_inserting_a_client_fail() -> None:
    text = STATUS.replace(b"CID,PID,PROT,NAME,COMM", b"CID,NAME,clients").replace(
        b"CHANNEL: CID=2,PID=0,PROT=0,NAME=Room,COMM=", b"CHANNEL: CID=2,NAME=Room,clients=x")
    outcome, _ = _drive(UDP, _split(text, 492))
    assert outcome is not None and outcome.output == SCRIPT_ERROR and outcome.version is None


# --------------------------------------------------------------------------- Lua, against Nmap's

_NSE = """
description = "sigscan's tests: Lua 5.3 results for the cases in SIGSCAN_LUA_CASES"
categories = {"safe"}
prerule = function() return true end
local function unhex(s) return (s:gsub("..", function(h) return string.char(tonumber(h, 16)) end)) end
local function hex(s) return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end)) end
local function hours(text)
  local n = tonumber(text)
  if n == nil then return text end
  local h = math.floor(n / 3600)
  return h .. "h:" .. math.floor((n - h * 3600) / 60) .. "m"
end
action = function()
  local out = io.open(os.getenv("SIGSCAN_LUA_RESULTS"), "wb")
  for line in io.lines(os.getenv("SIGSCAN_LUA_CASES")) do
    local kind, a, b, init = line:match("^(%a+)|(%x*)|(%x*)|(%-?%d*)$")
    if kind == "find" then
      local ok, s, e, cap = pcall(string.find, unhex(a), unhex(b), tonumber(init))
      if not ok then out:write("error\\n")
      elseif s == nil then out:write("nil\\n")
      else out:write(s, " ", e, " ", cap and hex(tostring(cap)) or "-", "\\n") end
    else
      out:write(hex(hours(unhex(a))), "\\n")
    end
  end
  out:close()
end
"""
_FIXED_PATTERNS = [b"NAME: ([^\n]*)", b"CID=([^,\n]*)", b"^a", b"a$", b"$", b"", b"[]]", b"[^]a]",
                   b"[a-]", b"[]-a]", b"[a-%]]", b"[%a-z]", b"%a+", b"%A", b"%z", b"%q", b"*a",
                   b"a**", b"(a)(b)", b"(", b")", b"%", b"[a", b"a-b", b"a?=", b"[%]]", b"%w+=(.-),",
                   b"%d%D%s%S%p%P%c%C%g%G%x%X%u%U%l%L", b"P(ID=([^,\n]*)", b"^(%a*)$",
                   b"%f[%a]%a+", b"%f[%z]", b"%f[^%z]", b"%fa", b"(a)%1", b"(a%1)", b"%0",
                   b"(a*)b%1", b"x)", b"a(", b"%bab", b"()a"]
_UPTIMES = ["3670", "-100", "0x10", "0X1p4", " 7260.5 ", "1e400", "-1e400", "abc", "", "inf",
            "nan", "0x", "1e", ".5", "5.", "+12", "- 5", "12\0", "\t3600\r", "0x.8p12", "1e15",
            "9223372036854775807", "-9223372036854775808", "9223372036854775808",
            "0xffffffffffffffff", "1e19", "1e300", "3600.0", "123456789012345678901234567890"]


def _random_cases(count: int) -> list[tuple[bytes, bytes, int]]:
    rng = random.Random(3784)
    pattern_bytes, subject_bytes = b"ab%.[]^-*+?()$dA=,\n1f", b"ab=,\nA1.%-[]\x00\xe9"
    cases = []
    for _ in range(count):
        pattern = bytes(rng.choice(pattern_bytes) for _ in range(rng.randrange(1, 7)))
        subject = bytes(rng.choice(subject_bytes) for _ in range(rng.randrange(0, 13)))
        cases.append((subject, pattern, rng.randrange(-3, 15)))
    subjects = [b"xx NAME: Caf\xe9\nCID=12,PID=0\n", b"a]b-c%d", b"", b"aaa=bb,\n(ab)", b"a\x00z"]
    cases += [(s, p, i) for p in _FIXED_PATTERNS for s in subjects for i in (0, 1, 4)]
    return cases


@pytest.fixture(scope="module")
def lua(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, bytes, bytes, int], str]:
    """Nmap's Lua's answer for every case below: {(kind, a, b, init): result line}."""
    if not Path(NMAP).exists():
        pytest.skip("nmap is not installed (bash scripts/setup.sh installs it)")
    folder = tmp_path_factory.mktemp("lua")
    keys = [("find", s, p, i) for s, p, i in _random_cases(1500)]
    keys += [("uptime", u.encode("latin-1"), b"", 0) for u in _UPTIMES]
    (folder / "cases").write_text("".join(f"{k}|{a.hex()}|{b.hex()}|{i}\n" for k, a, b, i in keys))
    (folder / "cases.nse").write_text(_NSE)
    env = {**os.environ, "SIGSCAN_LUA_CASES": str(folder / "cases"),
           "SIGSCAN_LUA_RESULTS": str(folder / "results")}
    subprocess.run([NMAP, "-n", "--script", str(folder / "cases.nse")], env=env, check=True,
                   capture_output=True, timeout=60)
    results = (folder / "results").read_text().splitlines()
    assert len(results) == len(keys)
    return dict(zip(keys, results, strict=True))


def _ours(subject: bytes, pattern: bytes, init: int) -> str:
    try:
        found = find(subject, compile_pattern(pattern), init)
    except PatternError:
        return "error"
    if found is None:
        return "nil"
    return f"{found[0]} {found[1]} {'-' if found[2] is None else found[2].hex()}"


def test_lua_patterns_find_what_nmaps_lua_finds(lua: dict[tuple[str, bytes, bytes, int], str]) -> None:
    """Every case agrees, errors included (Lua raises a malformed pattern's error only when a
    match reaches the bad item), but for the patterns not translated (``%b``, ``()``)."""
    compared = errors = 0
    for (kind, subject, pattern, init), theirs in lua.items():
        if kind != "find":
            continue
        try:
            compile_pattern(pattern)
        except Untranslated:
            continue
        compared += 1
        errors += theirs == "error"
        assert _ours(subject, pattern, init) == theirs, (subject, pattern, init)
    assert compared > 1000 and errors > 50


def test_uptimes_are_formatted_as_nmaps_lua_formats_them(
        lua: dict[tuple[str, bytes, bytes, int], str]) -> None:
    for (kind, text, _, _), theirs in lua.items():
        if kind == "uptime":
            assert ventrilo_info._uptime(text).hex() == theirs, text


# --------------------------------------------------------------------------- text output


def test_the_text_output_on_an_odd_status_is_nmaps(
        emulations: tuple[Namespace, list[Emulation]], built: dict[tuple[str, str], Path]) -> None:
    """The ``|`` lines (escaping of a Latin-1 byte, a bell and a carriage return included)."""
    namespace, items = emulations
    address = next(i.address for i in items if i.module is ventrilo_quirks)
    args = ["-sU", "-p", "U:3784", "-oN", "-", address]
    nmap = namespace.run([NMAP, "-sV", "-Pn", "-n", "--script", "version", *args], timeout=60)
    ours = namespace.run([str(SIGSCAN), "scan", "--bundle", str(built[("7.93", "db")]),
                          "--plugin-output", *args], timeout=60)

    def script_lines(out: bytes) -> list[bytes]:
        return [line for line in out.splitlines() if line.startswith((b"|", b"3784/"))]

    assert script_lines(nmap.stdout)[1:] and script_lines(ours.stdout) == script_lines(nmap.stdout)



def test_on_a_tcp_port_the_runner_opens_a_udp_socket() -> None:
    run = PluginRun(ventrilo_info.PLUGIN, TCP, proto=Proto.TCP, first_conn=FIRST_CONN,
                    config=EngineConfig(), unix_offset=0.0)
    connect = run.start(0.0)
    assert [(a.proto, a.tls) for a in connect if isinstance(a, Connect)] == [(Proto.UDP, False)]
    assert run.feed(Connected(FIRST_CONN, 0.1)) == [Send(FIRST_CONN, ventrilo_info.REQUEST)]
    for datagram in _split(STATUS, 100):
        run.feed(Data(FIRST_CONN, 0.2, datagram))
    assert run.done and run.outcome is not None and run.outcome.state is None
    assert run.outcome.version is not None and run.outcome.version.product == "Ventrilo"
