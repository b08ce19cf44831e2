"""Filling a matched line's version fields from the match's groups (via :mod:`sigscan.template`),
with Nmap's warning for every field it fails to fill."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sigscan.bundle.records import MatchRecord
from sigscan.fields import Field
from sigscan.template import Literal, Template, cpe_slot, expand, merge_cpes

# Nmap's names in "failed to fill <name>_template (subjectlen: N, <len>len: SIZE)"
_NMAP_NAMES = {
    Field.PRODUCT: "product",
    Field.VERSION: "version",
    Field.EXTRAINFO: "info",
    Field.HOSTNAME: "hostname",
    Field.OSTYPE: "ostype",
    Field.DEVICETYPE: "devicetype",
}
FIELDS = tuple(_NMAP_NAMES)


@dataclass(frozen=True, slots=True)
class Templates:
    """A line's parsed templates: one per field at most, then its CPEs in line order."""

    fields: tuple[Template, ...]
    cpes: tuple[Template, ...]
    written: dict[str, bytes]  # field key -> text as written (the last one), for warnings
    cpes_written: tuple[bytes, ...]

    @classmethod
    def of(cls, record: MatchRecord) -> Templates:
        data: dict[str, Any] = record.templates or {}
        fields = tuple(Template.from_data(data[f.value]) for f in FIELDS if f.value in data)
        cpes = tuple(Template.from_data(d) for d in data.get("cpe", ()))
        written = {key: text for key, _, text, _ in record.fields}
        cpe_texts = tuple(text for key, _, text, _ in record.fields if key == Field.CPE.value)
        return cls(fields, cpes, written, cpe_texts)


@dataclass(frozen=True, slots=True)
class Filled:
    values: dict[str, str]  # Verdict attribute -> value, only the non-empty ones
    cpe: tuple[str, ...]
    warnings: tuple[str, ...]


def fill(templates: Templates, groups: Sequence[bytes | None], ngroups: int, subjectlen: int, line: int) -> Filled:
    """Expand every template of a line against a match's groups (``groups[i]`` is group i+1)."""
    values: dict[str, str] = {}
    warnings: list[str] = []
    for template in templates.fields:
        field = template.field
        value = expand(template, groups, ngroups)
        if value is None:
            warnings.append(_warning(field, templates.written.get(field.value, b""), subjectlen, line))
        elif value:
            values[field.attribute] = value.decode("ascii")
    cpe = _cpes(templates, groups, ngroups, subjectlen, line, warnings)
    return Filled(values, cpe, tuple(warnings))


def _cpes(templates: Templates, groups: Sequence[bytes | None], ngroups: int, subjectlen: int,
          line: int, warnings: list[str]) -> tuple[str, ...]:
    results: list[tuple[str | None, bytes | None]] = []
    for i, template in enumerate(templates.cpes):
        written = templates.cpes_written[i] if i < len(templates.cpes_written) else b""
        slot = cpe_slot(_literal_head(template))
        if slot is None:
            warnings.append(f"Warning: Servicescan ignored a CPE whose part is not a, h or o. "
                            f"Match string was line {line}: cpe:/{_show(written)}/")
            results.append((None, None))
            continue
        value = expand(template, groups, ngroups)
        if value is None:
            warnings.append(f"Warning: Servicescan failed to fill cpe_{slot} (subjectlen: {subjectlen}, "
                            f"cpe_{slot}len: {Field.CPE.size}). Too long? Match string was line {line}: "
                            f"cpe:/{_show(written)}/")
        results.append((slot, value))
    return tuple(v.decode("ascii") for v in merge_cpes(results))


def _literal_head(template: Template) -> bytes:
    """The literal text a template starts with (Nmap routes a CPE by it, before substitution)."""
    head = bytearray()
    for part in template.parts:
        if not isinstance(part, Literal):
            break
        head += part.text
    return bytes(head)


def _warning(field: Field, written: bytes, subjectlen: int, line: int) -> str:
    name = _NMAP_NAMES[field]
    return (f"Warning: Servicescan failed to fill {name}_template (subjectlen: {subjectlen}, "
            f"{name}len: {field.size}). Capture exceeds length? Match string was line {line}: "
            f"{field.value}/{_show(written)}/")


def _show(text: bytes) -> str:
    return text.decode("latin-1")
