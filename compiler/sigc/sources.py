"""Finding the inputs: the installed Nmap database and our own signatures."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

PROBES_FILE = "nmap-service-probes"
SERVICES_FILE = "nmap-services"
RPC_FILE = "nmap-rpc"
DEFAULT_DIRS = ("/usr/share/nmap", "/usr/local/share/nmap")
SIGNATURES_GLOB = "*.probes"


class NoDatabase(Exception):
    """No nmap-service-probes was found where Nmap installs it; the message lists where we looked."""


@dataclass(frozen=True, slots=True)
class Inputs:
    """What a build reads: probe files in order, and the tables beside the first one."""

    probes: tuple[Path, ...]
    services: Path | None
    rpc: Path | None

    def paths(self) -> tuple[Path, ...]:
        """Every file the build reads."""
        return self.probes + tuple(p for p in (self.services, self.rpc) if p is not None)


def search_dirs(environ: dict[str, str] | None = None) -> list[Path]:
    env = os.environ if environ is None else environ
    dirs = [Path(env["NMAPDIR"])] if env.get("NMAPDIR") else []
    return dirs + [Path(d) for d in DEFAULT_DIRS]


def installed_database(environ: dict[str, str] | None = None) -> Path:
    """The first ``nmap-service-probes`` in ``$NMAPDIR``, /usr/share/nmap, /usr/local/share/nmap."""
    dirs = search_dirs(environ)
    for d in dirs:
        candidate = d / PROBES_FILE
        if candidate.is_file():
            return candidate
    looked = ", ".join(str(d) for d in dirs)
    raise NoDatabase(
        f"no {PROBES_FILE} found (looked in {looked}); install Nmap "
        "(`apt-get install nmap`), set $NMAPDIR, or name the file: `sigc build PATH`"
    )


def resolve(sources: Sequence[str], signatures_dir: Path = Path("signatures")) -> Inputs:
    """The probe files to read. No sources: the installed database plus ``signatures/*.probes``.
    A directory stands for the ``nmap-service-probes`` inside it. ``nmap-services`` and
    ``nmap-rpc`` are taken from the folder of the first probe file, when they are there."""
    if sources:
        files = [Path(s) / PROBES_FILE if Path(s).is_dir() else Path(s) for s in sources]
    else:
        files = [installed_database()]
        if signatures_dir.is_dir():
            files += sorted(signatures_dir.glob(SIGNATURES_GLOB))
    folder = files[0].parent
    services = folder / SERVICES_FILE
    rpc = folder / RPC_FILE
    return Inputs(
        tuple(files),
        services if services.is_file() else None,
        rpc if rpc.is_file() else None,
    )
