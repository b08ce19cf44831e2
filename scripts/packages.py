#!/usr/bin/env python3
"""The Debian packages scripts/setup.sh needs, and how each gets onto the machine.

A package the machine lacks is installed with apt, unless apt could install it only by removing a
package the machine has (vsftpd where proftpd is installed: both provide and conflict with
``ftp-server``; postfix where exim4 is: ``mail-transport-agent``). Such a package is unpacked
into a private folder instead (``apt-get download`` and ``dpkg -x``, no maintainer script runs)
and the tests run it from there; its dependencies that apt can install are installed. The
machine's own packages are never removed or replaced.

apt decides what conflicts (its simulation, ``apt-get -s``), not a reading of Conflicts/Breaks/
Provides here: it knows versioned relations, virtual packages and dependencies of dependencies.

Runs with the system python3, before the virtual environment exists: standard library only.

    packages.py missing [--dev] [--private DIR] [--status FILE]
        the wanted packages neither installed nor unpacked in DIR (no apt call)
    packages.py plan [--private DIR] [--status FILE] PACKAGE...
        "install P..." and "private P..." lines (apt must know the packages: apt-get update first)
    packages.py unpack --private DIR PACKAGE...
        download and unpack each into DIR/root, once (DIR/unpacked/PACKAGE records it)

``--status FILE`` reads another dpkg status file in place of the machine's (the tests model a
machine with other daemons installed that way).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

BASE = ("nmap", "python3", "python3-venv")
# --dev: the test and lint tools (ndiff and xmllint read the -oX output), the real daemons of
# tests/services and what its harness uses (iproute2: ip netns and ss; gcc and libc6-dev: its
# LD_PRELOAD shim; openssl and openssh-client: its certificate and SSH host key).
DEV = ("ndiff", "libxml2-utils", "openssh-server", "openssh-client", "nginx", "postfix", "vsftpd",
       "redis-server", "dnsmasq", "memcached", "rpcbind", "snmpd", "stunnel4", "iproute2", "gcc",
       "libc6-dev", "openssl",
       "coturn", "strongswan-charon", "strongswan-swanctl", "pptpd", "mumble-server",
       # the daemons of the version plugins' harness tests (mqtt-subscribe, amqp-info,
       # xmpp-info, rfc868-time: xinetd's built-in Time service)
       "mosquitto", "rabbitmq-server", "prosody", "xinetd")
# --dev, the real servers of tests/plugins/test_java_servers.py: the JVM (its JDWP agent, and
# javac for the source launcher) and Apache Derby's network server (DRDA).
DEV += ("openjdk-17-jdk-headless", "libderby-java")

STATUS = Path("/var/lib/dpkg/status")
APT_ARCHIVES = Path("/var/cache/apt/archives")
APT_TIMEOUT = 600.0  # seconds for one apt-get call (a download on a slow mirror)
_INST = re.compile(r"^Inst (\S+)", re.MULTILINE)
_REMV = re.compile(r"^Remv (\S+)", re.MULTILINE)


class PlanError(Exception):
    """apt cannot do what is asked; the message says what apt said."""


@dataclass(frozen=True)
class Private:
    """The private folder: ``root`` holds the unpacked files (as if it were ``/``), ``unpacked``
    one file per package (its version), ``debs`` the downloaded packages."""

    folder: Path

    @property
    def root(self) -> Path:
        return self.folder / "root"

    def stamp(self, package: str) -> Path:
        return self.folder / "unpacked" / package

    def has(self, package: str) -> bool:
        return self.stamp(package).is_file()


@dataclass(frozen=True)
class Apt:
    """How to call apt: against the machine's dpkg status, or another status file (then apt
    keeps its package caches beside that file, so the machine's cache files are not rewritten)."""

    status: Path = STATUS

    def options(self) -> list[str]:
        if self.status == STATUS:
            return []
        return ["-o", f"Dir::State::status={self.status}",
                "-o", f"Dir::Cache::pkgcache={self.status}.pkgcache.bin",
                "-o", f"Dir::Cache::srcpkgcache={self.status}.srcpkgcache.bin"]

    def run(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "LC_ALL": "C", "DEBIAN_FRONTEND": "noninteractive"}
        try:
            return subprocess.run(["apt-get", *self.options(), *args], capture_output=True,
                                  text=True, env=env, cwd=cwd, timeout=APT_TIMEOUT, check=False)
        except subprocess.TimeoutExpired as error:
            raise PlanError(f"apt-get {' '.join(args)} took more than {APT_TIMEOUT:.0f} s") from error


@dataclass(frozen=True)
class Simulation:
    """What ``apt-get -s install`` would do: the packages it installs (or upgrades) and removes."""

    installs: frozenset[str]
    removes: frozenset[str]


def simulate(apt: Apt, packages: Sequence[str]) -> Simulation:
    """Ask apt what installing PACKAGES would do (as setup.sh installs: no recommends)."""
    if not packages:
        return Simulation(frozenset(), frozenset())
    result = apt.run("-s", "install", "--no-install-recommends", *packages)
    if result.returncode != 0:
        raise PlanError(f"apt-get cannot install {' '.join(packages)}: {apt_error(result)}")
    return Simulation(frozenset(_INST.findall(result.stdout)), frozenset(_REMV.findall(result.stdout)))


def apt_error(result: subprocess.CompletedProcess[str]) -> str:
    """apt's error lines (``E: …``) on one line, or the end of its output."""
    errors = [line for line in result.stderr.splitlines() if line.startswith("E: ")]
    text = " ".join(errors) or " ".join((result.stderr or result.stdout).split()[-30:])
    return text or f"exit status {result.returncode}"


def installed(status: Path) -> set[str]:
    """The packages a dpkg status file says are installed."""
    names = set()
    for stanza in status.read_text(encoding="utf-8", errors="replace").split("\n\n"):
        fields = dict(re.findall(r"^(Package|Status): (.*)$", stanza, re.MULTILINE))
        if fields.get("Status", "").endswith(" installed") and "Package" in fields:
            names.add(fields["Package"])
    return names


def missing(wanted: Iterable[str], status: Path, private: Private) -> list[str]:
    """The WANTED packages neither installed nor unpacked privately, in order."""
    have = installed(status)
    return [p for p in dict.fromkeys(wanted) if p not in have and not private.has(p)]


@dataclass(frozen=True)
class Plan:
    install: tuple[str, ...]  # for apt-get install (the private packages' dependencies included)
    private: tuple[str, ...]  # to unpack into the private folder

    def lines(self) -> list[str]:
        return [f"{what} {' '.join(names)}"
                for what, names in (("install", self.install), ("private", self.private)) if names]


@dataclass
class _Planning:
    """The packages apt can install together so far (and what that installs), the ones it
    cannot install without a removal, and those ones' dependencies."""

    apt: Apt
    accepted: list[str] = field(default_factory=list)
    accepted_installs: frozenset[str] = frozenset()
    private: list[str] = field(default_factory=list)
    dependencies: dict[str, None] = field(default_factory=dict)

    def admit(self, candidates: Sequence[str]) -> None:
        """Accept CANDIDATES if apt installs them with the accepted ones removing nothing, else
        halve them: one simulation when nothing conflicts, about 2·log2(n) per conflicting one."""
        if not candidates:
            return
        trial = simulate(self.apt, [*self.accepted, *candidates])
        if not trial.removes:
            self.accepted += candidates
            self.accepted_installs = trial.installs
        elif len(candidates) == 1:
            self.private.append(candidates[0])
            for name in sorted(trial.installs - self.accepted_installs - set(candidates)):
                self.dependencies[name] = None
        else:
            half = len(candidates) // 2
            self.admit(candidates[:half])
            self.admit(candidates[half:])


def plan(apt: Apt, packages: Sequence[str]) -> Plan:
    """Which of PACKAGES apt installs and which are unpacked privately (see the module's doc)."""
    planning = _Planning(apt)
    planning.admit(list(dict.fromkeys(packages)))
    extra = [d for d in planning.dependencies if d not in planning.accepted
             and d not in planning.private]
    install = (*planning.accepted, *extra)
    if extra and simulate(apt, install).removes:
        raise PlanError(f"apt cannot install the dependencies of {' '.join(planning.private)} "
                        f"({' '.join(extra)}) without removing a package")
    return Plan(install, tuple(planning.private))


def fetch(apt: Apt, package: str, debs: Path) -> Path:
    """PACKAGE's candidate .deb: from apt's cache when it holds that very file (same SHA-256),
    else downloaded into DEBS."""
    result = apt.run("download", "--print-uris", package)
    found = re.search(r"^'[^']+' (\S+) \d+ SHA256:([0-9a-f]{64})$", result.stdout, re.MULTILINE)
    if result.returncode != 0 or found is None:
        raise PlanError(f"apt-get download {package}: {apt_error(result)}")
    name, sha256 = found.groups()
    for folder in (APT_ARCHIVES, debs):
        path = folder / name
        if path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == sha256:
            return path
    debs.mkdir(parents=True, exist_ok=True)
    # as root, apt downloads as the user _apt, who cannot write in DEBS: download as root instead
    sandbox = ["-o", "APT::Sandbox::User=root"] if os.geteuid() == 0 else []
    result = apt.run(*sandbox, "download", package, cwd=debs)
    if result.returncode != 0 or not (debs / name).is_file():
        raise PlanError(f"apt-get download {package}: {apt_error(result)}")
    return debs / name


def unpack(apt: Apt, private: Private, packages: Sequence[str]) -> list[str]:
    """Unpack each of PACKAGES not unpacked yet into the private root; the ones unpacked now."""
    done = []
    for package in packages:
        if private.has(package):
            continue
        deb = fetch(apt, package, private.folder / "debs")
        private.root.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(["dpkg-deb", "-x", str(deb), str(private.root)],
                                capture_output=True, text=True, timeout=APT_TIMEOUT, check=False)
        if result.returncode != 0:
            raise PlanError(f"dpkg-deb -x {deb}: {result.stderr.strip()}")
        version = subprocess.run(["dpkg-deb", "-f", str(deb), "Version"], capture_output=True,
                                 text=True, timeout=APT_TIMEOUT, check=True).stdout.strip()
        private.stamp(package).parent.mkdir(parents=True, exist_ok=True)
        private.stamp(package).write_text(f"{version}\n")  # last: a half-unpacked one is redone
        done.append(package)
    return done


def arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="packages.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("missing", "plan", "unpack"))
    parser.add_argument("packages", nargs="*", metavar="PACKAGE")
    parser.add_argument("--dev", action="store_true", help="also the test tools and daemons")
    parser.add_argument("--private", type=Path, default=Path(".deps"), metavar="DIR",
                        help="the private folder (default .deps)")
    parser.add_argument("--status", type=Path, default=STATUS, metavar="FILE",
                        help="the dpkg status file (default %(default)s)")
    return parser.parse_intermixed_args(argv)


def main(argv: Sequence[str]) -> int:
    args = arguments(argv)
    apt, private = Apt(args.status), Private(args.private)
    try:
        if args.command == "missing":
            wanted = [*BASE, *(DEV if args.dev else ()), *args.packages]
            names = missing(wanted, args.status, private)
            lines = [" ".join(names)] if names else []
        elif args.command == "plan":
            lines = plan(apt, args.packages).lines()
        else:
            lines = [f"unpacked {p} into {private.root}" for p in unpack(apt, private, args.packages)]
    except (PlanError, OSError) as error:
        print(f"packages.py: {error}", file=sys.stderr)
        return 1
    for line in lines:
        print(line)
    return 0


if __name__ == "__main__":
    if shutil.which("apt-get") is None:
        sys.exit("packages.py: apt-get not found (setup.sh works on Debian and its derivatives)")
    sys.exit(main(sys.argv[1:]))
