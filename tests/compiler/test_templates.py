"""Templates parsed by the compiler and expanded by the runtime (nmap-semantics §2, §11)."""

from __future__ import annotations

import collections
import json
import re
import warnings
from collections.abc import Iterator, Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sigc.diagnostics import Severity
from sigc.syntax.escapes import Dialect, unescape
from sigc.templates import CODES, max_group, parse_cpe, parse_template
from sigscan.bundle.fields import Field
from sigscan.bundle.template import (
    Group,
    Int,
    Invalid,
    Literal,
    Printable,
    Subst,
    Template,
    expand,
    expand_cpes,
)
from tests.conftest import real_file

P, V, INFO, H, OS, D, CPE = (
    Field.PRODUCT, Field.VERSION, Field.EXTRAINFO, Field.HOSTNAME, Field.OSTYPE, Field.DEVICETYPE, Field.CPE,
)


def groups_of(pattern: bytes, subject: bytes, flags: int = 0) -> tuple[list[bytes | None], int]:
    found = re.search(pattern, subject, flags)
    assert found is not None
    return list(found.groups()), found.re.groups


def fill(text: bytes, field: Field, groups: Sequence[bytes | None], ngroups: int) -> bytes | None:
    template, _ = parse_template(text, field)
    return expand(template, groups, ngroups)


def codes(text: bytes, field: Field = P) -> list[tuple[str, int]]:
    return [(p.code, p.offset) for p in parse_template(text, field)[1]]


# --- compatibility cases (§11) ------------------------------------------------------------------

def test_case_1_every_command_and_cpe() -> None:
    groups, n = groups_of(
        rb"^SRV1 ((?:\w\0)+) (\d_\d_\d) (....) (Foo Bar!)", b"SRV1 W\0O\0R\0K\0 1_2_3 \x01\x02\x03\x04 Foo Bar!\r\n", re.S
    )
    assert fill(b"$P(1)", P, groups, n) == b"WORK"
    assert fill(b'$SUBST(2,"_",".")', V, groups, n) == b"1.2.3"
    assert fill(b'BE=$I(3,">") LE=$I(3,"<")', INFO, groups, n) == b"BE=16909060 LE=67305985"
    cpes = [parse_template(b"a:Test:Prod Uct:$4", CPE)[0], parse_template(b"h:Vendor:HW", CPE)[0]]
    assert expand_cpes(cpes, groups, n) == (b"cpe:/a:Test:Prod Uct:foo_bar%21", b"cpe:/h:Vendor:HW")


def test_case_2_length_limit_of_a_substitution_and_of_a_literal() -> None:
    for length, expected in ((78, b"x" * 78), (79, None)):
        groups, n = groups_of(rb"^(x+)$", b"x" * length)
        assert fill(b"$1", P, groups, n) == expected
    assert fill(b"y" * 79, V, [], 0) == b"y" * 79


def test_case_3_unset_group_blanks_only_its_fields() -> None:
    groups, n = groups_of(rb"^SRV2 (\w+)(?: (\d+))?", b"SRV2 abc\r\n")
    assert groups == [b"abc", None]
    assert fill(b"Prod $1", P, groups, n) == b"Prod abc"
    assert fill(b"$2", V, groups, n) is None  # HEAD: field fails (7.93 aborts on a middle group)
    assert fill(b"x: $1, $2", INFO, groups, n) is None
    assert fill(b"host-$1", H, groups, n) == b"host-abc"


def test_case_4_trailing_whitespace_and_commas_trimmed_leading_kept() -> None:
    groups, n = groups_of(rb"(val)", b"val")
    assert fill(b"$1,  ,", INFO, groups, n) == b"val"
    assert fill(b"  $1  ", V, groups, n) == b"  val"


def test_case_5_later_cpe_wins_and_order_is_a_h_o() -> None:
    antivirus = [parse_template(t, CPE)[0] for t in (b"a:symantec:antivirus", b"a:symantec:antivirus_scan_engine")]
    assert expand_cpes(antivirus, [], 0) == (b"cpe:/a:symantec:antivirus_scan_engine",)
    mixed = [parse_template(t, CPE)[0] for t in (b"o:v:os", b"h:v:hw", b"a:v:app")]
    assert expand_cpes(mixed, [], 0) == (b"cpe:/a:v:app", b"cpe:/h:v:hw", b"cpe:/o:v:os")


def test_case_13_digits_strtol_subst_and_int() -> None:
    groups, n = groups_of(rb"(AB)", b"AB")
    assert fill(b"$10", P, groups, n) == b"AB0"
    assert fill(b"$P(0x1)", P, groups, n) == b"AB"
    assert fill(b'$SUBST(1,"A","\\x41\\x42")', P, groups, n) == b"ABB"
    assert fill(b'$I(1,">")', P, [b""], 1) == b"0"
    assert fill(b'$I(1,">")', P, [b"123456789"], 1) is None


# --- edge cases ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("field", "size"), [(P, 80), (V, 80), (H, 80), (INFO, 256), (OS, 32), (D, 32)])
def test_buffer_sizes(field: Field, size: int) -> None:
    assert fill(b"$1", field, [b"x" * (size - 2)], 1) == b"x" * (size - 2)
    assert fill(b"$1", field, [b"x" * (size - 1)], 1) is None
    assert fill(b"$1.", field, [b"x" * (size - 2)], 1) == b"x" * (size - 2) + b"."
    assert fill(b"$1.", field, [b"x" * (size - 1)], 1) is None


def test_nul_truncates_one_substitution_and_unprintables_become_dots() -> None:
    assert fill(b"$1/$2", P, [b"ab\0cd", b"\x1b\xe9\x7f"], 2) == b"ab/..."


def test_strtol_forms_and_whitespace_around_arguments() -> None:
    for text in (b"$P(0x1)", b"$P(01)", b"$P( 1 )", b"$P(+1)", b"$P(\t0X1\t)"):
        assert fill(text, P, [b"A\tB"], 1) == b"AB", text
    assert fill(b"$P(010)", P, [b""] * 7 + [b"eight"], 8) == b"eight"  # octal
    assert fill(b"$P(08)", P, [b"x"] * 8, 8) is None  # strtol stops at 8: group 0


def test_subst_with_spaces_and_escapes_in_arguments() -> None:
    template, problems = parse_template(b'$SUBST(1, "\\r\\n", ",")', INFO)
    assert problems == () and template.parts == (Subst(1, b"\r\n", b","),)
    assert expand(template, [b"a\r\nb\r\n"], 1) == b"a,b"


def test_group_number_is_cut_to_8_bits_as_newer_nmap_does() -> None:
    template, problems = parse_template(b"$P(257)", P)
    assert template.parts == (Printable(1),) and [p.code for p in problems] == ["SIG318"]


def test_parsed_forms() -> None:
    assert parse_template(b"Apache httpd $1 ($P(2)) $I(3,\"<\")", INFO)[0].parts == (
        Literal(b"Apache httpd "), Group(1), Literal(b" ("), Printable(2), Literal(b") "), Int(3, False),
    )
    assert parse_template(b"a:apache:http_server:$1", CPE)[0].parts == (Literal(b"cpe:/a:apache:http_server:"), Group(1))
    assert parse_template(b"", P)[0] == Template((), P)


def test_quote_after_a_backslash_does_not_close_a_string() -> None:
    # `\"` keeps the string open (newer Nmap then refuses the escape itself); `\\"` closes it.
    assert [p.code for p in parse_template(b'$SUBST(1,"a\\"b","c")', P)[1]] == ["SIG317"]
    assert parse_template(b'$SUBST(1,"\\\\","/")', P)[0].parts == (Subst(1, b"\\", b"/"),)
    assert parse_template(b'$SUBST(1,"\\x22","\'")', P)[0].parts == (Subst(1, b'"', b"'"),)


def test_max_group() -> None:
    template, _ = parse_template(b'$1 $P(4) $SUBST(2,"a","b") $I(3,">")', INFO)
    assert max_group(template) == 4
    assert max_group(parse_template(b"no variables", P)[0]) == 0


# --- findings: the exact list for each snippet, and none for clean ones --------------------------

@pytest.mark.parametrize(
    "text",
    [b"Apache httpd", b"$1", b"$P(1)", b'$SUBST(1,"_",".")', b'$I(1,">")', b"v$1.$2", b"x" * 79, b"",
     b'$SUBST(1,"%20"," ")', b"  padded  ,"],
)
def test_clean_templates_have_no_findings(text: bytes) -> None:
    assert parse_template(text, P)[1] == ()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (b"cost $", [("SIG310", 5)]),
        (b"$1$", [("SIG310", 2)]),
        (b"cost $$1", [("SIG310", 5)]),
        (b"US$ 5 (approx)", [("SIG310", 2)]),
        (b"$0", [("SIG311", 0)]),
        (b"x $P(0)", [("SIG311", 2)]),
        (b"$P(10)", [("SIG311", 0)]),
        (b"$P(-1)", [("SIG311", 0)]),
        (b"$FOO(1)", [("SIG312", 0)]),
        (b"$ABCDEFGHIJKLMNOP(1)", [("SIG312", 0)]),
        (b"$P(1,2)", [("SIG313", 0)]),
        (b'$P("1")', [("SIG313", 0)]),
        (b"$P()", [("SIG313", 0)]),
        (b"$P(x)", [("SIG313", 3)]),
        (b"$P(1", [("SIG313", 0)]),
        (b"$P(1,2,3,4,5,6)", [("SIG313", 0)]),
        (b'$SUBST(1,"a")', [("SIG313", 0)]),
        (b'$SUBST(1,"","x")', [("SIG314", 0)]),
        (b'$I(1,"=")', [("SIG315", 0)]),
        (b'$I(1,"<<")', [("SIG315", 0)]),
        (b"x" * 80, [("SIG316", 0)]),
        (b"x" * 79 + b"$1", [("SIG316", 0)]),
        (b'$SUBST(1,"abc', [("SIG317", 9)]),
        (b'$SUBST(1,"abc,"x")', [("SIG319", 15), ("SIG313", 0)]),  # the string is "abc,"
        (b'$SUBST(1,"' + b"a" * 128 + b'","x")', [("SIG317", 9)]),
        (b'$SUBST(1,"\\a","b")', [("SIG317", 10)]),
        (b'$SUBST(1,"\\q","b")', [("SIG317", 10)]),
        (b"$P(257)", [("SIG318", 0)]),
        (b"$P(1 junk)", [("SIG319", 4)]),
        (b"$P(1,", [("SIG319", 0)]),
        (b"ab\0$0", [("SIG320", 2)]),
        (b"$10", [("SIG321", 0)]),
        (b"$0 $FOO(1)", [("SIG311", 0)]),  # Nmap stops at the first failure, so do we
    ],
)
def test_findings(text: bytes, expected: list[tuple[str, int]]) -> None:
    assert codes(text) == expected


def test_findings_for_each_field_size() -> None:
    assert codes(b"x" * 31, OS) == [] and codes(b"x" * 32, D) == [("SIG316", 0)]
    assert codes(b"x" * 255, INFO) == [] and codes(b"x" * 256, INFO) == [("SIG316", 0)]
    assert codes(b"a:" + b"x" * 72, CPE) == [] and codes(b"a:" + b"x" * 73, CPE) == [("SIG316", 0)]


def test_messages_quote_the_offending_text() -> None:
    (problem,) = parse_template(b"Version $FOO(1)", P)[1]
    assert problem.message == "unknown template command '$FOO(': Nmap knows $P(), $SUBST() and $I(); the field is always empty"
    (problem,) = parse_template(b'$SUBST(1,"","-")', P)[1]
    assert problem.severity is Severity.ERROR
    assert problem.message == "'$SUBST(1,\"\",\"-\")' has an empty find string: Nmap loops forever on a non-empty group"
    (problem,) = parse_template(b"cost $$1", P)[1]
    assert problem.message.startswith("'$$' does not start a variable")


def test_invalid_parts_carry_the_reason_and_always_fail() -> None:
    template, problems = parse_template(b"Version $FOO(1)", P)
    assert template.parts == (Literal(b"Version "), Invalid(problems[0].message))
    assert expand(template, [b"x"], 1) is None


def test_empty_find_fails_at_match_time_unless_the_group_is_empty() -> None:
    template, _ = parse_template(b'v$SUBST(1,"","x")', V)
    assert expand(template, [b""], 1) == b"v"
    assert expand(template, [b"a"], 1) is None


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"a:apache:http_server:$1", []),
        (b"o:linux:linux_kernel:2.6", []),
        (b"h:cisco", []),
        (b"x:foo:bar", [("SIG330", 0)]),
        (b"A:foo", [("SIG330", 0)]),
        (b"$1:foo", [("SIG330", 0)]),
        (b"", [("SIG330", 0)]),
        (b"a:b:c:d:e:f:g", []),
        (b"a:b:c:d:e:f:g:h", [("SIG331", 13)]),
        (b"h:siemens:315-2pn/dp", [("SIG332", 17)]),
        (b"a::product", [("SIG333", 2)]),
        (b"a:", [("SIG333", 2)]),
        (b'a:$SUBST(1,":","-"):x', []),  # a colon inside an argument is no component
    ],
)
def test_cpe_findings(body: bytes, expected: list[tuple[str, int]]) -> None:
    assert [(p.code, p.offset) for p in parse_cpe(body)] == expected
    assert codes(body, CPE) == expected


def test_codes_table() -> None:
    assert all(re.fullmatch(r"SIG3[1-3]\d", code) for code in CODES)
    for text, field in ((b"$0 $10", P), (b'$SUBST(1,"","")', P), (b"x:", CPE)):
        for p in parse_template(text, field)[1]:
            assert CODES[p.code][0] is p.severity


# --- the parsed form agrees with a direct port of Nmap's dotmplsubst ------------------------------

SPACE = b" \t\n\v\f\r"
STRTOL = re.compile(rb"[ \t\n\v\f\r]*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)")


def nmap_args(t: bytes, i: int) -> tuple[list[int | bytes], int] | None:
    """getsubstcommandargs, pointer for pointer (a NUL past the end of ``t``)."""
    def c(k: int) -> int:
        return t[k] if k < len(t) else 0

    args: list[int | bytes] = []
    while c(i) and c(i) != ord(")"):
        while c(i) in SPACE and c(i):
            i += 1
        if c(i) == ord(")"):
            break
        if len(args) == 5:
            return None
        if c(i) == ord('"'):
            raw = bytearray()
            while True:
                i += 1
                if c(i) == ord('"') and (c(i - 1) != ord("\\") or c(i - 2) == ord("\\")):
                    break
                if len(raw) >= 127 or not c(i):
                    return None  # too long, or Nmap reads past the end of the template
                raw.append(c(i))
            value, problems = unescape(bytes(raw), dialect=Dialect.HEAD)
            if any(p.severity is Severity.ERROR for p in problems):
                return None
            args.append(value)
            i += 1
        else:
            m = STRTOL.match(t, i)
            if not m:
                return None
            digits = m.group(2)
            base = 16 if digits[1:2] in (b"x", b"X") else 8 if digits.startswith(b"0") else 10
            args.append((-1 if m.group(1) == b"-" else 1) * int(digits, base))
            i = m.end()
        stops = [k for k in (t.find(b",", i), t.find(b")", i)) if k >= 0]
        if not stops:
            return None
        i = min(stops) + (t[min(stops)] == ord(","))
    return args, i + (c(i) == ord(")"))


def nmap_substvar(t: bytes, i: int, groups: Sequence[bytes | None], ngroups: int) -> tuple[bytes, int] | None:
    i += 1
    if t[i : i + 1].isdigit():
        args: list[int | bytes] = [t[i] - 48]
        command, i = b"", i + 1
    else:
        paren = t.find(b"(", i)
        if paren < 0 or not 0 < paren - i < 16:
            return None
        command = t[i:paren]
        parsed = nmap_args(t, paren + 1)
        if not parsed or not parsed[0]:
            return None
        args, i = parsed
    kinds = "".join("i" if isinstance(a, int) else "s" for a in args)
    wanted = {b"": "i", b"P": "i", b"SUBST": "iss", b"I": "is"}.get(command)
    if kinds != wanted:
        return None
    n = int(args[0]) & 0xFF
    if not 1 <= n <= 9 or n > ngroups or n > len(groups) or groups[n - 1] is None:
        return None
    value = groups[n - 1]
    assert value is not None
    if command == b"P":
        value = bytes(b for b in value if 32 <= b < 127)
    elif command == b"SUBST":
        find, repl = args[1], args[2]
        assert isinstance(find, bytes) and isinstance(repl, bytes)
        out, k = bytearray(), 0
        while k < len(value):
            if not find:
                return None  # Nmap loops forever
            if value[k : k + len(find)] == find:
                out += repl
                k += len(find)
            else:
                out.append(value[k])
                k += 1
        value = bytes(out)
    elif command == b"I":
        if args[1] not in (b"<", b">") or len(value) > 8:
            return None
        value = str(int.from_bytes(value, "big" if args[1] == b">" else "little")).encode()
    return value.split(b"\0")[0], i


def nmap_cpe(value: bytes) -> bytes:
    return b"".join(b"%%%02X" % b if b in b":/?#[]@!$&'()*+,;=%<>\"" else b"_" if b in SPACE else bytes([b]).lower() for b in value)


def nmap_dotmplsubst(tmpl: bytes, field: Field, groups: Sequence[bytes | None], ngroups: int) -> bytes | None:
    t = tmpl.split(b"\0")[0]
    size, dst, i = field.size, b"", 0
    while i < len(t):
        end = t.find(b"$", i)
        if end < 0:
            for byte in t[i:]:
                if len(dst) >= size - 1:
                    return None
                dst += bytes([byte])
            return _finish(dst)
        if size - len(dst) <= end - i - 1:
            return None
        dst += t[i:end]
        got = nmap_substvar(t, end, groups, ngroups)
        if got is None:
            return None
        value = nmap_cpe(got[0]) if field is Field.CPE else got[0]
        if len(dst) + len(value) >= size - 1:
            return None
        dst, i = dst + value, got[1]
    return None if len(dst) >= size - 1 else _finish(dst)


def _finish(value: bytes) -> bytes:
    return bytes(b if 32 <= b < 127 else 46 for b in value.rstrip(SPACE + b","))


TOKENS = [b"$", b"1", b"2", b"0", b"9", b"P", b"SUBST", b"I", b"(", b")", b",", b'"', b"\\", b"\\\\", b" ", b"x", b">",
          b"<", b"_", b"0x", b"257", b"\\x41", b"\\0", b"FOO", b":", b"\t", b"\0", b"-", b"Ab" * 20]
template_texts = st.lists(st.sampled_from(TOKENS), max_size=25).map(b"".join)
captures = st.lists(st.one_of(st.none(), st.lists(st.sampled_from([b"_", b"x", b"\0", b" ", b",", b"A", b"\xe9", b"0x"]), max_size=40).map(b"".join)), max_size=9)


@given(template_texts, captures, st.integers(0, 9), st.sampled_from(list(Field)))
def test_parse_then_expand_equals_nmap_interpreting_the_text(text: bytes, groups: list[bytes | None], ngroups: int, field: Field) -> None:
    template, _ = parse_template(text, field)
    source = b"cpe:/" + text if field is Field.CPE else text
    assert expand(template, groups, ngroups) == nmap_dotmplsubst(source, field, groups, ngroups)


@given(st.binary(max_size=120), st.sampled_from(list(Field)))
def test_parse_template_never_raises_and_its_form_round_trips(text: bytes, field: Field) -> None:
    template, problems = parse_template(text, field)
    assert all(p.code in CODES and 0 <= p.offset <= len(text) for p in problems)
    assert Template.from_data(json.loads(json.dumps(template.to_data()))) == template


@given(template_texts, st.lists(st.one_of(st.none(), st.binary(max_size=100)), max_size=12), st.integers(0, 12))
def test_expand_never_raises(text: bytes, groups: list[bytes | None], ngroups: int) -> None:
    expand(parse_template(text, INFO)[0], groups, ngroups)


# --- every version field of both real databases ---------------------------------------------------

KEYS = {b"p": P, b"v": V, b"i": INFO, b"h": H, b"o": OS, b"d": D, b"cpe:": CPE}
MATCH = re.compile(rb"(?:match|softmatch) \S+ m(.)")


def match_lines(text: bytes) -> Iterator[tuple[int, bytes, list[tuple[Field, bytes]]]]:
    """(line number, pattern, [(field, text)]): a plain splitter, enough for the real files."""
    for number, line in enumerate(text.split(b"\n"), 1):
        head = MATCH.match(line)
        if not head:
            continue
        end = line.index(head.group(1), head.end())
        pattern, pos, fields = line[head.end() : end], end + 1, []
        while pos < len(line) and line[pos] in b"is":
            pos += 1
        while (pos := len(line) - len(line[pos:].lstrip())) < len(line):
            key = b"cpe:" if line.startswith(b"cpe:", pos) else line[pos : pos + 1]
            pos += len(key)
            close = line.index(line[pos : pos + 1], pos + 1)
            fields.append((KEYS[key], line[pos + 1 : close]))
            pos = close + 1
            while line[pos : pos + 1].isalpha():
                pos += 1
        yield number, pattern, fields


# Field occurrences in each file (nmap-semantics §1.9) and the real defects the parse finds.
REAL = {
    "7.93": (35688, {(9461, "p", "SIG316"), (11999, "cpe", "SIG332")}, set()),
    "head": (36392, {(9544, "p", "SIG316")}, {(9265, "i", 8, 2)}),
}


@pytest.mark.parametrize("name", sorted(REAL))
def test_every_field_of_the_real_databases(name: str) -> None:
    count, expected_findings, expected_group_errors = REAL[name]
    seen, findings, group_errors = 0, set(), set()
    for number, pattern, fields in match_lines(real_file(name).read_bytes()):
        ngroups = _groups(pattern)
        for field, text in fields:
            seen += 1
            template, problems = parse_template(text, field)
            findings |= {(number, field.value, p.code) for p in problems}
            if ngroups is not None and template.max_group() > ngroups:
                group_errors.add((number, field.value, template.max_group(), ngroups))
    assert seen == count
    assert findings == expected_findings
    assert group_errors == expected_group_errors


def _groups(pattern: bytes) -> int | None:
    """The group count by Python's ``re``, which compiles every real pattern (None if not)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return re.compile(pattern).groups
        except re.error:
            return None


@pytest.mark.parametrize("name", sorted(REAL))
def test_real_templates_use_every_command(name: str) -> None:
    kinds: collections.Counter[str] = collections.Counter()
    for _, _, fields in match_lines(real_file(name).read_bytes()):
        for field, text in fields:
            kinds.update(type(p).__name__ for p in parse_template(text, field)[0].parts)
    assert {"Literal", "Group", "Printable", "Subst", "Int"} <= set(kinds)
    assert kinds["Invalid"] == 0
