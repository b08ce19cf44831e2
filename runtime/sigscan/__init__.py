"""sigscan: the lean runtime that loads a sigc bundle and identifies services.

The Python API (docs/api.md)::

    bundle = sigscan.open_bundle()                      # where `sigscan` finds it
    verdict = sigscan.identify(bundle, b"SSH-2.0-OpenSSH_9.2p1\\r\\n")
    async for port in sigscan.scan("127.0.0.1", "22,80", bundle=bundle): ...

``import sigscan`` loads nothing but this file: the functions import what they need when
called, and the types below are loaded on first use (a module ``__getattr__``, PEP 562), so
that a one-banner ``sigscan identify`` starts as fast as before and ``import sigscan`` brings
in neither asyncio, nor regex, nor the matcher.
"""

from sigscan.version import __version__

__all__ = [
    "Bundle",
    "BundleError",
    "PortResult",
    "PortSpecError",
    "PortState",
    "Profile",
    "Service",
    "TargetError",
    "UnknownProbe",
    "Verdict",
    "__version__",
    "identify",
    "open_bundle",
    "scan",
]

# Annotations name these as strings, and typing is not imported: `import sigscan` loads only
# the package and its version (tests/api/test_import.py; cold start, docs/benchmarks.md).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterable
    from os import PathLike

    from sigscan.bundle.errors import BundleError
    from sigscan.bundle.loader import Bundle
    from sigscan.engine.config import Profile
    from sigscan.engine.results import PortResult, PortState, Service
    from sigscan.matcher.core import UnknownProbe
    from sigscan.matcher.verdict import Verdict
    from sigscan.scanning.ports import PortSpecError
    from sigscan.scanning.targets import TargetError

# The public types and the module each is defined in, imported on first access.
_LAZY = {
    "Bundle": "sigscan.bundle.loader",
    "BundleError": "sigscan.bundle.errors",
    "PortResult": "sigscan.engine.results",
    "PortSpecError": "sigscan.scanning.ports",
    "PortState": "sigscan.engine.results",
    "Profile": "sigscan.engine.config",
    "Service": "sigscan.engine.results",
    "TargetError": "sigscan.scanning.targets",
    "UnknownProbe": "sigscan.matcher.core",
    "Verdict": "sigscan.matcher.verdict",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'sigscan' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups find it without coming here
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


def open_bundle(path: "str | PathLike[str] | None" = None) -> "Bundle":
    """The bundle at ``path``; with None, the one ``sigscan`` uses when given no ``--bundle``:
    ``$SIGSCAN_BUNDLE``, else ``./build/signatures.db``, else
    ``$XDG_DATA_HOME/sigscan/signatures.db`` (``~/.local/share/sigscan/signatures.db``).

    A context manager: ``with sigscan.open_bundle() as bundle:`` closes it at the end (a SQLite
    bundle holds its file open; a JSON bundle holds nothing). Raises :class:`BundleError`
    (missing, unreadable, not a bundle, another schema version, truncated or modified), whose
    message names the file and says what to do."""
    from sigscan.bundle.default import open_default

    return open_default(path)


def identify(bundle: "Bundle", data: bytes, *, probe: str = "NULL", proto: str = "tcp") -> "Verdict":
    """The verdict for ``data``, a response received to probe ``probe`` (``NULL``: the banner a
    TCP service sends unasked) over ``proto`` (``tcp`` or ``udp``), as ``sigscan identify``
    gives it. Nothing matched: a :class:`Verdict` whose ``name`` is None (``matched`` False).

    Raises :class:`UnknownProbe` (a ``LookupError``) when the bundle has no such probe,
    ``ValueError`` for another ``proto``, ``TypeError`` for data that is not bytes, and
    :class:`BundleError` when a line it reads of the bundle is malformed or the bundle is
    closed. Never raises for what ``data`` holds."""
    from sigscan.matcher import matcher_for

    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"data must be bytes, not {type(data).__name__}")
    protocol = proto.lower()
    if protocol not in ("tcp", "udp"):
        raise ValueError(f"proto must be 'tcp' or 'udp', not {proto!r}")
    # matcher_for: one Matcher per bundle, kept on the bundle (indexes, compiled patterns reused; freed with it)
    return matcher_for(bundle).identify(probe, protocol, data)


def scan(targets: "str | Iterable[str]", ports: "str | int | Iterable[int]", *,
         bundle: "Bundle | str | PathLike[str] | None" = None, profile: "Profile | str" = "nmap",
         intensity: int = 7, protocols: "str | Iterable[str]" = "tcp",
         max_parallel: int | None = None, max_host_parallel: int | None = None,
         plugins: bool = True, skip_plugins: "Iterable[str]" = ()) -> "AsyncIterator[PortResult]":
    """Scan ``ports`` of ``targets`` as ``sigscan scan`` does (a connect scan, then Nmap's
    version detection on the open ports) and yield a :class:`PortResult` for each requested
    port as it finishes, each exactly once. See docs/api.md for the arguments; bad ones raise
    :class:`TargetError` or :class:`PortSpecError` (both ``ValueError``), ``ValueError`` or
    :class:`BundleError` at the first step of the iteration, before any packet is sent.

    Leaving the ``async for`` early cancels the scan; ``contextlib.aclosing`` makes that
    happen at once, with every socket closed when its block ends."""
    from sigscan.scanning.stream import scan as run

    return run(targets, ports, bundle=bundle, profile=profile, intensity=intensity,
               protocols=protocols, max_parallel=max_parallel, max_host_parallel=max_host_parallel,
               plugins=plugins, skip_plugins=skip_plugins)
