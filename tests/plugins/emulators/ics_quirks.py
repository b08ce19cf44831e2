"""Odd devices, one of each protocol on one address: answers the scripts take the less travelled
paths on, or trip over. The protocols are those of the emulations they borrow from (s7, omron,
bacnet, enip, fox, ubiquiti, netbus, openlookup), written from the same specifications.

- 102/tcp: an S7 CPU that accepts only TSAP 0x0200 (the script's second try) and whose
  component list leaves the system name, module type, plant and copyright empty.
- 9600/tcp: a FINS/TCP node whose CONTROLLER DATA READ answer stops after the model (the
  script fails after setting the port); 9600/udp: one in RUN mode, refusing with end code 2201.
- 47808/udp: a BACnet device that answers even the object-identifier read with an Error PDU.
- 44818/tcp: an adapter whose ListIdentity answer is cut after the socket address (the script
  fails); 44818/udp: one with a vendor and device type no table knows, zeros, and a product
  name with a tab, a carriage return, control and non-ASCII bytes (NSE escapes them).
- 1911/tcp: a Fox workbench: its host name is an address, its time zone comes twice, the
  second time with no name, and it reports a fatal error.
- 10001/udp: a Ubiquiti radio whose address TLV holds 5 bytes (the script fails after setting
  the port open).
- 12345/tcp: a NetBus greeting without its carriage return, then the connection closes
  (``netbus-version`` takes what is left and, with no answer to its login, says NetBuster).
- 5850/tcp: an OpenLookup hello whose options have an integer where a key should be (the
  script fails).
"""

from __future__ import annotations

import asyncio

from tests.plugins.emulators import bacnet, enip, fox, omron, s7, ubiquiti
from tests.plugins.emulators.base import read_some, send_and_close, tcp, udp
from tests.plugins.emulators.netbus import GREETING
from tests.plugins.emulators.openlookup import netstring, nson

PLUGINS = ("s7-info", "omron-info", "bacnet-info", "enip-info", "fox-info",
           "ubiquiti-discovery", "netbus-version", "openlookup-info")
SILENT = ("netbus-version",)
# The NetBus port greets and closes at once: which of a scanner's probes get the greeting and
# which a reset (the close racing the probe's send) is TCP timing, so the fingerprint, and what
# fingerprint-strings reads from it, differ from one scan to the next, Nmap's included.
UNCOMPARED = ("fingerprint-strings",)
EFFECTS = {("tcp", 12345): "NetBuster"}

CPU_1200 = s7.Cpu(
    tsaps=frozenset({0x0200}),
    modules=((0x0001, b"6ES7 214-1AG40-0XB0 ", 0x0000, 0x0001, 0x0000),
             (0x0006, b"6ES7 214-1AG40-0XB0 ", 0x0000, 0x0001, 0x0000),
             (0x0007, b" " * 20, 0x0000, 0x5604, 0x0203)),
    components=((0x0001, b""), (0x0002, b""), (0x0003, b""), (0x0004, b""),
                (0x0005, b"S V-L9T412345678")))
CUT_FINS = omron.Plc(data=omron.MODEL)
RUNNING_FINS = omron.Plc(end_code=b"\x22\x01", data=b"")
REFUSING_BACNET = bacnet.Device(7, {})
CUT_ENIP = enip.Adapter(enip.CONTROLLOGIX.item, size=40)
UNKNOWN_ENIP = enip.Adapter(enip.identity_item(
    vendor=65000, device_type=999, product_code=0, revision=(1, 0), status=0, serial=0,
    name=b"\xb5PLC\t1\r\x00\x7f\\x", state=0, address=bytes((10, 0, 0, 9))))
WORKBENCH = fox.hello((("fox.version", "s:1.0"), ("id", "i:2"), ("hostName", "s:192.168.1.50"),
                       ("app.name", "s:Workbench"), ("app.version", "s:3.7.106"),
                       ("timeZone", "s:UTC;0;0"), ("os.name", "s:Windows 7"),
                       ("timeZone", "s:;0;0"), ("os.name", "s:Windows 10"),
                       ("fatal", "s:unsupported fox version 1.0")))
BAD_ADDRESS_RADIO = ubiquiti.radio(ubiquiti.reply(1, 0, ((0x0C, b"LBE-M5-23"),
                                                         (0x02, ubiquiti.MAC + b"\x0a\x00\x00\x01\x02"))),
                                   None)


async def netbus_no_cr(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await send_and_close(writer, GREETING.rstrip(b"\r"))


async def openlookup_bad_key(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    options = netstring(b"d" + nson(5) + nson("2.7"))  # an integer key
    writer.write(netstring(b"d" + nson("method") + nson("hello") + nson("options") + options))
    await writer.drain()
    await read_some(reader, timeout=10.0)


SERVERS = (tcp(102, CPU_1200.handle), tcp(9600, CUT_FINS.handle_tcp),
           udp(9600, RUNNING_FINS.handle_udp), udp(47808, REFUSING_BACNET.handle),
           tcp(44818, CUT_ENIP.handle_tcp), udp(44818, UNKNOWN_ENIP.handle_udp),
           tcp(1911, fox.station(WORKBENCH)), udp(10001, BAD_ADDRESS_RADIO),
           tcp(12345, netbus_no_cr), tcp(5850, openlookup_bad_key))
