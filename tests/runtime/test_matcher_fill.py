"""Filling a line's fields: the matcher expands plain-text fields once (the pairs in
``Templates.fields``, merged ``cpes``) and the rest per match. Every line of tests/data/engine.probes
and of both real databases must give what
expanding each of its templates at every match gives (:func:`sigscan.bundle.template.expand`, the
function the Nmap differential test checks), with the warnings in the same order."""

from __future__ import annotations

from functools import partial

import pytest

from sigscan.bundle.fields import Field
from sigscan.bundle.loader import open_bundle
from sigscan.bundle.records import MatchRecord
from sigscan.bundle.template import Literal, Template, cpe_slot, expand, merge_cpes
from sigscan.matcher.fill import FIELDS, Templates, Written, fill
from tests.conftest import REAL_FILES, SMALL, bundle_of

# groups of several shapes: set, unset, too long for a field, with bytes Nmap rewrites
GROUPS: tuple[tuple[bytes | None, ...], ...] = (
    tuple(b"g%d 1.2" % i for i in range(1, 10)),
    (None,) * 9,
    (b"x" * 300,) * 9,
    (b"A b\x00c\x7f,", b"", None, b"\xff\xfe", b"Linux", b"9", b"", b"z", b"q"),
)


def expected(record: MatchRecord, groups: tuple[bytes | None, ...]) -> tuple[dict[str, str], tuple[str, ...], int]:
    """The values, CPEs and warning count of expanding every template now (no precomputing)."""
    data = record.templates or {}
    values: dict[str, str] = {}
    warnings = 0
    for field in FIELDS:
        if field.value in data:
            value = expand(Template.from_data(data[field.value]), groups, record.groups)
            if value is None:
                warnings += 1
            elif value:
                values[field.attribute] = value.decode("ascii")
    results: list[tuple[str | None, bytes | None]] = []
    for item in data.get("cpe", ()):
        template = Template.from_data(item)
        head = b"".join(p.text for p in _leading_literals(template))
        slot = cpe_slot(head)
        value = None if slot is None else expand(template, groups, record.groups)
        warnings += value is None
        results.append((slot, value))
    return values, tuple(v.decode("ascii") for v in merge_cpes(results)), warnings


def _leading_literals(template: Template) -> list[Literal]:
    out = []
    for part in template.parts:
        if not isinstance(part, Literal):
            break
        out.append(part)
    return out


@pytest.mark.parametrize("name", [SMALL, *sorted(REAL_FILES)])
def test_fill_equals_expanding_every_template(name: str, request: pytest.FixtureRequest) -> None:
    with open_bundle(bundle_of(request, name, "db")) as bundle:
        records = list(bundle.all_matches())
        fixed = 0
        for record in records:
            templates = Templates.of(record, {})
            fixed += sum(isinstance(item, tuple) for item in templates.fields)
            fixed += bool(templates.cpes) and isinstance(templates.cpes[0], str)
            for groups in GROUPS:
                filled = fill(*templates, groups, record.groups, 100, record.line, partial(Written.of, record))
                values, cpe, warnings = expected(record, groups)
                assert (filled.values, filled.cpe, len(filled.warnings)) == (values, cpe, warnings), record.line
    assert fixed > len(records) // 2  # most lines have a plain-text field: the precomputing is used


def test_a_plain_field_too_long_warns_at_every_match() -> None:
    product = Template((Literal(b"p" * 200),), Field.PRODUCT)
    record_templates = {"p": product.to_data()}
    record = MatchRecord(0, 0, 0, False, "x", b"", b"", "m", "", False, False, 0, False, b"", (),
                         0, None, (("p", "/", b"p" * 200, ""),), record_templates, 0, 7, None)
    templates = Templates.of(record)
    assert templates.fields == (product,) and templates.cpes == ()
    filled = fill(*templates, (), 0, 42, 7, lambda: Written.of(record))
    assert filled.values == {} and "failed to fill product_template (subjectlen: 42" in filled.warnings[0]
