"""Scan targets: addresses, names, address blocks and target files (``-iL``).

A command-line target is an IPv4 or IPv6 address (``192.0.2.7``, ``2001:db8::1``, ``[::1]``), a
host name (``localhost``: kept as a name, resolved later by :func:`resolve_target`), a CIDR block
(``192.0.2.0/24``, ``2001:db8::/120``: every address, network and broadcast included, as Nmap
does) or an IPv4 octet range as Nmap writes them (``192.0.2.1-20``, ``192.0.2.*``,
``192.0.2.1,3,5``). Expansions are bounded: a specification (and a whole list) that would give
more than ``limit`` addresses (65,536 unless the caller raises it) is refused before anything
is expanded.

A target file holds targets separated by white space, ``#`` comments, and also the lines two
port scanners write, which name ports too (:attr:`Target.ports`):

- masscan ``-oL``: ``open tcp 80 192.0.2.7 1690000000`` (other statuses and ``banner`` lines are
  skipped);
- naabu ``-json``: ``{"host": "example.org", "ip": "192.0.2.7", "port": 80, "protocol": "tcp"}``
  and naabu's plain ``host:port`` (``192.0.2.7:80``, ``[2001:db8::1]:443``).

Lines of one address are merged into one target with all their ports. Errors are
:class:`TargetError` (a ``ValueError``), one line, quoting the offending text and, for files, its
``path:line``.
"""

from __future__ import annotations

import ipaddress
import itertools
import json
import math
import re
import socket
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from sigscan.bundle import files
from sigscan.scanning.ports import MAX_PORT, PortSpec

DEFAULT_LIMIT = 65536
RAISE_LIMIT = "raise the limit (sigscan scan --max-addresses N)"
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)$")
_OCTETS = re.compile(r"^[0-9*,\-]+(\.[0-9*,\-]+){3}$")
_BRACKETED_PORT = re.compile(r"^\[([^\]]+)\]:(\d+)$")


class TargetError(ValueError):
    """A target specification or target file line that cannot be used."""


@dataclass(frozen=True, slots=True)
class Target:
    """One host to scan. ``address`` is an IP address, or None for a name not resolved yet;
    ``hostname`` is the name the user gave (None for a literal address). ``ports`` are the ports
    a masscan/naabu line named for it (None: use the scan's ``-p``). ``other_addresses`` are the
    further addresses the name resolved to, not scanned (Nmap's "Other addresses for …").
    ``ptr_name`` is the address's reverse-DNS name, when it was looked up (``-R``)."""

    address: str | None
    hostname: str | None = None
    ports: PortSpec | None = None
    other_addresses: tuple[str, ...] = field(default=())
    ptr_name: str | None = None

    @property
    def label(self) -> str:
        """How messages name the target: ``name (address)``, the name or the address."""
        if self.hostname and self.address:
            return f"{self.hostname} ({self.address})"
        return self.hostname or self.address or "?"


# --------------------------------------------------------------------------------------------
# Command-line targets


def parse_targets(specs: Iterable[str], *, limit: int | None = DEFAULT_LIMIT) -> list[Target]:
    """Every target of ``specs``, in order; at most ``limit`` in all (None: no bound). A
    ``host:port`` (``[v6]:port``) names a port of its host, as in a target file: the
    specifications of one host merge into one target with all their ports."""
    merged = _Merged(limit)
    for spec in specs:
        with_port = _host_port(spec.strip())
        if with_port is not None:
            merged.add_port(*with_port)
            continue
        room = None if limit is None else limit - merged.count
        merged.add_plain(parse_target(spec, limit=room, total=limit))
    return merged.targets()


def parse_target(spec: str, *, limit: int | None = DEFAULT_LIMIT,
                 total: int | None = None) -> list[Target]:
    """The targets of one specification; refused when more than ``limit`` addresses (None: no
    bound). ``total``, when this specification is one of a list, is the list's bound, named in
    the message."""
    text = spec.strip()
    if not text:
        raise TargetError("empty target")
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if "/" in text:
        return _block(text, limit, total)
    address = _address(text)
    if address is not None:
        _check_count(text, 1, limit, total)
        return [Target(address)]
    if _OCTETS.match(text) and any(c in text for c in "*,-"):
        return _octet_range(text, limit, total)
    return [Target(None, _hostname(text))]


def _address(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def _block(text: str, limit: int | None, total: int | None) -> list[Target]:
    base, _, prefix = text.partition("/")
    if _address(base) is None:
        if _OCTETS.match(base):
            raise TargetError(f"{text!r} is not a valid address block")
        if not prefix.isdigit() or ":" in base:
            raise TargetError(f"{text!r} is not a valid address, address block or host name")
        raise TargetError(f"{text!r}: a host name with a prefix length is not supported; "
                          "give an address block such as 192.0.2.0/24")
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError as exc:
        raise TargetError(f"{text!r} is not a valid address block: {exc}") from None
    _check_count(text, network.num_addresses, limit, total)
    return [Target(str(a)) for a in network]


def _octet_range(text: str, limit: int | None, total: int | None) -> list[Target]:
    octets = [_octet_values(part, text) for part in text.split(".")]
    _check_count(text, math.prod(len(o) for o in octets), limit, total)
    return [Target(".".join(map(str, parts))) for parts in itertools.product(*octets)]


def _octet_values(part: str, text: str) -> list[int]:
    values: list[int] = []
    for item in part.split(","):
        if item == "*":
            item = "0-255"
        low, dash, high = item.partition("-")
        try:
            start = int(low) if low else 0
            end = (int(high) if high else 255) if dash else start
        except ValueError:
            raise TargetError(f"{text!r} is not a valid address range") from None
        if not 0 <= start <= end <= 255:
            raise TargetError(f"{text!r} is not a valid address range: octet {item!r}")
        values.extend(v for v in range(start, end + 1) if v not in values)
    return values


def _hostname(text: str) -> str:
    name = text
    if not name.isascii():
        try:
            name = name.encode("idna").decode("ascii")
        except UnicodeError:
            raise TargetError(f"{text!r} is not a valid host name") from None
    labels = name.rstrip(".").split(".")
    if len(name) > 253 or not all(_LABEL.match(label) for label in labels):
        raise TargetError(f"{text!r} is not a valid address, address block or host name")
    if all(label.isdigit() for label in labels):
        raise TargetError(f"{text!r} is not a valid IPv4 address")
    return text


def _check_count(text: str, count: int, limit: int | None, total: int | None) -> None:
    if limit is None or count <= limit:
        return
    if total is not None and count <= total:
        raise TargetError(f"{text!r} would take the targets over the {total:,} allowed in all; "
                          f"scan fewer targets per run or {RAISE_LIMIT}")
    raise TargetError(f"{text!r} gives {count:,} addresses, more than the {limit:,} allowed; "
                      f"scan smaller blocks or {RAISE_LIMIT}")


# --------------------------------------------------------------------------------------------
# Target files (-iL)


def read_target_file(path: str | Path, *, limit: int | None = DEFAULT_LIMIT) -> list[Target]:
    """The targets of a file (see the module docstring)."""
    try:
        text = files.read_bounded(path).decode("utf-8", "replace")  # bounded: -iL /dev/zero
    except OSError as exc:
        raise TargetError(f"cannot read target file {str(path)!r}: {exc.strerror}") from None
    return read_targets(text.splitlines(), source=str(path), limit=limit)


def read_targets(lines: Iterable[str], *, source: str = "-",
                 limit: int | None = DEFAULT_LIMIT) -> list[Target]:
    """The targets of target-file ``lines``; ``source`` names the file in messages."""
    merged = _Merged(limit)
    for number, line in enumerate(lines, 1):
        try:
            _read_line(line, merged, limit)
        except TargetError as exc:
            raise TargetError(f"{source}:{number}: {exc}") from None
    return merged.targets()


def _read_line(line: str, merged: _Merged, limit: int | None) -> None:
    text = line.strip()
    if not text or text.startswith("#"):
        return
    if text.startswith("{"):
        merged.add_port(*_naabu_json(text))
        return
    fields = text.split()
    if _is_masscan(fields):
        if fields[0] == "open":
            merged.add_port(_checked_address(fields[3]), None, fields[1], _port(fields[2]))
        return
    for token in text.split("#", 1)[0].split():
        with_port = _host_port(token)
        if with_port is not None:
            merged.add_port(*with_port)
        else:
            room = None if limit is None else limit - merged.count
            merged.add_plain(parse_target(token, limit=room, total=limit))


def _is_masscan(fields: list[str]) -> bool:
    return (len(fields) >= 4 and fields[0] in {"open", "closed", "banner"}
            and fields[1] in {"tcp", "udp"} and fields[2].isdigit())


def _naabu_json(text: str) -> tuple[str | None, str | None, str, int]:
    try:
        record = json.loads(text)
    except (ValueError, RecursionError) as exc:  # RecursionError: nested past the decoder's depth
        raise TargetError(f"not a JSON line: {exc}") from None
    if not isinstance(record, dict):
        raise TargetError("a JSON line must be an object")
    port = record.get("port")
    if isinstance(port, dict):  # older naabu: {"Port": 80, "Protocol": 0, "TLS": false}
        port = port.get("Port", port.get("port"))
    if not isinstance(port, int) or isinstance(port, bool):
        raise TargetError(f"JSON line without a numeric 'port': {text[:80]!r}")
    host, ip = record.get("host"), record.get("ip")
    if not ip and not host:
        raise TargetError(f"JSON line without 'ip' or 'host': {text[:80]!r}")
    proto = str(record.get("protocol") or "tcp").lower()
    if proto not in {"tcp", "udp"}:
        raise TargetError(f"unsupported protocol {proto!r} in JSON line")
    address = _checked_address(str(ip)) if ip else _address(str(host))
    name = str(host) if host and _address(str(host)) is None else None
    if address is None and name is not None:
        name = _hostname(name)
    return address, name, proto, _port(str(port))


def _host_port(token: str) -> tuple[str | None, str | None, str, int] | None:
    """naabu's plain ``host:port`` (``[v6]:port``), or None for any other token."""
    if _address(token.strip("[]")) is not None:
        return None
    bracketed = _BRACKETED_PORT.match(token)
    if bracketed:
        return _checked_address(bracketed[1]), None, "tcp", _port(bracketed[2])
    host, colon, port = token.rpartition(":")
    if not colon or not port.isdigit() or ":" in host:
        return None
    address = _address(host)
    return address, None if address else _hostname(host), "tcp", _port(port)


def _checked_address(text: str) -> str:
    address = _address(text)
    if address is None:
        raise TargetError(f"{text!r} is not a valid IP address")
    return address


def _port(text: str) -> int:
    port = int(text)
    if not 0 <= port <= MAX_PORT:
        raise TargetError(f"port {port} is out of range: ports are 0-{MAX_PORT}")
    return port


class _Merged:
    """Targets in first-seen order; the lines that name ports merge per (address, name)."""

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.items: list[Target | tuple[str | None, str | None]] = []
        self.ports: dict[tuple[str | None, str | None], dict[str, set[int]]] = {}
        self.count = 0

    def add_plain(self, targets: list[Target]) -> None:
        self.items.extend(targets)
        self.count += len(targets)

    def add_port(self, address: str | None, name: str | None, proto: str, port: int) -> None:
        key = (address, name)
        if key not in self.ports:
            if self.limit is not None and self.count >= self.limit:
                raise TargetError(f"more than the {self.limit:,} targets allowed; "
                                  f"split them or {RAISE_LIMIT}")
            self.ports[key] = {"tcp": set(), "udp": set()}
            self.items.append(key)
            self.count += 1
        self.ports[key][proto].add(port)

    def targets(self) -> list[Target]:
        return list(self._targets())

    def _targets(self) -> Iterator[Target]:
        for item in self.items:
            if isinstance(item, Target):
                yield item
                continue
            ports = self.ports[item]
            spec = PortSpec(tcp=tuple(sorted(ports["tcp"])), udp=tuple(sorted(ports["udp"])))
            yield Target(item[0], item[1], spec)


# --------------------------------------------------------------------------------------------
# Exclusions (--exclude, --excludefile)


@dataclass(frozen=True, slots=True)
class Exclusions:
    """Addresses not to scan, kept as blocks and octet patterns (never expanded, so excluding
    ``10.0.0.0/8`` costs what excluding one address does)."""

    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    octets: tuple[tuple[frozenset[int], ...], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.networks or self.octets)

    def __contains__(self, address: object) -> bool:
        if not isinstance(address, str):
            return False
        ip = ipaddress.ip_address(address)
        if any(ip in network for network in self.networks):
            return True
        if ip.version != 4:
            return False
        parts = [int(part) for part in str(ip).split(".")]
        return any(all(p in allowed for p, allowed in zip(parts, pattern, strict=True))
                   for pattern in self.octets)

    def apply(self, targets: Iterable[Target]) -> list[Target]:
        """``targets`` without the excluded ones (targets must have their addresses)."""
        return [t for t in targets if t.address is None or t.address not in self]


def parse_exclusions(specs: Iterable[str], *, family: int = socket.AF_UNSPEC) -> Exclusions:
    """The exclusions of ``specs`` (each an address, block, octet range or name, as Nmap's
    ``--exclude`` takes them). A name stands for every address it resolves to (this looks
    names up: it blocks)."""
    networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
    octets: list[tuple[frozenset[int], ...]] = []
    for spec in specs:
        text = spec.strip()
        if not text:
            raise TargetError("empty exclusion")
        if text.startswith("[") and text.endswith("]"):
            text = text[1:-1]
        if "/" in text:
            if _address(text.partition("/")[0]) is None:
                raise TargetError(f"{text!r} is not a valid address block to exclude")
            try:
                networks.append(ipaddress.ip_network(text, strict=False))
            except ValueError as exc:
                raise TargetError(f"{text!r} is not a valid address block: {exc}") from None
        elif _address(text) is not None:
            networks.append(ipaddress.ip_network(text))
        elif _OCTETS.match(text) and any(c in text for c in "*,-"):
            octets.append(tuple(frozenset(_octet_values(part, text)) for part in text.split(".")))
        else:
            networks.extend(ipaddress.ip_network(a) for a in resolve(_hostname(text), family=family))
    return Exclusions(tuple(networks), tuple(octets))


def exclusion_specs(text: str) -> list[str]:
    """The specifications of ``--exclude``: separated by commas, as Nmap splits them (an
    empty one is refused by :func:`parse_exclusions`, as Nmap refuses it)."""
    return text.split(",")


def read_exclusion_file(path: str | Path) -> list[str]:
    """The specifications of an ``--excludefile``: separated by white space, ``#`` comments."""
    try:
        text = files.read_bounded(path).decode("utf-8", "replace")
    except OSError as exc:
        raise TargetError(f"cannot read exclude file {str(path)!r}: {exc.strerror}") from None
    return [token for line in text.splitlines() for token in line.split("#", 1)[0].split()]


# --------------------------------------------------------------------------------------------
# Name resolution (blocking: the driver runs it in a thread)


def resolve(name: str, *, family: int = socket.AF_UNSPEC) -> tuple[str, ...]:
    """The addresses of ``name`` (``socket.getaddrinfo``), IPv4 first, without duplicates."""
    try:
        infos = socket.getaddrinfo(name, None, family, socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        why = getattr(exc, "strerror", None) or str(exc)
        raise TargetError(f'Failed to resolve "{name}": {why}') from None
    found: list[tuple[int, str]] = []
    for info in infos:
        entry = (0 if info[0] == socket.AF_INET else 1, str(info[4][0]))
        if entry not in found:
            found.append(entry)
    return tuple(address for _, address in sorted(found, key=lambda e: e[0]))


def reverse_name(address: str) -> str | None:
    """The reverse-DNS name of ``address`` (the system resolver, /etc/hosts first), or None."""
    try:
        name = socket.gethostbyaddr(address)[0]
    except (OSError, UnicodeError):
        return None
    return name if name and name != address else None


def resolve_target(target: Target, *, family: int = socket.AF_UNSPEC) -> Target:
    """``target`` with its address: the first address of its name; the others are kept in
    ``other_addresses``, not scanned (as Nmap). A target with an address is returned as is."""
    if target.address is not None or target.hostname is None:
        return target
    addresses = resolve(target.hostname, family=family)
    return replace(target, address=addresses[0], other_addresses=addresses[1:])
