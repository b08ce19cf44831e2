"""Template expansion at match time (nmap-semantics §2), on hand-built parsed templates."""

from __future__ import annotations

import json
from collections.abc import Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sigscan.bundle.fields import Field
from sigscan.bundle.template import (
    Group,
    Int,
    Invalid,
    Literal,
    Part,
    Printable,
    Subst,
    Template,
    cpe_slot,
    expand,
    expand_cpes,
    merge_cpes,
    template_slot,
)


def fill(field: Field, *parts: Part | bytes, groups: Sequence[bytes | None] = (), ngroups: int | None = None) -> bytes | None:
    template = Template(tuple(Literal(p) if isinstance(p, bytes) else p for p in parts), field)
    return expand(template, groups, len(groups) if ngroups is None else ngroups)


P, V, INFO, OS, D, CPE = Field.PRODUCT, Field.VERSION, Field.EXTRAINFO, Field.OSTYPE, Field.DEVICETYPE, Field.CPE


# --- variables ---------------------------------------------------------------------------------

def test_group_is_copied_raw() -> None:
    assert fill(P, b"Prod ", Group(1), groups=[b"abc"]) == b"Prod abc"


def test_nul_in_a_capture_cuts_only_that_substitution() -> None:
    assert fill(P, Group(1), b"-", Group(2), groups=[b"ab\0cd", b"ef"]) == b"ab-ef"


def test_printable_keeps_0x20_to_0x7e() -> None:
    assert fill(P, Printable(1), groups=[b"W\0O\0R\0K\0\t\r\n\x7f\x80\xffx y"]) == b"WORKx y"


def test_subst_is_non_overlapping_left_to_right() -> None:
    assert fill(V, Subst(1, b"aa", b"X"), groups=[b"aaaaa"]) == b"XXa"
    assert fill(V, Subst(1, b"_", b"."), groups=[b"1_2_3"]) == b"1.2.3"
    assert fill(V, Subst(1, b"A", b"AB"), groups=[b"AB"]) == b"ABB"


def test_subst_result_is_a_c_string() -> None:
    assert fill(V, Subst(1, b"-", b"\0"), b"!", groups=[b"a-b"]) == b"a!"


def test_subst_with_empty_find_fails_instead_of_hanging() -> None:
    assert fill(V, Subst(1, b"", b"x"), groups=[b"abc"]) is None
    assert fill(V, b"v", Subst(1, b"", b"x"), groups=[b""]) == b"v"  # Nmap's loop never runs


@pytest.mark.parametrize(
    ("capture", "big", "little"),
    [
        (b"\x01\x02\x03\x04", b"16909060", b"67305985"),
        (b"AB", b"16706", b"16961"),
        (b"", b"0", b"0"),
        (b"\xff" * 8, b"18446744073709551615", b"18446744073709551615"),
    ],
)
def test_int_reads_unsigned_big_and_little_endian(capture: bytes, big: bytes, little: bytes) -> None:
    assert fill(INFO, Int(1, True), groups=[capture]) == big
    assert fill(INFO, Int(1, False), groups=[capture]) == little


def test_int_of_more_than_8_bytes_fails() -> None:
    assert fill(INFO, b"x=", Int(1, True), groups=[b"\0" * 9]) is None


@pytest.mark.parametrize(
    ("part", "groups", "ngroups"),
    [
        (Group(2), [b"a", None], 2),  # did not participate (HEAD: fails; 7.93 may abort)
        (Group(3), [b"a", b"b"], 2),  # above the pattern's group count
        (Group(2), [b"a", b"b"], 1),  # the count wins over the list
        (Printable(0), [b"a"], 1),
        (Group(10), [b"a"] * 10, 10),
        (Invalid("bad"), [b"a"], 1),
    ],
)
def test_a_failing_variable_fails_the_whole_field(part: Part, groups: list[bytes | None], ngroups: int) -> None:
    assert fill(P, b"literal ", part, b" more", groups=groups, ngroups=ngroups) is None


def test_an_empty_participating_group_gives_an_empty_string() -> None:
    assert fill(P, b"[", Group(1), b"]", groups=[b""]) == b"[]"


# --- length limits: N-1 ending in literal text, N-2 ending in a substitution --------------------

@pytest.mark.parametrize(("field", "size"), [(P, 80), (V, 80), (Field.HOSTNAME, 80), (INFO, 256), (OS, 32), (D, 32)])
def test_limits_are_n_minus_2_after_a_substitution_and_n_minus_1_after_literal(field: Field, size: int) -> None:
    assert fill(field, Group(1), groups=[b"x" * (size - 2)]) == b"x" * (size - 2)
    assert fill(field, Group(1), groups=[b"x" * (size - 1)]) is None
    assert fill(field, b"y" * (size - 1)) == b"y" * (size - 1)
    assert fill(field, b"y" * size) is None
    assert fill(field, Group(1), b"z", groups=[b"x" * (size - 2)]) == b"x" * (size - 2) + b"z"
    assert fill(field, Group(1), b"z", groups=[b"x" * (size - 1)]) is None


def test_length_is_checked_before_trailing_whitespace_is_trimmed() -> None:
    assert fill(P, Group(1), b" ", groups=[b"x" * 78]) == b"x" * 78
    assert fill(P, Group(1), groups=[b"x" * 77 + b"  "]) is None


def test_nothing_is_truncated() -> None:
    assert fill(INFO, b"info: ", Group(1), groups=[b"x" * 300]) is None


# --- post-processing ---------------------------------------------------------------------------

def test_trailing_whitespace_and_commas_go_leading_ones_stay() -> None:
    assert fill(INFO, Group(1), b",  ,", groups=[b"val"]) == b"val"
    assert fill(V, b"  ", Group(1), b"  ", groups=[b"val"]) == b"  val"
    assert fill(INFO, b"x: ", Group(1), b", ", Group(2), groups=[b"abc", b""]) == b"x: abc"


def test_unprintable_bytes_become_dots() -> None:
    assert fill(P, Group(1), groups=[b"x\x7fy\x1bz\xc3\xa9"]) == b"x.y.z.."
    assert fill(P, b"caf\xe9 ", Group(1), groups=[b"\tok"]) == b"caf. .ok"


def test_empty_template_gives_an_empty_field() -> None:
    assert fill(P) == b""
    assert fill(P, Group(1), groups=[b" , "]) == b""


# --- CPE ---------------------------------------------------------------------------------------

def test_cpe_transforms_substitutions_only() -> None:
    assert fill(CPE, b"cpe:/a:Test:Prod Uct:", Group(1), groups=[b"Foo Bar!"]) == b"cpe:/a:Test:Prod Uct:foo_bar%21"


def test_cpe_escapes_every_reserved_character_in_uppercase_hex() -> None:
    value = fill(CPE, b"cpe:/a:x:", Group(1), groups=[b":/?#[]@!$&'()*+,;=%<>\""])
    assert value == b"cpe:/a:x:%3A%2F%3F%23%5B%5D%40%21%24%26%27%28%29%2A%2B%2C%3B%3D%25%3C%3E%22"


def test_cpe_whitespace_becomes_underscore_and_trim_comes_after_escaping() -> None:
    assert fill(CPE, b"cpe:/a:x:", Group(1), groups=[b"A\tB "]) == b"cpe:/a:x:a_b_"
    assert fill(CPE, b"cpe:/a:x:", Group(1), groups=[b"1.0,"]) == b"cpe:/a:x:1.0%2C"
    assert fill(CPE, b"cpe:/a:x:", Group(1), b", ", groups=[b"V"]) == b"cpe:/a:x:v"


def test_cpe_maps_every_byte_as_nmap_does() -> None:
    """Each byte alone and beside plain letters (a value with no reserved byte takes a faster
    path than one with some): lower case, whitespace to ``_``, reserved to ``%XX``, the rest
    (after trimming) printable or ``.``."""
    reserved = b":/?#[]@!$&'()*+,;=%<>\""
    for byte in range(256):
        mapped = (b"%%%02X" % byte if byte in reserved else b"_" if byte in b" \t\n\v\f\r"
                  else bytes([byte]).lower())
        if byte == 0:
            mapped = b""  # the group is a C string: it ends at a NUL
        expected = b"cpe:/a:x:q" + b"".join(bytes([b]) if 0x20 <= b <= 0x7E else b"." for b in mapped) + b"z"
        assert fill(CPE, b"cpe:/a:x:", Group(1), b"z", groups=[b"Q" + bytes([byte])]) == expected, byte


def test_cpe_length_counts_the_escaped_text() -> None:
    head = b"cpe:/a:x:"  # 9 bytes; room for 78 - 9 = 69 bytes after it
    assert fill(CPE, head, Group(1), groups=[b"a" * 66 + b"!"]) == head + b"a" * 66 + b"%21"
    assert fill(CPE, head, Group(1), groups=[b"a" * 67 + b"!"]) is None


def test_cpe_slot_reads_the_byte_after_the_prefix() -> None:
    assert [cpe_slot(v) for v in (b"cpe:/a:x", b"cpe:/h", b"cpe:/o:y", b"cpe:/x:y", b"cpe:/", b"cpe:/A:x", b"a:x")] == [
        "a", "h", "o", None, None, None, None,
    ]


def cpe(body: bytes, *more: Part) -> Template:
    return Template((Literal(b"cpe:/" + body), *more), CPE)


def test_later_cpe_overwrites_earlier_and_order_is_a_h_o() -> None:
    templates = [
        cpe(b"o:vendor:os"),
        cpe(b"h:vendor:hw"),
        cpe(b"a:symantec:antivirus"),
        cpe(b"a:symantec:antivirus_scan_engine"),
    ]
    assert expand_cpes(templates, [], 0) == (
        b"cpe:/a:symantec:antivirus_scan_engine",
        b"cpe:/h:vendor:hw",
        b"cpe:/o:vendor:os",
    )


def test_cpe_with_unknown_part_is_ignored_and_a_failed_one_empties_its_slot() -> None:
    templates = [cpe(b"a:first"), cpe(b"x:ignored"), cpe(b"o:os:", Group(1)), cpe(b"a:second:", Group(2))]
    assert expand_cpes(templates, [b"1.0", None], 2) == (b"cpe:/o:os:1.0",)


def test_cpe_routed_by_template_text_not_by_its_value() -> None:
    templates = [Template((Literal(b"cpe:/"), Group(1)), CPE)]
    assert template_slot(templates[0]) is None and template_slot(cpe(b"h:x")) == "h"
    assert expand_cpes(templates, [b"a:x"], 1) == ()


def test_merge_cpes_rule() -> None:
    assert merge_cpes([("o", b"O1"), ("a", b"A1"), (None, b"X"), ("a", b"A2"), ("h", None)]) == (b"A2", b"O1")


# --- plain data --------------------------------------------------------------------------------

EVERY_PART = Template(
    (Literal(b"caf\xe9 $"), Group(1), Printable(2), Subst(3, b"\r\n", b", "), Int(4, True), Int(5, False), Invalid("why")),
    Field.EXTRAINFO,
)


def test_data_form_is_compact_json_and_exact() -> None:
    data = EVERY_PART.to_data()
    assert data == ["i", "caf\xe9 $", 1, ["P", 2], ["SUBST", 3, "\r\n", ", "], ["I", 4, ">"], ["I", 5, "<"], ["!", "why"]]
    assert json.loads(json.dumps(data)) == data
    assert Template.from_data(json.loads(json.dumps(data))) == EVERY_PART


@pytest.mark.parametrize(
    "bad",
    [[], "p", ["zz"], ["p", 1.5], ["p", ["Q", 1]], ["p", ["I", 1, "="]], ["p", "\u0100"], ["p", True], ["p", ["P", False]], ["p", ["SUBST", 1, "a"]]],
)
def test_from_data_rejects_anything_else(bad: object) -> None:
    with pytest.raises(ValueError):
        Template.from_data(bad)


def test_max_group_and_always_fails() -> None:
    assert EVERY_PART.max_group() == 5 and EVERY_PART.always_fails
    assert Template((Literal(b"x"),), P).max_group() == 0
    assert not Template((Group(2),), P).always_fails


# --- properties --------------------------------------------------------------------------------

binary = st.binary(max_size=40)
parts = st.one_of(
    binary.map(Literal),
    st.integers(-2, 12).map(Group),
    st.integers(-2, 12).map(Printable),
    st.builds(Subst, st.integers(0, 10), st.binary(max_size=3), st.binary(max_size=5)),
    st.builds(Int, st.integers(0, 10), st.booleans()),
    st.just(Invalid("x")),
)
templates = st.builds(Template, st.lists(parts, max_size=6).map(tuple), st.sampled_from(list(Field)))
group_lists = st.lists(st.one_of(st.none(), st.binary(max_size=120)), max_size=10)


@given(templates, group_lists, st.integers(0, 12))
def test_expand_never_raises_and_always_gives_a_clean_field(template: Template, groups: list[bytes | None], ngroups: int) -> None:
    value = expand(template, groups, ngroups)
    if value is not None:
        assert len(value) <= template.field.size - 1
        assert all(0x20 <= b <= 0x7E for b in value)
        assert not value.endswith((b" ", b","))


@given(templates)
def test_data_round_trip(template: Template) -> None:
    assert Template.from_data(json.loads(json.dumps(template.to_data()))) == template
