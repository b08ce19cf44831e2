"""Nmap's value parsers: the values of ``ports``, ``sslports`` and ``Exclude`` lines, C's
``atoi``/``strtol`` for numbers and the probe protocol, each with the exact rules of Nmap's C
functions, so that a value Nmap refuses is refused here at the same byte."""

from __future__ import annotations

import re

from sigc.syntax.model import ExcludeItem, PortRange, PortSet, Protocol

ISSPACE = " \t\r\f\v\n"  # C's isspace
_PORT_MAX = 65535


def parse_port_list(text: str) -> tuple[PortSet, tuple[int, str] | None]:
    """``setPortVector``: comma-separated ports or ``a-b`` ranges, whitespace only around items.

    Returns the ports and, on failure, (offset, message) of the first problem.
    """
    ranges: list[PortRange] = []
    i, n = 0, len(text)
    while True:
        while i < n and text[i] in " \t\r\f\v":
            i += 1
        start_at = i
        start, i = _digits(text, i)
        if start is None:
            found = text[i : i + 10] or "end of line"
            return PortSet(), (i, f"expected a port number, found {found!r}")
        end = start
        if i < n and text[i] == "-":
            i += 1
            end_value, i = _digits(text, i)
            if end_value is None:
                return PortSet(), (i, f"expected a port number after '-', found {text[i:i+10] or 'end of line'!r}")
            end = end_value
        if start > _PORT_MAX or end > _PORT_MAX:
            return PortSet(), (start_at, f"port {max(start, end)} is above {_PORT_MAX}")
        if end < start:
            return PortSet(), (start_at, f"range {start}-{end} ends before it starts")
        ranges.append(PortRange(start, end))
        while i < n and text[i] in " \t\r\f\v":
            i += 1
        if i == n:
            return PortSet(tuple(ranges)), None
        if text[i] != ",":
            return PortSet(), (i, f"expected ',' between ports, found {text[i:i+10]!r}")
        i += 1


def _digits(text: str, i: int) -> tuple[int | None, int]:
    j = i
    while j < len(text) and text[j].isascii() and text[j].isdigit():
        j += 1
    if j == i:
        return None, i
    return int(text[i:j]), j


_PROTOCOLS = "TUSP"  # T: U: S: switch Exclude's following items to TCP, UDP, SCTP; P: to IP protocols
_MASK_START = frozenset("abcdefghijklmnopqrstuvwxyz*?")  # islower() in the C locale, or a wildcard
_MASK_MAX = 127


def parse_exclude(text: str) -> tuple[tuple[ExcludeItem, ...], tuple[int, str] | None]:
    """Nmap's ``getpts`` on an Exclude value, as the line hands it over: with its newline, which
    ends a port but not an open range (``80-`` is refused, ``80-,90`` is 80-65535).
    ``T:``/``U:``/``S:``/``P:`` switch the protocol of the items after them; an item is a port,
    a range (``-80`` starts at 1), or a service name mask (lowercase, ``*`` and ``?`` as
    wildcards) which :func:`sigc.analyze` looks up in nmap-services. ``[...]`` (ports named in
    nmap-services) is refused: sigc does not take it."""
    items: list[ExcludeItem] = []
    protocol: str | None = None
    line, i = text + "\n", 0
    n = len(line)

    def problem(at: int, message: str) -> tuple[tuple[ExcludeItem, ...], tuple[int, str]]:
        return (), (min(at, len(text)), message)

    while i < n:
        while i < n and line[i] in ISSPACE:
            i += 1
        if i + 1 < n and line[i + 1] == ":":
            if line[i] not in _PROTOCOLS:
                return problem(i, f"unknown protocol specifier '{line[i]}:' (T:, U:, S: or P:)")
            protocol, i = line[i], i + 2
            continue
        here = line[i] if i < n else ""
        if here == "[":
            return problem(i, "'[...]' (ports named in nmap-services) is not supported by sigc in Exclude")
        if here == "]":
            return problem(i, "unexpected ']'")
        if here in _MASK_START and here:
            end = i
            while end < n and line[end] not in ISSPACE and line[end] not in ",]":
                end += 1
            if end - i >= _MASK_MAX:
                return problem(i, f"service name mask longer than {_MASK_MAX - 1} characters")
            items.append(ExcludeItem(protocol, None, line[i:end]))
            i = end + (end < n and line[end] != "]")  # the byte after a mask goes with it
            continue
        highest = 255 if protocol == "P" else _PORT_MAX
        if here == "-":
            start = 0 if protocol == "P" else 1
        else:
            first, i = _digits(line, i)
            if first is None:
                return problem(i, f"expected a port, a range, a service name or T:/U:/S:/P:, found {_found(line, i)}")
            if first > highest:
                return problem(i, f"{first} is above {highest}")
            start = first
            while i < n and line[i] in ISSPACE:
                i += 1
        if i >= n or line[i] in ",]":
            end_port = start
        elif line[i] == "-":
            i += 1
            if i >= n or line[i] in ",]":
                end_port = highest
            else:
                last, j = _digits(line, i)
                if last is None:
                    return problem(i, f"expected a port after '-', found {_found(line, i)}"
                                      f"{' (an open range must be followed by a comma)' if i == n - 1 else ''}")
                if last > highest:
                    return problem(i, f"{last} is above {highest}")
                end_port, i = last, j
            if end_port < start:
                return problem(i, f"range {start}-{end_port} is backwards")
        else:
            return problem(i, f"expected ',' or '-' after the port, found {_found(line, i)}")
        items.append(ExcludeItem(protocol, PortRange(start, end_port)))
        while i < n and line[i] in ISSPACE:
            i += 1
        if i < n and line[i] == "]":
            return problem(i, "unexpected ']'")
        if i < n and line[i] != ",":
            return problem(i, f"expected ',' between items, found {_found(line, i)}")
        i += 1
    if not items:
        return problem(0, "Exclude lists no ports")
    return tuple(items), None


def _found(line: str, i: int) -> str:
    """What stands at ``i`` of a value with its newline, for a message."""
    return "the end of the line" if i >= len(line) - 1 else repr(line[i : i + 10].rstrip("\n"))


def atoi(text: str) -> int:
    """C's ``atoi``: optional sign and leading digits; anything else stops it (``5x`` is 5)."""
    m = re.match(r"[ \t\r\f\v\n]*([+-]?\d+)", text)
    return int(m.group(1)) if m else 0


def strtol(text: str) -> int:
    """C's ``strtol(…, 10)`` as Nmap calls it: leading digits, the rest ignored."""
    return atoi(text)


def parse_protocol(word: str) -> Protocol | None:
    try:
        return Protocol(word)
    except ValueError:
        return None
