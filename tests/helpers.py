"""Small helpers shared by tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sigc.syntax.model import SourceFile

DATA = Path(__file__).resolve().parent / "data"


def canonical(source: SourceFile) -> Any:
    """The model without locations, comments or file identity: what a round trip must keep."""
    exclude = None if source.exclude is None else (source.exclude.items,)
    probes = []
    for p in source.probes:
        directives = tuple((d.keyword, d.text) for d in p.directives)
        matches = tuple(
            (m.kind, m.service, m.pattern, m.delimiter, m.flags,
             tuple((f.key, f.text, f.delimiter, f.flags) for f in m.fields))
            for m in p.matches
        )
        probes.append((p.protocol, p.name, p.payload, p.raw_payload, p.delimiter, p.options,
                       p.ports, p.sslports, p.rarity, p.fallback, p.totalwaitms, p.tcpwrappedms,
                       directives, matches))
    return exclude, tuple(probes)


def build_data(name: str, folder: Path, suffix: str = "db") -> Path:
    """A bundle of ``tests/data/NAME.probes``. ``NAME.services`` and ``NAME.rpc``, when they are
    there, are copied beside it as ``nmap-services`` and ``nmap-rpc``, where sigc looks for them."""
    from sigc.build import build
    from sigc.sources import resolve

    source = folder / "nmap-service-probes"
    for kind, target in ((".probes", source), (".services", folder / "nmap-services"),
                         (".rpc", folder / "nmap-rpc")):
        original = DATA / f"{name}{kind}"
        if original.is_file() and not target.exists():
            target.write_bytes(original.read_bytes())
    out = folder / f"{name}.{suffix}"
    result = build(resolve([str(source)]), out)
    assert result.ok, [str(d) for d in result.database.errors]
    return out


def write(tmp: Path, name: str, text: bytes) -> Path:
    path = tmp / name
    path.write_bytes(text)
    return path


TINY = (
    b"# $Id: tiny test database $\n"
    b"Exclude T:9100-9107\n"
    b"Probe TCP NULL q||\n"
    b"totalwaitms 6000\n"
    b"tcpwrappedms 3000\n"
    b"match ftp m|^220 ([\\w.-]+) FTP server \\(Version ([\\d.]+)\\)| p/Tiny FTP/ v/$2/ h/$1/ cpe:/a:tiny:ftp:$2/\n"
    b"softmatch ftp m|^220 |\n"
    b"Probe TCP GenericLines q|\\r\\n\\r\\n|\n"
    b"rarity 1\n"
    b"ports 21,23,1000-1002\n"
    b"sslports 990\n"
    b"match echo m|^\\r\\n\\r\\n$| p/echo/\n"
    b"Probe UDP DNSStatusRequest q|\\0\\0\\x10\\0\\0\\0\\0\\0\\0\\0\\0\\0|\n"
    b"rarity 1\n"
    b"ports 53\n"
    b"match domain m|^\\0\\0\\x90\\x04|s p/DNS/\n"
)
