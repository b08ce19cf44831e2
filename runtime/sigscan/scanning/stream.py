"""A scan as an async iterator of :class:`PortResult`: what :func:`sigscan.scan` returns.

:func:`scan` reads its arguments as ``sigscan scan`` reads its command line
(:mod:`sigscan.scanning.plan`), then :func:`port_results` runs the same
:class:`~sigscan.scanning.scanner.Scanner` the command runs (discovery, detection, parallelism
fitted to the descriptor limit) and yields each port as it finishes, every requested port once.

The scanner runs in a task of its own on the caller's loop, not in a task group inside the
generator: a task group must not span a ``yield``, or its cancellations and errors would land
in whatever the reader happens to await meanwhile. Results reach the reader through a queue, so a slow reader
holds them (one small record per port) without slowing the scan. However the iteration ends
(the last port, an error, the reader's task cancelled, the generator closed after a ``break``),
the task is cancelled and awaited before the generator is done: every socket is closed by then.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Iterable, Sequence
from typing import TYPE_CHECKING

from sigscan.bundle.default import open_default
from sigscan.bundle.loader import Bundle
from sigscan.engine import Catalog, EngineConfig, Profile
from sigscan.engine.results import PortResult
from sigscan.net.driver import DEFAULT_MAX_PARALLEL
from sigscan.plugins import selected
from sigscan.scanning.plan import bundle_error, port_spec, ready_catalog, resolve_targets
from sigscan.scanning.ports import MAX_PORT, PROTOCOLS, PortSpec, PortSpecError, ServiceTable
from sigscan.scanning.scanner import Scanner, ScanOptions
from sigscan.scanning.targets import Target, TargetError, parse_targets

if TYPE_CHECKING:
    from os import PathLike


async def scan(targets: str | Iterable[str], ports: str | int | Iterable[int], *,
               bundle: Bundle | str | PathLike[str] | None = None,
               profile: Profile | str = Profile.NMAP, intensity: int = 7,
               protocols: str | Iterable[str] = "tcp", max_parallel: int | None = None,
               max_host_parallel: int | None = None) -> AsyncIterator[PortResult]:
    """See :func:`sigscan.scan` (docs/api.md). Arguments are checked at the first step of the
    iteration, before any packet is sent."""
    chosen = _profile(profile)
    # the profile's version plugins, as the command runs them (rpc-grind among them)
    config = EngineConfig(intensity=intensity, profile=chosen, plugins=selected(chosen))
    options = ScanOptions(max_parallel=_at_least_one("max_parallel", max_parallel) or DEFAULT_MAX_PARALLEL,
                          max_host_parallel=_at_least_one("max_host_parallel", max_host_parallel))
    scanned = _protocols(protocols)
    parsed = _targets(targets)
    with contextlib.nullcontext(bundle) if isinstance(bundle, Bundle) else open_default(bundle) as opened:
        spec = _ports(ports, scanned, opened)
        resolved = await asyncio.to_thread(resolve_targets, parsed) if _names(parsed) else parsed
        catalog = ready_catalog(opened)
        async with contextlib.aclosing(port_results(catalog, config, options, resolved, spec)) as results:
            async for result in results:
                yield result


async def port_results(catalog: Catalog, config: EngineConfig, options: ScanOptions,
                       targets: Sequence[Target], ports: PortSpec) -> AsyncGenerator[PortResult, None]:
    """Scan resolved ``targets`` (each with its own ports if it names some, else ``ports``) and
    yield every port as it finishes (see the module docstring). A bundle found unusable
    mid-scan raises its :class:`~sigscan.bundle.errors.BundleError`; any other failure of the
    scan's tasks, their exception group."""
    finished: asyncio.Queue[PortResult | None] = asyncio.Queue()
    scanner = Scanner(catalog, config, options, on_port=finished.put_nowait)
    task = asyncio.create_task(scanner.run(targets, ports), name="sigscan.scan")
    task.add_done_callback(lambda _: finished.put_nowait(None))  # after its last port
    try:
        while (result := await finished.get()) is not None:
            yield result
        _raise_failure(task)
    finally:
        await _stop(task)


def _raise_failure(task: asyncio.Task[None]) -> None:
    failure = task.exception()  # the task is done, and only _stop cancels it
    if isinstance(failure, BaseExceptionGroup):
        unusable = bundle_error(failure)
        if unusable is not None:
            raise unusable from failure
    if failure is not None:
        raise failure


async def _stop(task: asyncio.Task[None]) -> None:
    """Cancel the scan and wait for its cleanup (it closes every socket at once)."""
    if not task.done():
        task.cancel()
        await asyncio.wait({task})
    if not task.cancelled():
        task.exception()  # retrieved: a failure after the reader left is not reported twice


# -- arguments --------------------------------------------------------------------------------


def _profile(profile: Profile | str) -> Profile:
    if isinstance(profile, Profile):
        return profile
    try:
        return Profile(str(profile).lower())
    except ValueError:
        raise ValueError(f"unknown profile {profile!r}: use 'nmap' or 'fast'") from None


def _at_least_one(name: str, value: int | None) -> int | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise ValueError(f"{name} must be a whole number of at least 1, not {value!r}")
    return value


def _protocols(protocols: str | Iterable[str]) -> tuple[str, ...]:
    asked = [protocols] if isinstance(protocols, str) else list(protocols)
    chosen = {str(p).lower() for p in asked}
    if not chosen or not chosen <= set(PROTOCOLS):
        raise PortSpecError(f"protocols must be 'tcp', 'udp' or both, not {protocols!r}")
    return tuple(p for p in PROTOCOLS if p in chosen)


def _targets(targets: str | Iterable[str]) -> list[Target]:
    specs = [targets] if isinstance(targets, str) else list(targets)
    for spec in specs:
        if not isinstance(spec, str):
            raise TargetError(f"a target is an address, name or block as a string, not {spec!r}")
    parsed = parse_targets(specs)
    if not parsed:
        raise TargetError("no targets: give addresses, names or blocks")
    return parsed


def _names(targets: Sequence[Target]) -> bool:
    """Whether any target is a name still to look up (which blocks: done in a thread)."""
    return any(t.address is None for t in targets)


def _ports(ports: str | int | Iterable[int], protocols: tuple[str, ...], bundle: Bundle) -> PortSpec:
    """A port specification as ``-p`` takes it (service names read from the bundle's
    ``nmap-services``), or port numbers, each scanned over every protocol of ``protocols``."""
    if isinstance(ports, str):
        return port_spec(ports, protocols=protocols, table=ServiceTable.from_bundle(bundle))
    if isinstance(ports, bytes | bytearray) or not isinstance(ports, int | Iterable):
        raise PortSpecError(f"ports are a string such as '22,80-81' or port numbers, not {ports!r}")
    numbers: set[int] = set()
    for port in [ports] if isinstance(ports, int) else ports:
        if isinstance(port, bool) or not isinstance(port, int):
            raise PortSpecError(f"a port is a number, not {port!r}")
        if not 0 <= port <= MAX_PORT:
            raise PortSpecError(f"port {port} is out of range: ports are 0-{MAX_PORT}")
        numbers.add(port)
    if not numbers:
        raise PortSpecError("no ports given: name at least one")
    chosen = tuple(sorted(numbers))
    return PortSpec(tcp=chosen if "tcp" in protocols else (), udp=chosen if "udp" in protocols else ())
