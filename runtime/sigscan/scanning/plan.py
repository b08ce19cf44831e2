"""What a scan needs before its first packet, the same for ``sigscan scan`` and
:func:`sigscan.scan`: the ports read against the bundle's ``nmap-services``, the targets'
names resolved, and the bundle's catalog made ready; and the one error worth telling when a
scan's task group fails.

Errors are the ``ValueError`` subclasses of the layer below, one line each, quoting what was
given: :class:`~sigscan.scanning.ports.PortSpecError`, :class:`~sigscan.scanning.targets.TargetError`.
"""

from __future__ import annotations

import socket
from collections.abc import Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from sigscan.bundle.errors import BundleError
from sigscan.bundle.loader import Bundle
from sigscan.engine import Catalog
from sigscan.scanning.ports import PortSpec, PortSpecError, ServiceTable, parse_ports, top_ports
from sigscan.scanning.targets import Target, resolve_target, reverse_name

DEFAULT_TOP_PORTS = 1000  # Nmap's default port set
RESOLVERS = 8  # name lookups at once


def port_spec(spec: str | None, *, protocols: Collection[str], table: ServiceTable,
              top: int | None = None) -> PortSpec:
    """The ports of ``-p spec`` and ``--top-ports top`` for a scan of ``protocols``: ``spec``
    alone, the ``top`` most frequent ports of ``nmap-services`` (within ``spec`` when both are
    given), or Nmap's default 1,000 when neither is. An empty ``spec`` is a specification too
    (refused, as Nmap does), not a missing one. Raises :class:`PortSpecError`, also when no port
    is left to scan."""
    chosen = parse_ports(spec, protocols=protocols, table=table) if spec is not None else None
    if top is not None or chosen is None:
        count = DEFAULT_TOP_PORTS if top is None else top
        chosen = top_ports(table, count, protocols=protocols, within=chosen)
    if not chosen:
        raise PortSpecError(f"no {'/'.join(protocols).upper()} ports to scan in -p {spec!r}")
    return chosen


def resolve_targets(targets: Sequence[Target], *, family: int = socket.AF_UNSPEC) -> list[Target]:
    """Every target with its address: names are looked up, :data:`RESOLVERS` at once (this
    blocks; an event loop runs it in a thread), for addresses of ``family`` (``AF_INET6``:
    IPv6 only, Nmap's ``-6``). Raises :class:`~sigscan.scanning.targets.TargetError` for a
    name that does not resolve."""
    if all(t.address is not None for t in targets):  # addresses only: no thread needed
        return list(targets)
    with ThreadPoolExecutor(RESOLVERS) as pool:
        return list(pool.map(lambda t: resolve_target(t, family=family), targets))


def reverse_names(targets: Sequence[Target]) -> list[Target]:
    """Every target with its reverse-DNS name (Nmap's ``-R``), looked up :data:`RESOLVERS` at
    once with the system resolver (this blocks)."""
    with ThreadPoolExecutor(RESOLVERS) as pool:
        names = list(pool.map(lambda t: None if t.address is None else reverse_name(t.address),
                              targets))
    return [replace(t, ptr_name=name) for t, name in zip(targets, names, strict=True)]


def ready_catalog(bundle: Bundle) -> Catalog:
    """The bundle's catalog, its matcher's imports done now: a scan at its descriptor limit may
    have no descriptor free to import a module with later."""
    catalog = Catalog.from_bundle(bundle)
    catalog.matcher.preload()
    return catalog


def bundle_error(group: BaseExceptionGroup[BaseException]) -> BundleError | None:
    """The first :class:`BundleError` in a failed scan's task groups (a bundle line is checked
    when it is first read, so a tampered bundle can fail mid-scan), None when there is none:
    that is what to tell the user, rather than the group."""
    found: BundleError | BaseExceptionGroup[BundleError] | None = group.subgroup(BundleError)
    while isinstance(found, BaseExceptionGroup):
        found = found.exceptions[0]
    return found
