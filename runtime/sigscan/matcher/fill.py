"""Filling a matched line's version fields from the match's groups (via :mod:`sigscan.bundle.template`),
with Nmap's warning for every field it fails to fill."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, TypeGuard

from sigscan.bundle.fields import Field
from sigscan.bundle.records import MatchRecord
from sigscan.bundle.template import Template, expand, merge_cpes, template_slot

Fields = tuple[tuple[str, str] | Template, ...]  # see Templates.fields
Cpes = tuple[str, ...] | tuple[Template, ...]  # see Templates.cpes

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


class Templates(NamedTuple):
    """A line's parsed templates, ready to fill: the values of the fields and CPEs that do not
    depend on the match, expanded once, and the templates of those that do.

    Most fields are plain text (``p/Apache httpd/``, ``cpe:/a:apache:http_server/`` beside
    ``v/$1/``); expanding them at every match made each verdict slower (test_identify in
    benchmarks/test_identify.py; docs/benchmarks.md).

    ``fields``: first a ``(Verdict attribute, value)`` pair for each plain-text field, then the
    template of each field with a variable (or that fails), in field order. ``cpes``: the merged
    CPEs when every CPE template is plain text and fills, else every CPE template in line order.
    Two tuples, not four (plain and varying apart, and a flag for the CPEs): the matcher keeps
    them for every line that has won (test_peak_rss in benchmarks/test_identify.py).
    """

    fields: Fields
    cpes: Cpes

    @classmethod
    def of(cls, record: MatchRecord, shared: dict[Any, Any] | None = None) -> Templates:
        """The record's templates. With ``shared`` (a dict kept by the caller), equal parts of
        different lines are one object: thousands of lines share ``v/$1/``, and plain values
        and CPE lists repeat too. Whole ``fields`` tuples are not shared: most lines have their
        own, and a table of them took more memory than it saved (test_peak_rss in
        benchmarks/test_identify.py; counts in docs/benchmarks.md)."""
        data: dict[str, Any] = record.templates or {}
        intern = _Interner(shared)
        varying: list[Template] = []
        fixed: list[tuple[str, str]] = []
        for f in FIELDS:
            item = data.get(f.value)
            if item is None:
                continue
            value = expand(Template.from_data(item), (), 0) if _plain(item) else None
            if value is None:  # depends on the match, or fails (its warning quotes the match)
                varying.append(intern.template(item))
            elif value:
                fixed.append(intern.one("value", (f.attribute, value.decode("ascii"))))
        cpe_data = data.get("cpe", ())
        fixed_cpe = _fixed_cpes(cpe_data)
        cpes: Cpes = (tuple(intern.template(d) for d in cpe_data) if fixed_cpe is None
                      else intern.one("cpe", fixed_cpe))
        return cls((*fixed, *varying), cpes)


def _plain(data: list[Any]) -> bool:
    """Is the template (in its stored form) literal text only, the same for every match?"""
    return all(isinstance(part, str) for part in data[1:])


def _fixed_cpes(cpes: list[Any]) -> tuple[str, ...] | None:
    """The merged CPEs when each is plain text that fills without a warning, else ``None``."""
    results: list[tuple[str | None, bytes | None]] = []
    for item in cpes:
        if not _plain(item):
            return None
        template = Template.from_data(item)
        slot = template_slot(template)
        value = expand(template, (), 0)
        if slot is None or value is None:
            return None
        results.append((slot, value))
    return tuple(v.decode("ascii") for v in merge_cpes(results))


class Written(NamedTuple):
    """A line's fields as written, for the warnings (read only when one is due)."""

    fields: tuple[tuple[str, bytes], ...]  # (field key, text)
    cpes: tuple[bytes, ...]

    @classmethod
    def of(cls, record: MatchRecord) -> Written:
        return cls(tuple((key, text) for key, _, text, _ in record.fields),
                   tuple(text for key, _, text, _ in record.fields if key == Field.CPE.value))

    def text(self, key: str) -> bytes:
        """The text of the last field ``key`` (b"" if none)."""
        found = b""
        for k, text in self.fields:
            if k == key:
                found = text
        return found


class _Interner:
    """Equal values made one object, through a dict the caller keeps (or not at all)."""

    def __init__(self, shared: dict[Any, Any] | None) -> None:
        self.shared = shared

    def one(self, kind: str, value: Any) -> Any:
        if self.shared is None:
            return value
        table = self.shared.get(kind)
        if table is None:
            table = self.shared[kind] = {}
        return table.setdefault(value, value)

    def template(self, data: Any) -> Template:
        return self.one("template", Template.from_data(data))  # type: ignore[no-any-return]


class Filled(NamedTuple):
    values: dict[str, str]  # Verdict attribute -> value, only the non-empty ones
    cpe: tuple[str, ...]
    warnings: tuple[str, ...]


def fill(fields: Fields, cpes: Cpes, groups: Sequence[bytes | None], ngroups: int, subjectlen: int,
         line: int, written: Callable[[], Written]) -> Filled:
    """Expand a line's templates (:class:`Templates`, ``fields`` and ``cpes``) against a match's
    groups (``groups[i]`` is group i+1); ``written`` gives the line's fields as written when a
    warning quotes them."""
    values: dict[str, str] = {}
    warnings: list[str] = []
    for item in fields:
        if isinstance(item, tuple):  # plain text, expanded once
            values[item[0]] = item[1]
            continue
        field = item.field
        value = expand(item, groups, ngroups)
        if value is None:
            warnings.append(_warning(field, written().text(field.value), subjectlen, line))
        elif value:
            values[field.attribute] = value.decode("ascii")
    if _merged(cpes):
        return Filled(values, cpes, tuple(warnings))
    return Filled(values, _cpes(cpes, groups, ngroups, subjectlen, line, warnings, written), tuple(warnings))


def _merged(cpes: Cpes) -> TypeGuard[tuple[str, ...]]:
    """Are these the merged values (plain text), not templates?"""
    return not cpes or isinstance(cpes[0], str)


def _cpes(templates: Cpes, groups: Sequence[bytes | None], ngroups: int, subjectlen: int,
          line: int, warnings: list[str], written: Callable[[], Written]) -> tuple[str, ...]:
    results: list[tuple[str | None, bytes | None]] = []
    for i, template in enumerate(templates):
        assert isinstance(template, Template)  # not merged (see _merged)
        slot = template_slot(template)
        if slot is None:
            warnings.append(f"Warning: Servicescan ignored a CPE whose part is not a, h or o. "
                            f"Match string was line {line}: cpe:/{_show(_cpe_text(written(), i))}/")
            results.append((None, None))
            continue
        value = expand(template, groups, ngroups)
        if value is None:
            warnings.append(f"Warning: Servicescan failed to fill cpe_{slot} (subjectlen: {subjectlen}, "
                            f"cpe_{slot}len: {Field.CPE.size}). Too long? Match string was line {line}: "
                            f"cpe:/{_show(_cpe_text(written(), i))}/")
        results.append((slot, value))
    return tuple(v.decode("ascii") for v in merge_cpes(results))


def _cpe_text(written: Written, i: int) -> bytes:
    return written.cpes[i] if i < len(written.cpes) else b""


def _warning(field: Field, written: bytes, subjectlen: int, line: int) -> str:
    name = _NMAP_NAMES[field]
    return (f"Warning: Servicescan failed to fill {name}_template (subjectlen: {subjectlen}, "
            f"{name}len: {field.size}). Capture exceeds length? Match string was line {line}: "
            f"{field.value}/{_show(written)}/")


def _show(text: bytes) -> str:
    return text.decode("latin-1")
