"""The benchmark corpus as a byte stream, read one case at a time (no pytest, no sigscan: child
processes import it and nothing else beyond what they measure)."""

from __future__ import annotations

import struct

TYPE_CHECKING = False
if TYPE_CHECKING:  # not imported at run time: the child processes measure sigscan, not typing
    from collections.abc import Iterable, Iterator
    from typing import BinaryIO

Case = tuple[str, str, bytes]  # probe, protocol, response
_HEADER = struct.Struct(">HI")


def write_cases(f: BinaryIO, cases: Iterable[Case]) -> None:
    for probe, proto, data in cases:
        head = f"{probe}\t{proto}".encode()
        f.write(_HEADER.pack(len(head), len(data)) + head + data)


def read_cases(f: BinaryIO) -> Iterator[Case]:
    while header := f.read(_HEADER.size):
        size, length = _HEADER.unpack(header)
        probe, proto = f.read(size).decode().split("\t")
        yield probe, proto, f.read(length)
