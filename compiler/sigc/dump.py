"""Render a bundle back into nmap-service-probes syntax (``sigc dump``).

Parsing the output gives the same model as the sources the bundle was built from (comments and
blank lines aside): the bundle keeps every directive as written.
"""

from __future__ import annotations

from collections.abc import Iterator

from sigscan.bundle.loader import Bundle
from sigscan.bundle.records import ExcludeRecord, MatchRecord, ProbeRecord


def dump(bundle: Bundle) -> Iterator[bytes]:
    """The lines of the dump, each ending in a newline."""
    yield b"# Rendered by `sigc dump` from a sigc bundle built from:\n"
    for s in bundle.sources:
        yield f"#   {s.kind}: {s.path} sha256={s.sha256}\n".encode("latin-1", "replace")
    if bundle.exclude:
        yield b"Exclude " + _exclude(bundle.exclude).encode("latin-1") + b"\n"
    for probe in bundle.probes:
        yield b"\n"
        yield from _probe(probe)
        for m in bundle.matches(probe.id):
            yield _match(m)


def _exclude(items: tuple[ExcludeRecord, ...]) -> str:
    parts = []
    current: str | None = None
    for item in items:
        prefix = ""
        if item.protocol != current and item.protocol is not None:
            prefix = item.protocol + ":"
            current = item.protocol
        if item.service is not None:
            parts.append(prefix + item.service)
        elif item.start == item.end:
            parts.append(f"{prefix}{item.start}")
        else:
            parts.append(f"{prefix}{item.start}-{item.end}")
    return ",".join(parts)


def _probe(p: ProbeRecord) -> Iterator[bytes]:
    options = "".join(" " + o for o in p.options)
    d = p.delimiter.encode("latin-1")
    yield f"Probe {p.protocol} {p.name} q".encode("latin-1") + d + p.raw_payload + d + options.encode("latin-1") + b"\n"
    for keyword, text, _line in p.directives:
        yield f"{keyword} {text}\n".encode("latin-1")


def _match(m: MatchRecord) -> bytes:
    keyword = b"softmatch" if m.soft else b"match"
    d = m.delimiter.encode("latin-1")
    parts = [keyword, m.service.encode("latin-1"), b"m" + d + m.pattern + d + m.flags.encode("latin-1")]
    for key, delimiter, text, flags in m.fields:
        name = b"cpe:" if key == "cpe" else key.encode("latin-1")
        fd = delimiter.encode("latin-1")
        parts.append(name + fd + text + fd + flags.encode("latin-1"))
    return b" ".join(parts) + b"\n"
