"""The Lua and NSE behaviour the plugins of sigscan.plugins.lib mirror, compared with Nmap's own
Lua: one ``nmap --script`` run (prerule scripts this test writes; no target, no traffic) calls
Nmap's libraries on each input, and the Python helpers must give the same answers.

Covered: ``ipOps.ip_to_str`` as a test for an address (fox-info's host name), Lua's
``tonumber`` (openlookup-info's netstring sizes), ``unicode.transcode`` from UTF-16BE
(bacnet-info's UCS-2 strings), ``ipOps.str_to_ip``, ``stdnse.tohex``/``format_mac``,
``string.format("%#0.Nx")``, an ``output_table`` whose empty entries a ``pairs`` loop removes
(s7-info), ``string.unpack`` of ``z`` and ``s1`` past the end, how NSE renders a returned
table (``format_table``), how it escapes the bytes of an output, and the vendor and device
tables sigscan reads out of the installed scripts (Lua evaluates the same text)."""

from __future__ import annotations

import math
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest

from sigscan.plugins.lib import ipops, lua, nmap_tables, s7
from sigscan.plugins.lib.bacnet import utf16be_to_utf8
from sigscan.plugins.openlookup_info import tonumber

NMAP = "/usr/bin/nmap"

IP_CASES = ["192.168.1.50", "10.0.0", "1..2", ".", "300.1.1.1", "1.2.3.4.5", "bas-station-07",
            "::1", "fe80::1", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8:9", "::ffff:1.2.3.4",
            "1::2::3", "12345::", "::1.2.3", "a:b:c:d:e:f:1.2.3.4", "dead:beef::g",
            "00000000000000000001::", "18446744073709551617.0.0.1", "9223372036854775808.1",
            "18446744073709552128.0.0.1", "ffffffffffffffff::", "10000000000000000::",
            "::18446744073709551617.1.2.3", ":", "::", ":.:", "1.2:3"]
NUMBER_CASES = ["12", " 12 ", "0x10", "-0x10", "1.5", "1e2", "0x1p4", "inf", "nan", "", "1_0",
                "+3", "-7", "99999999999999999999", "0xffffffffffffffff", "5.", ".5", "0x.8",
                "1e400", "12abc", "\t9\n"]
UTF16_CASES = [b"", b"\0A\0b", b"\0A\0", b"\xd8\x3d\xde\x00", b"\xd8\x3d", b"\xdc\x00\0\0",
               b"\xd8\x2d\0\0", b"\x00\xe9\x20\xac", b"\xdb\xff\xdf\xff"]
ADDRESS_CASES = [b"\x0a\0\0\x01", b"\0" * 15 + b"\x01", bytes(range(16)), b"\x01\x02\x03",
                 b"\xfe\x80" + b"\0" * 13 + b"\x01"]
HEX_CASES = [(0, 4), (0x30, 4), (0xC0FFEE, 8), (3, 2), (0xFFFF, 4), (0, 2)]
EMPTY_CASES = [["a", "", "b"], ["", "", "x"], ["", "", "", ""], ["x", "", "", "y", ""],
               ["", "y", "", "", "z"]]
UNPACK_CASES = [(b"ab\0cd", 1), (b"ab\0cd", 4), (b"abc", 1), (b"abc", 4), (b"abc", 5),
                (b"\x03xyz", 1), (b"\x05xyz", 1)]


def lua_string(data: bytes) -> str:
    return '"' + "".join(f"\\{b}" for b in data) + '"'


def lua_list(items: list[bytes]) -> str:
    return "{" + ", ".join(lua_string(i) for i in items) + "}"


SCRIPT = """
local ipOps = require "ipOps"
local stdnse = require "stdnse"
local unicode = require "unicode"
description = "sigscan: Lua semantics"
categories = {"safe"}
prerule = function() return true end
local function show(ok, value)
  if not ok then return "error" end
  if value == nil then return "nil" end
  return stdnse.tohex(tostring(value))
end
action = function()
  local out = {}
  for _, s in ipairs(%(ips)s) do
    local ok, v = pcall(ipOps.ip_to_str, s)
    out[#out+1] = "ip " .. (ok and (v and "yes" or "no") or "error")
  end
  for _, s in ipairs(%(numbers)s) do out[#out+1] = "number " .. show(pcall(tonumber, s)) end
  for _, s in ipairs(%(utf16)s) do
    out[#out+1] = "utf16 " .. show(pcall(unicode.transcode, s, unicode.utf16_dec,
                                         unicode.utf8_enc, true, nil))
  end
  for _, s in ipairs(%(addresses)s) do out[#out+1] = "address " .. show(pcall(ipOps.str_to_ip, s)) end
  for _, case in ipairs(%(hexes)s) do
    out[#out+1] = "hex " .. show(pcall(string.format, "%%#0." .. case[2] .. "x", case[1]))
  end
  out[#out+1] = "mac " .. show(pcall(stdnse.format_mac, "\\128\\42\\168\\174\\241\\99"))
  for _, values in ipairs(%(empties)s) do
    local t = stdnse.output_table()
    for i, v in ipairs(values) do t["k" .. i] = v end
    for key, value in pairs(t) do if #value == 0 then t[key] = nil end end
    local keys = {}
    for key in pairs(t) do keys[#keys+1] = key end
    out[#out+1] = "empty " .. stdnse.tohex(table.concat(keys, ","))
  end
  for _, case in ipairs(%(unpacks)s) do
    out[#out+1] = "z " .. show(pcall(string.unpack, "z", case[1], case[2]))
    out[#out+1] = "s1 " .. show(pcall(string.unpack, "s1", case[1], case[2]))
  end
  return table.concat(out, ";")
end
"""

TABLE_SCRIPT = """
local stdnse = require "stdnse"
description = "sigscan: format_table"
categories = {"safe"}
prerule = function() return true end
action = function()
  local t = stdnse.output_table()
  t.first = "one"
  t["with space"] = 42
  t.list = {"a", "b"}
  local inner = stdnse.output_table()
  inner.mac = {"10.0.0.1"}
  inner.empty = ""
  t.nested = inner
  t.last = "end"
  return t
end
"""

BYTES_SCRIPT = """
description = "sigscan: output escaping"
categories = {"safe"}
prerule = function() return true end
action = function()
  local bytes = {}
  for i = 0, 255 do bytes[#bytes+1] = string.char(i) end
  return "all: " .. table.concat(bytes)
end
"""

TABLES_SCRIPT = """
local nmap = require "nmap"
local stdnse = require "stdnse"
description = "sigscan: the scripts' tables"
categories = {"safe"}
prerule = function() return true end
local function dump(script, name)
  local stream = io.open(nmap.fetchfile("scripts/" .. script .. ".nse"))
  local text = stream:read("a")
  stream:close()
  local head = "local " .. name .. " = {"
  local first = text:find(head, 1, true)
  local last = text:find("\\n}", first, true)
  local entries = load("return " .. text:sub(first + #head - 1, last + 1))()
  local keys = {}
  for key in pairs(entries) do keys[#keys+1] = key end
  table.sort(keys)
  local out = {}
  for _, key in ipairs(keys) do out[#out+1] = key .. "=" .. stdnse.tohex(entries[key]) end
  return table.concat(out, ",")
end
action = function()
  return dump("bacnet-info", "vendor_id") .. ";" .. dump("enip-info", "vendor_id") .. ";"
    .. dump("enip-info", "device_type")
end
"""

TABLE = {"first": "one", "with space": 42, "list": ["a", "b"],
         "nested": {"mac": ["10.0.0.1"], "empty": ""}, "last": "end"}


def _nmap_outputs(folder: Path) -> dict[str, str]:
    first, second = folder / "sigscan-lua.nse", folder / "sigscan-table.nse"
    third, fourth = folder / "sigscan-bytes.nse", folder / "sigscan-tables.nse"
    first.write_text(SCRIPT % {
        "ips": lua_list([s.encode() for s in IP_CASES]),
        "numbers": lua_list([s.encode() for s in NUMBER_CASES]),
        "utf16": lua_list(UTF16_CASES), "addresses": lua_list(ADDRESS_CASES),
        "hexes": "{" + ", ".join(f"{{{v}, {d}}}" for v, d in HEX_CASES) + "}",
        "empties": "{" + ", ".join(lua_list([v.encode() for v in c]) for c in EMPTY_CASES) + "}",
        "unpacks": "{" + ", ".join(f"{{{lua_string(d)}, {p}}}" for d, p in UNPACK_CASES) + "}"})
    second.write_text(TABLE_SCRIPT)
    third.write_text(BYTES_SCRIPT)
    fourth.write_text(TABLES_SCRIPT)
    done = subprocess.run([NMAP, "-n", "--script", f"{first},{second},{third},{fourth}", "-oX", "-"],
                          capture_output=True, timeout=60, check=True)
    root = ET.fromstring(done.stdout)
    return {s.attrib["id"]: s.attrib["output"] for s in root.iter("script")}


@pytest.fixture(scope="module")
def nmap_lua(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    if shutil.which(NMAP) is None:
        pytest.skip("nmap is missing: bash scripts/setup.sh installs it")
    outputs = _nmap_outputs(tmp_path_factory.mktemp("lua"))
    found: dict[str, list[str]] = {"table": [outputs["sigscan-table"]],
                                   "bytes": [outputs["sigscan-bytes"]],
                                   "tables": outputs["sigscan-tables"].split(";")}
    for item in outputs["sigscan-lua"].split(";"):
        kind, _, value = item.partition(" ")
        found.setdefault(kind, []).append(value)
    return found


def shown(call: Callable[[], object]) -> str:
    """What the Lua side prints for a call: hex of tostring(value), ``nil`` or ``error``."""
    try:
        value = call()
    except lua.ScriptError:
        return "error"
    if value is None:
        return "nil"
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, float):
        text = f"{value:.14g}" if math.isfinite(value) else ("inf" if value > 0 else "-inf")
        if text.lstrip("-").isdigit():
            text += ".0"
        return text.encode().hex()
    return str(value).encode().hex()


def test_ip_to_str(nmap_lua: dict[str, list[str]]) -> None:
    def ours(text: str) -> str:
        try:
            return "yes" if ipops.is_ip(text) else "no"
        except lua.ScriptError:
            return "error"

    assert dict(zip(IP_CASES, map(ours, IP_CASES), strict=True)) == dict(
        zip(IP_CASES, nmap_lua["ip"], strict=True))


def test_tonumber(nmap_lua: dict[str, list[str]]) -> None:
    ours = [shown(lambda s=s: tonumber(s.encode())) for s in NUMBER_CASES]
    assert dict(zip(NUMBER_CASES, ours, strict=True)) == dict(
        zip(NUMBER_CASES, nmap_lua["number"], strict=True))


def test_utf16(nmap_lua: dict[str, list[str]]) -> None:
    ours = [shown(lambda d=d: utf16be_to_utf8(d)) for d in UTF16_CASES]
    assert ours == nmap_lua["utf16"]


def test_str_to_ip_tohex_and_hex_format(nmap_lua: dict[str, list[str]]) -> None:
    assert [shown(lambda d=d: ipops.str_to_ip(d)) for d in ADDRESS_CASES] == nmap_lua["address"]
    assert [shown(lambda c=c: lua.c_hex(*c)) for c in HEX_CASES] == nmap_lua["hex"]
    assert [lua.tohex(bytes.fromhex("802aa8aef163")).encode().hex()] == nmap_lua["mac"]


def test_removing_empty_entries(nmap_lua: dict[str, list[str]]) -> None:
    ours = [",".join(s7.drop_empty({f"k{i}": v for i, v in enumerate(case, 1)})).encode().hex()
            for case in EMPTY_CASES]
    assert ours == nmap_lua["empty"]


def test_unpack_past_the_end(nmap_lua: dict[str, list[str]]) -> None:
    z = [shown(lambda d=d, p=p: lua.unpack_z(d, p)[0]) for d, p in UNPACK_CASES]
    s1 = [shown(lambda d=d, p=p: lua.unpack_s1(d, p)[0]) for d, p in UNPACK_CASES]
    assert (z, s1) == (nmap_lua["z"], nmap_lua["s1"])


def test_format_table(nmap_lua: dict[str, list[str]]) -> None:
    assert lua.format_table(TABLE) == nmap_lua["table"][0]


def test_output_escaping(nmap_lua: dict[str, list[str]]) -> None:
    assert lua.escape_output("all: " + bytes(range(256)).decode("latin-1")) == nmap_lua["bytes"][0]


def test_tables_read_from_the_installed_scripts(nmap_lua: dict[str, list[str]]) -> None:
    ours = [",".join(f"{k}={v.encode().hex()}" for k, v in sorted(nmap_tables.table(*which).items()))
            for which in (("bacnet-info", "vendor_id"), ("enip-info", "vendor_id"),
                          ("enip-info", "device_type"))]
    assert ours == nmap_lua["tables"]
    assert all(ours)
