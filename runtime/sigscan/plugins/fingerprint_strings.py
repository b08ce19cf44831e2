"""``fingerprint-strings``: the readable strings of an unrecognised service's fingerprint, under
the probes that drew them.

Mirrors Nmap 7.93's script: on every port that has a service fingerprint (any intensity, no
traffic sent) it reads each probe's response back out of the fingerprint (``parse_fp``, with
its quirks: :mod:`sigscan.plugins.lib.fingerprint`), keeps the runs of at least four printable
characters (runs of spaces and tabs count as one character and print as one space; whatever
lies between runs becomes a new line), groups the probes whose strings are the same, and
prints each group under its probe names, sorted. The verdict is not changed. A fingerprint
Nmap's reader fails on (a ``\\x`` without hex digits, no entry that parses) fails the script, as
in Nmap.
"""

from __future__ import annotations

from sigscan.engine.plugin import Exchange, Outcome, Plugin, PortView
from sigscan.plugins.lib.fingerprint import FingerprintError, responses

MIN_LENGTH = 4  # the script's fingerprint-strings.n default
INDENT = b"\n    "


def _printable(byte: int) -> bool:
    return 0x21 <= byte <= 0x7E


def _plain(blob: bytes, start: int, n: int) -> tuple[int, bytes] | None:
    """A run of at least ``n`` printable characters or blank runs (each blank run one
    character, written as one space) at ``start``: where it ends and its text."""
    text = bytearray()
    i, count = start, 0
    while i < len(blob):
        if _printable(blob[i]):
            text.append(blob[i])
            i += 1
        elif blob[i] in b" \t":
            while i < len(blob) and blob[i] in b" \t":
                i += 1
            text += b" "
        else:
            break
        count += 1
    return (i, bytes(text)) if count >= n else None


def _skip(blob: bytes, start: int, n: int) -> int | None:
    """Where the stretch at ``start`` that is no string ends: repeated (at most ``n - 1``
    printable characters, then at least one other byte, blanks included). None: no stretch."""
    i = start
    while True:
        j = i
        while j < len(blob) and j - i < n - 1 and _printable(blob[j]):
            j += 1
        k = j
        while k < len(blob) and not _printable(blob[k]):
            k += 1
        if k == j:
            return i if i > start else None
        i = k


def strings(blob: bytes, n: int = MIN_LENGTH) -> bytes | None:
    """The script's ``strings``: the runs, each stretch between them written as a new line and
    indent. None when not even the start of ``blob`` is a run or a stretch; a tail too short to
    be either is dropped."""
    out = bytearray()
    i, matched = 0, False
    while True:
        plain = _plain(blob, i, n)
        if plain is not None:
            i, text = plain
            out += text
        else:
            end = _skip(blob, i, n)
            if end is None:
                return bytes(out) if matched else None
            i = end
            out += INDENT
        matched = True


def tidy(text: bytes) -> bytes:
    """The script's whitespace rearrangement: one new line and indent first, none at the end."""
    return (INDENT + text.lstrip(b"\n ")).rstrip(b"\n ")


def render(found: dict[str, bytes], n: int = MIN_LENGTH) -> str | None:
    """The script's output for the responses ``found`` (probe name → bytes)."""
    groups: dict[bytes, list[str]] = {}
    for probe in sorted(found):
        text = strings(found[probe], n)
        if text is None:
            continue
        text = tidy(text)
        if text:
            groups.setdefault(text, []).append(probe)
    if not groups:
        return None
    labelled = sorted((", ".join(probes), text) for text, probes in groups.items())
    return "".join(f"\n  {label}: {text.decode('ascii')}" for label, text in labelled)


def rule(view: PortView) -> bool:
    return bool(view.service.servicefp)


def run(view: PortView) -> Exchange:
    assert view.service.servicefp is not None
    found = responses(view.service.servicefp)
    if not found:  # parse_fp gives nil, and the script fails on it
        raise FingerprintError("no response could be read out of the fingerprint")
    output = render(found)
    if output is None:
        return None
    return Outcome(output=output)
    yield  # a generator that takes no step


PLUGIN = Plugin("fingerprint-strings", rule, run,
                summary="the readable strings of an unrecognised service's fingerprint")
