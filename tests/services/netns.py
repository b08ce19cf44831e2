"""A network namespace of the harness's own: its loopback is the only interface, so nothing a
daemon or a scanner inside it does can reach anything else, and standard ports are free in it.

Everything here shells out to iproute2 (``ip netns``) and ``ss`` with a time limit. A command runs
inside with ``ip netns exec NAME ARGV…``, which ``exec``s ARGV: the PID ``Popen`` returns is the
command's own, so it can be stopped by that PID.
"""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

IP = "/usr/sbin/ip"
COMMAND_TIMEOUT = 10.0  # seconds, for every iproute2 / ss command
_USERS_PID = re.compile(r"pid=(\d+)")


class Proto(StrEnum):
    TCP = "tcp"
    UDP = "udp"


@dataclass(frozen=True)
class Listener:
    """A bound socket as ``ss -lntupH`` shows it (TCP in LISTEN, UDP unconnected)."""

    proto: Proto
    address: str
    port: int
    pids: frozenset[int]

    @property
    def loopback(self) -> bool:
        return is_loopback(self.address)


def is_loopback(address: str) -> bool:
    """Whether an ``ss`` local address (``127.0.0.1``, ``[::1]``, ``*``, ``0.0.0.0%lo``) is loopback."""
    host = address.strip("[]").split("%", 1)[0]
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # "*": every address
        return False


def parse_ss(text: str) -> list[Listener]:
    """Parse ``ss -lntupH`` output (Netid State Recv-Q Send-Q Local Peer Process)."""
    listeners = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 5 or fields[0] not in ("tcp", "udp"):
            continue
        address, _, port = fields[4].rpartition(":")
        if not port.isdigit():
            continue
        users = " ".join(fields[6:])
        pids = frozenset(int(p) for p in _USERS_PID.findall(users))
        listeners.append(Listener(Proto(fields[0]), address, int(port), pids))
    return listeners


def host_listeners() -> list[Listener]:
    """The listening sockets of the namespace this process is in."""
    result = subprocess.run(["ss", "-lntupH"], capture_output=True, text=True,
                            timeout=COMMAND_TIMEOUT, check=True)
    return parse_ss(result.stdout)


class NamespaceError(RuntimeError):
    """The namespace cannot be made or used (not root, no iproute2, a kernel that refuses)."""


@dataclass(frozen=True)
class Namespace:
    name: str

    @classmethod
    def create(cls, prefix: str = "sigscan-harness") -> Namespace:
        """A new namespace named ``PREFIX-PID-RANDOM`` with its loopback up and no other interface."""
        namespace = cls(f"{prefix}-{os.getpid()}-{secrets.token_hex(3)}")
        _ip("netns", "add", namespace.name)
        try:
            _ip("-n", namespace.name, "link", "set", "lo", "up")
            names = namespace.interfaces()
            if names != ["lo"]:
                raise NamespaceError(f"namespace {namespace.name} has interfaces {names}, expected only lo")
        except BaseException:
            namespace.delete()
            raise
        return namespace

    def argv(self, argv: Sequence[str]) -> list[str]:
        """ARGV run inside the namespace (``ip netns exec`` execs it: same PID)."""
        return [IP, "netns", "exec", self.name, *argv]

    def run(self, argv: Sequence[str], *, timeout: float,
            input: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
        """Run ARGV inside, capturing its output; killed (``TimeoutExpired``) after TIMEOUT s."""
        return subprocess.run(self.argv(argv), input=input, capture_output=True,
                              timeout=timeout, check=False)

    def listeners(self) -> list[Listener]:
        result = self.run(["ss", "-lntupH"], timeout=COMMAND_TIMEOUT)
        if result.returncode != 0:
            raise NamespaceError(f"ss in {self.name} failed: {result.stderr.decode(errors='replace')}")
        return parse_ss(result.stdout.decode(errors="replace"))

    def interfaces(self) -> list[str]:
        links = _ip("-n", self.name, "-o", "link", "show").splitlines()
        return [line.split(":")[1].strip() for line in links if line.strip()]

    def pids(self) -> list[int]:
        """PIDs of every process whose network namespace this is."""
        return [int(p) for p in _ip("netns", "pids", self.name).split()]

    def delete(self) -> None:
        subprocess.run([IP, "netns", "delete", self.name], capture_output=True,
                       timeout=COMMAND_TIMEOUT, check=False)


def _ip(*args: str) -> str:
    try:
        result = subprocess.run([IP, *args], capture_output=True, text=True,
                                timeout=COMMAND_TIMEOUT, check=False)
    except FileNotFoundError as error:
        raise NamespaceError(f"{IP} is missing (apt-get install iproute2)") from error
    if result.returncode != 0:
        raise NamespaceError(f"ip {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout
