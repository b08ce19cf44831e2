"""Nmap's options of a ``-sV`` run, for ``sigscan scan`` and ``sigscan-nmap``.

:func:`add_nmap_options` adds the Nmap options sigscan implements to the ``scan`` parser (what
each does, and how ``-T`` maps onto sigscan's waits: docs/scan.md). :func:`normalize` reads
the spellings argparse cannot (``-sTV``: ``-sT -sV``; ``-v3``: ``-vvv``). :func:`refusal` is
the one line that names an option sigscan does not take: an Nmap option it does not implement
(with what that option does), or an unknown one.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable, Sequence

from sigscan.scanning.timing import Timing, TimingError, rate, seconds, template
from sigscan.version import __version__

NMAP_VERSION = "7.93"  # the Nmap whose -sV, options and output formats sigscan follows
MAX_ADDRESSES = 1 << 20  # --max-addresses at most: every target of a scan is held in memory
_VERBOSITY = re.compile(r"^-v(\d+)$")
_SCAN_TYPES = re.compile(r"^-s([A-Za-z]{2,})$")

# Nmap options sigscan does not implement, and what they do in Nmap (the refusal names both).
REFUSED: dict[str, str] = {
    "-sS": "TCP SYN scan (sigscan's port scan is a connect scan: -sT)",
    "-sA": "TCP ACK scan", "-sW": "TCP window scan", "-sM": "TCP Maimon scan",
    "-sN": "TCP null scan", "-sF": "TCP FIN scan", "-sX": "TCP Xmas scan",
    "-sY": "SCTP INIT scan", "-sZ": "SCTP COOKIE-ECHO scan", "-sO": "IP protocol scan",
    "-sI": "idle scan", "-sL": "list scan", "-sn": "ping scan without a port scan",
    "-sC": "the default NSE scripts", "-b": "FTP bounce scan",
    "-O": "OS detection", "-A": "OS detection, scripts and traceroute with -sV",
    "-PS": "TCP SYN host discovery", "-PA": "TCP ACK host discovery",
    "-PU": "UDP host discovery", "-PY": "SCTP host discovery", "-PE": "ICMP echo host discovery",
    "-PP": "ICMP timestamp host discovery", "-PM": "ICMP netmask host discovery",
    "-PO": "IP protocol host discovery", "-PR": "ARP host discovery",
    "--script": "NSE scripts", "--script-args": "NSE script arguments",
    "--script-args-file": "NSE script arguments", "--script-help": "NSE script help",
    "--script-trace": "NSE tracing", "--script-updatedb": "the NSE script database",
    "--script-timeout": "the NSE script timeout",
    "--traceroute": "traceroute", "--osscan-limit": "OS detection", "--osscan-guess": "OS detection",
    "--fuzzy": "OS detection", "--max-os-tries": "OS detection",
    "-f": "packet fragmentation", "--mtu": "packet fragmentation", "-D": "decoy scans",
    "-S": "a spoofed source address", "-e": "the network interface",
    "-g": "a fixed source port", "--source-port": "a fixed source port",
    "--data": "probe payloads", "--data-string": "probe payloads", "--data-length": "probe payloads",
    "--ip-options": "IP options", "--ttl": "the IP time-to-live", "--spoof-mac": "a spoofed MAC address",
    "--badsum": "bad checksums", "--adler32": "SCTP checksums", "--scanflags": "custom TCP flags",
    "--proxies": "proxies", "--proxy": "proxies", "--send-eth": "raw Ethernet sending",
    "--send-ip": "raw IP sending", "--privileged": "raw-socket privileges",
    "--unprivileged": "raw-socket privileges", "--dns-servers": "its own DNS client",
    "--resolve-all": "scanning every address of a name", "--unique": "scanning each address once",
    "--discovery-ignore-rst": "host discovery", "--disable-arp-ping": "host discovery",
    "--defeat-rst-ratelimit": "raw-scan rate limits", "--defeat-icmp-ratelimit": "raw-scan rate limits",
    "--initial-rtt-timeout": "round-trip timeouts (set through -T)",
    "--min-rtt-timeout": "round-trip timeouts (set through -T)",
    "--max-rtt-timeout": "round-trip timeouts (set through -T)",
    "--max-scan-delay": "adaptive scan delays (use --scan-delay)",
    "--min-parallelism": "probe parallelism (use --max-parallel for detection)",
    "--max-parallelism": "probe parallelism (use --max-parallel for detection)",
    "--min-hostgroup": "host groups", "--max-hostgroup": "host groups",
    "--allports": "version detection of the Exclude ports",
    "--port-ratio": "ports by frequency (use --top-ports)", "--exclude-ports": "port exclusion",
    "-r": "ports in order (sigscan scans them in order already)",
    "--randomize-hosts": "random host order", "--rH": "random host order",
    "-iR": "random targets", "--resume": "resuming a scan",
    "-oS": "script kiddie output", "-oM": "old machine output", "-oH": "hex output",
    "--stylesheet": "the XML stylesheet", "--no-stylesheet": "the XML stylesheet",
    "--webxml": "the XML stylesheet", "--datadir": "Nmap's data folder (sigscan reads a bundle: --bundle)",
    "--servicedb": "Nmap's services file (sigscan reads a bundle: --bundle)",
    "--versiondb": "Nmap's probe file (sigscan reads a bundle: --bundle)",
    "--iflist": "the interface list", "--packet-trace": "packet tracing",
    "--nsock-engine": "the nsock engine", "--noninteractive": "keyboard interaction",
    "--log-errors": "error logging", "--release-memory": "memory release",
    "--deprecated-xml-osclass": "OS detection XML",
}


def add_nmap_options(scan: argparse.ArgumentParser) -> None:
    """The Nmap options of a ``-sV`` run that ``sigscan scan`` takes (docs/scan.md)."""
    scan.add_argument("-V", "--version", action=VersionAction,
                      help="print sigscan's version and the Nmap it follows, and exit")
    scan.add_argument("-sR", dest="version_scan", action="store_true", help=argparse.SUPPRESS)
    scan.add_argument("-Pn", "-PN", "-P0", dest="no_ping", action="store_true",
                      help="no host discovery (sigscan never does any: every host is up)")
    names = scan.add_mutually_exclusive_group()
    names.add_argument("-n", dest="no_resolve", action="store_true",
                       help="no reverse DNS (the default)")
    names.add_argument("-R", dest="resolve_all", action="store_true",
                       help="reverse DNS for every target (the system resolver)")
    scan.add_argument("-6", dest="ipv6", action="store_true",
                      help="IPv6: names resolve to IPv6 addresses, IPv4 targets are refused")
    scan.add_argument("-F", dest="fast", action="store_true",
                      help="Nmap's 100 most frequent ports (--top-ports 100)")
    scan.add_argument("-T", "--timing", dest="timing", type=_template, metavar="0-5",
                      help="timing template: 0 paranoid ... 3 normal (default), 4 aggressive, 5 insane")
    scan.add_argument("--open", dest="open_only", action="store_true",
                      help="show only open (or possibly open) ports, and only hosts that have one")
    scan.add_argument("--reason", action="store_true",
                      help="say why each port and host has its state (a REASON column)")
    scan.add_argument("--exclude", metavar="HOSTS",
                      help="do not scan these (comma-separated addresses, blocks, ranges, names)")
    scan.add_argument("--excludefile", metavar="FILE", help="do not scan the hosts of FILE")
    scan.add_argument("--host-timeout", type=_time("--host-timeout"), metavar="TIME",
                      help="give up on a host after TIME (30m, 90s; 0: never)")
    scan.add_argument("--max-retries", type=_count, metavar="N",
                      help="connects given again to a port with no answer (default: by -T)")
    scan.add_argument("--scan-delay", type=_time("--scan-delay"), metavar="TIME",
                      help="least time between two connects of the port scan")
    scan.add_argument("--min-rate", type=_rate("--min-rate"), metavar="N",
                      help="connects per second of the port scan, at least")
    scan.add_argument("--max-rate", type=_rate("--max-rate"), metavar="N",
                      help="connects per second of the port scan, at most")
    scan.add_argument("-oG", dest="grepable", metavar="FILE",
                      help="grepable output to FILE ('-': stdout)")
    scan.add_argument("-oA", dest="all_formats", metavar="BASE",
                      help="BASE.nmap, BASE.xml and BASE.gnmap")
    scan.add_argument("--append-output", action="store_true",
                      help="append to the output files instead of replacing them")
    scan.add_argument("--system-dns", action="store_true",
                      help="the system resolver (sigscan always uses it)")
    scan.add_argument("--max-addresses", type=_address_limit, default=None, metavar="N",
                      help=f"scan up to N addresses (default 65,536; at most {MAX_ADDRESSES:,})")


class VersionAction(argparse.Action):
    """``-V``: :func:`version_text` as it is (argparse's own action would reflow it), exit 0."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS,
                 default: str = argparse.SUPPRESS, help: str | None = None) -> None:
        super().__init__(option_strings, dest, nargs=0, default=default, help=help)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: object, option_string: str | None = None) -> None:
        print(version_text())
        parser.exit()


def version_text() -> str:
    """What ``-V`` prints: sigscan's version, and a line in ``nmap -V``'s form naming the Nmap
    sigscan follows (python-nmap reads the version from such a line)."""
    import platform  # only here: the commands' start-up does not need it

    return (f"sigscan version {__version__} ( service detection as Nmap {NMAP_VERSION} -sV does it )\n"
            f"Nmap version {NMAP_VERSION}-compatible ( https://nmap.org ): the options and output "
            f"formats of sigscan-nmap\n"
            f"Platform: {platform.machine()} {platform.system()}, Python {platform.python_version()}")


def normalize(argv: Sequence[str]) -> list[str]:
    """``argv`` with Nmap's combined spellings split: ``-sTV`` (scan types together) is
    ``-sT -sV``, ``-v3`` is ``-vvv``. A letter sigscan does not know stays in place as ``-sX``,
    for :func:`refusal` to name."""
    out: list[str] = []
    for arg in argv:
        scans = _SCAN_TYPES.match(arg)
        level = _VERBOSITY.match(arg)
        if scans:
            out.extend(f"-s{letter}" for letter in scans[1])
        elif level:
            out.extend(["-v"] * min(int(level[1]), 10))  # Nmap caps verbosity at 10
        else:
            out.append(arg)
    return out


def refusal(arg: str, command: str = "scan") -> str:
    """The one line refusing ``arg``, an option the parser of ``command`` does not know."""
    name = arg.split("=", 1)[0] if arg.startswith("--") else _short_name(arg)
    what = REFUSED.get(name)
    if what is not None and command == "scan":
        return f"{name}: Nmap's option for {what} is not implemented by sigscan"
    return f"unknown option {name} (sigscan {command} -h lists the options)"


def _short_name(arg: str) -> str:
    """The option a single-dash argument names: the longest known name it starts with
    (``-PS22,80`` is ``-PS``), else the argument itself."""
    known = [name for name in REFUSED if not name.startswith("--") and arg.startswith(name)]
    return max(known, key=len) if known else arg


def _template(text: str) -> Timing:
    try:
        return template(text)
    except TimingError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _time(option: str) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            return seconds(text, what=option)
        except TimingError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    return parse


def _rate(option: str) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            return rate(text, what=option)
        except TimingError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    return parse


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {value}")
    return value


def _address_limit(text: str) -> int:
    value = _count(text)
    if not 1 <= value <= MAX_ADDRESSES:
        raise argparse.ArgumentTypeError(f"must be 1 to {MAX_ADDRESSES:,} (the targets of a scan "
                                         f"are held in memory), not {value:,}")
    return value
