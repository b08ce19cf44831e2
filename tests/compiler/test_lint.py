"""``sigc lint``: every rule on a crafted snippet and a close variant that must stay quiet, one run
reporting every finding in order, the text/JSON/SARIF reports, exit codes and code selection,
real defects of the two real Nmap databases, and docs/diagnostics.md.

Line and column are asserted exactly: they are what an editor or a code-scanning service jumps
to. Columns count bytes from 1.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from sigc import codes, lint, report
from sigc.analyze import Compiled, Database, analyze
from sigc.build import compile_inputs, paused_gc
from sigc.cli import main
from sigc.diagnostics import Diagnostic, Location, Severity
from sigc.sources import resolve
from sigc.syntax.parser import parse_bytes
from tests.conftest import REAL_FILES, ROOT, real_file

NULL = b"Probe TCP NULL q||\n"


def database(*files: tuple[str, bytes]) -> Database:
    return analyze([parse_bytes(data, path) for path, data in files])


def findings(text: bytes, path: str = "t.probes") -> list[Diagnostic]:
    return lint.all_findings(database((path, text)))


def places(found: Sequence[Diagnostic], code: str) -> list[tuple[int, int, Severity]]:
    return [(d.location.line, d.location.col, d.severity) for d in found if d.code == code]


# ---------------------------------------------------------------------------------------------
# One rule at a time


@dataclasses.dataclass(frozen=True)
class Case:
    code: str
    severity: Severity
    text: bytes  # triggers the rule
    at: tuple[tuple[int, int], ...]  # (line, column) of each finding of the rule
    clean: bytes  # a close variant the rule must accept

    def __str__(self) -> str:
        return self.code


def _probe(name: str, extra: bytes = b"rarity 1\nports 1\n", proto: bytes = b"TCP") -> bytes:
    return b"Probe " + proto + b" " + name.encode() + b" q|" + name.encode() + b"|\n" + extra


# SIG501/SIG502 check sigc's own translations, which are right for every input sigc accepts;
# their cases corrupt the translation of line 2 (see test_rule).
CASES = [
    Case("SIG501", Severity.ERROR, NULL + rb"match a m|^a(b)| p/$1/" + b"\n", ((2, 11),),
         NULL + rb"match a m|^a(b)| p/$1/" + b"\n"),
    Case("SIG502", Severity.ERROR, NULL + rb"match a m|^a(b)| p/$1/" + b"\n", ((2, 11),),
         NULL + rb"match a m|^a(b)| p/$1/" + b"\n"),
    Case("SIG503", Severity.WARNING, NULL + rb"match a m|^a(\w+\s?)+x| p/$1/" + b"\n", ((2, 13),),
         NULL + rb"match a m|^a([^\r\n]+\r\n)*x| p/$1/" + b"\n"),
    Case("SIG504", Severity.WARNING, NULL + rb"match b m|^\0\x01.x|" + b"\n", ((2, 18),),
         NULL + rb"match b m|^\0\x01.x|s" + b"\n"),
    Case("SIG505", Severity.INFO, NULL + b"match c m|abc|\n", ((2, 11),), NULL + b"match c m|^abc|\n"),
    Case("SIG510", Severity.WARNING, NULL + rb"match d m|^a(\d+)| p/D/ v/$2/" + b"\n", ((2, 25),),
         NULL + rb"match d m|^a(\d+)| p/D/ v/$1/" + b"\n"),
    Case("SIG511", Severity.INFO, NULL + rb"match d m|^a(\d+)(x)| p/$1/" + b"\n", ((2, 18),),
         NULL + rb"match d m|^a(\d+)(?:x)| p/$1/" + b"\n"),
    Case("SIG512", Severity.ERROR, NULL + rb"match e m|^e(a)?(b)| p/$1 $2/" + b"\n", ((2, 22),),
         NULL + rb"match e m|^e(a)(b)?| p/$1 $2/" + b"\n"),
    Case("SIG513", Severity.WARNING, NULL + b"match f m|^f| p/a/ p/b/\n", ((2, 20),),
         NULL + b"match f m|^f| p/a/ v/b/\n"),
    Case("SIG514", Severity.INFO, NULL + b"match g m|^g| cpe:/a:x:y/ cpe:/a:z:w/\n", ((2, 27),),
         NULL + b"match g m|^g| cpe:/a:x:y/ cpe:/o:z:w/\n"),
    Case("SIG515", Severity.INFO, NULL + b"match h m|^h| cpe:/a:x/\n", ((2, 15),),
         NULL + b"match h m|^h| cpe:/a:x:y/\n"),
    Case("SIG520", Severity.WARNING, NULL + b"match i m|^i| p/i/\nmatch i m|^i| p/i2/\n", ((3, 11),),
         NULL + b"match i m|^i| p/i/\nmatch i m|^i|i p/i2/\n"),
    Case("SIG521", Severity.WARNING, NULL + b"match j m|^jk| p/j/\n" + rb"match j m|^jkl(\d)| p/$1/" + b"\n",
         ((3, 11),), NULL + rb"match j m|^jkl(\d)| p/$1/" + b"\nmatch j m|^jk| p/j/\n"),
    Case("SIG522", Severity.WARNING, NULL + b"softmatch ssl/http m|^k|\nmatch ssl/ m|^kk|\n", ((2, 11), (3, 7)),
         NULL + b"match ssl/http m|^k|\nsoftmatch http m|^kk|\n"),
    Case("SIG530", Severity.WARNING,
         NULL + _probe("Dns", b"rarity 1\nports 53\n", b"UDP") + _probe("DnsTcp", b"rarity 1\nports 53\nfallback Dns\n"),
         ((8, 10),),
         NULL + _probe("Dns", b"rarity 1\nports 53\n", b"UDP") + _probe("Dns", b"rarity 1\nports 53\n")
         + _probe("DnsTcp", b"rarity 1\nports 53\nfallback Dns\n")),
    Case("SIG531", Severity.WARNING, NULL + _probe("Self", b"rarity 1\nports 1\nfallback Self\n"), ((5, 10),),
         NULL + _probe("Other") + _probe("Self", b"rarity 1\nports 1\nfallback Other\n")),
    Case("SIG532", Severity.INFO, NULL + _probe("Other") + _probe("Fb", b"rarity 1\nports 1\nfallback Other,Other,NULL\n"),
         ((8, 16), (8, 22)), NULL + _probe("Other") + _probe("Fb", b"rarity 1\nports 1\nfallback Other\n")),
    Case("SIG533", Severity.WARNING, NULL + b"fallback Other\n" + _probe("Other"), ((2, 1),),
         NULL + _probe("Other", b"rarity 1\nports 1\nfallback NULL\n")),
    Case("SIG540", Severity.INFO, NULL + _probe("Tls", b"rarity 1\nsslports 443\n"), ((4, 1),),
         NULL + _probe("Tls", b"rarity 1\nports 80\nsslports 443\n")),
    Case("SIG541", Severity.WARNING, NULL + _probe("Zero", b"rarity 1\nports 80\nsslports 0,443\n"), ((5, 10),),
         NULL + _probe("Zero", b"rarity 1\nports 80\nsslports 443\n")),
    Case("SIG542", Severity.INFO, NULL + _probe("Twice", b"rarity 1\nports 80,79-81\nports 81\n"), ((4, 10), (5, 7)),
         NULL + _probe("Twice", b"rarity 1\nports 79,81-82\nports 83\n")),
    Case("SIG543", Severity.WARNING, NULL + _probe("NoRarity", b"ports 1\n"), ((2, 1),),
         NULL + _probe("NoRarity", b"ports 1\nrarity 5\n")),
    Case("SIG544", Severity.WARNING, NULL + _probe("Nothing", b""), ((2, 1),),
         NULL + _probe("Nothing", b"rarity 9\n")),
    Case("SIG545", Severity.INFO, NULL + _probe("Wrapped", b"rarity 1\nports 1\ntcpwrappedms 3000\n"), ((5, 1),),
         NULL + b"tcpwrappedms 3000\n" + _probe("Wrapped")),
    Case("SIG546", Severity.WARNING, NULL + _probe("GetRequest") + _probe("getrequest"), ((5, 11),),
         NULL + _probe("GetRequest") + _probe("getrequest2")),
]


def _corrupt(db: Database, code: str) -> Database:
    """Line 2's translation replaced by one that does not compile (SIG501) or that has a group
    more than the pattern (SIG502): what a translator bug would produce."""
    bad = b"^a(b" if code == "SIG501" else b"^a(b)(c)"
    matches = tuple(dataclasses.replace(m, pattern=dataclasses.replace(m.pattern, translated=bad))
                    if m.match.location.line == 2 else m for m in db.matches)
    return dataclasses.replace(db, matches=matches)


def test_every_rule_has_a_case() -> None:
    assert [*sorted(c.code for c in CASES), "SIG547"] == sorted(lint.CODES)  # SIG547: two files, below


@pytest.mark.parametrize("case", CASES, ids=str)
def test_rule(case: Case) -> None:
    db = database(("t.probes", case.text))
    if case.code in ("SIG501", "SIG502"):
        db = _corrupt(db, case.code)
    found = lint.all_findings(db)
    assert places(found, case.code) == [(line, col, case.severity) for line, col in case.at], \
        [str(d) for d in found]
    quiet = findings(case.clean)
    assert places(quiet, case.code) == [], [str(d) for d in quiet]
    assert lint.CODES[case.code][0] is case.severity  # the default the docs list


def test_translations_compiled_by_lint_when_the_analysis_did_not() -> None:
    """SIG501/SIG502 on a database analysed for a build (no line carries its compiled
    translation): lint compiles each distinct translation itself, once a run."""
    text = NULL + b"".join(b"match m%d m|^m%d(x)| p/$1/\n" % (i, i) for i in range(6))
    db = database(("t.probes", text))
    bad = {4: b"^m3(x", 7: b"^m6(x)(y)"}  # line 4: does not compile; line 7: a group more
    db = dataclasses.replace(db, matches=tuple(
        dataclasses.replace(m, pattern=dataclasses.replace(m.pattern, translated=bad[m.match.location.line]))
        if m.match.location.line in bad else m for m in db.matches))
    assert all(m.compiled is None for m in db.matches)
    assert [(d.code, d.location.line) for d in lint.lint(db, select=["SIG50"])] == [("SIG501", 4), ("SIG502", 7)]


# ---------------------------------------------------------------------------------------------
# Runs share nothing


TREE_RULES = NULL + (rb"match a m|^a(\w+\s?)+x| p/$1/" + b"\n" + rb"match b m|^\0\x01.x(y)|" + b"\n"
                     + rb"match e m|^e(a)?(b)| p/$1 $2/" + b"\nmatch j m|^jk| p/j/\n" + rb"match j m|^jkl(\d)| p/$1/" + b"\n")


def test_a_run_finds_the_same_whatever_ran_before() -> None:
    """Each :func:`lint.lint` has a :class:`lint.LintRun` of its own: the rules that read a
    line's tree (SIG503, SIG504, SIG511, SIG512, SIG521) and the compiled translations (SIG501,
    SIG502) give a file the same findings after a run on another file, and the same file twice
    in a row the same findings."""
    clean = database(("clean.probes", TREE_RULES))
    broken = _corrupt(database(("broken.probes", TREE_RULES)), "SIG501")
    alone = lint.lint(clean)
    assert {d.code for d in alone} >= {"SIG503", "SIG504", "SIG511", "SIG512", "SIG521"}
    assert [d.code for d in lint.lint(broken) if d.code == "SIG501"] == ["SIG501"]
    assert lint.lint(clean) == alone
    assert lint.lint(clean) == alone
    other = database(("other.probes", TREE_RULES.replace(b"x(y)|", b"x(y)| p/$1/")))  # line 3 reads its group
    assert places(lint.lint(other), "SIG511") == [(line, col, sev) for line, col, sev in places(alone, "SIG511") if line != 3]
    assert lint.lint(clean) == alone


def test_two_runs_at_once_keep_their_own_state() -> None:
    """Two runs alive at once (another thread, a library caller) do not see each other's
    compiled translations or trees."""
    clean = database(("clean.probes", TREE_RULES))
    broken = _corrupt(database(("broken.probes", TREE_RULES)), "SIG501")
    ours, theirs = lint.LintRun(clean), lint.LintRun(broken)
    line, corrupted = clean.matches[0], broken.matches[0]
    assert line.match.pattern == corrupted.match.pattern and line.compiled is None is corrupted.compiled
    assert (theirs.compiled(corrupted) or Compiled(None, None)).error is not None
    assert ours.compiled(line) == Compiled(None, 1)
    tree = ours.tree(line)
    assert theirs.tree(corrupted) == tree and theirs.tree(corrupted) is not tree
    placed = ours.tree(line, positions=True)
    assert placed != tree and ours.tree(line) is placed  # a tree with positions serves every rule


def test_lint_keeps_no_state_between_runs() -> None:
    """No module of sigc.lint holds a mutable value or a cache at module level (the rule
    table ``CODES`` excepted): what a run needs lives in its LintRun."""
    import importlib
    import pkgutil
    package = importlib.import_module("sigc.lint")
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"sigc.lint.{info.name}")
        for name, value in vars(module).items():
            if name.startswith("__") or name == "CODES":
                continue
            assert not isinstance(value, dict | list | set | bytearray), f"{module.__name__}.{name}"
            assert not hasattr(value, "cache_info"), f"{module.__name__}.{name} is a cache"


# SIG504 reads the pattern's tree with positions (sigc.lint.patterns): (pattern, where the
# reported dot is in it and the escape the message quotes, or None). Where the scanner of
# pattern text it replaced said otherwise, the comment gives what it said.
DOTS_ON_BINARY = [
    (rb"^\0\x01.x", (7, r"\0")),
    (rb"^\x00.", (5, r"\x00")),
    (rb"^\x1B..", (5, r"\x1B")),  # as written
    (rb"^.\x7f", (1, r"\x7f")),  # the dot may come first
    (rb"^\0.*x.+", None),  # .* and .+ stand for runs of text
    (rb"^\0.*?x.++", None),
    (rb"^\0.{0,}x.{1,}", None),  # the same repeats (the scanner: reported the first)
    (rb"^\0.?", (3, r"\0")),
    (rb"^\0.{2}", (3, r"\0")),
    (rb"^\0.{2,}", (3, r"\0")),
    (rb"^\0(?:a.)+", (7, r"\0")),  # a dot in a repeated group stands for one byte
    (rb"^\0\.x", None),  # an escaped dot
    (rb"^\0[.]x", None),  # a dot in a class
    (rb"^\0[^.]x", None),
    (rb"^\0[[:alpha:].]x", None),
    (rb"^\0\Q.\E.*", None),  # a quoted dot (the scanner: reported it)
    (rb"^\0(?#.).*", None),  # a dot in a comment (the scanner: reported it)
    (rb"^\Q\x01\E.", None),  # a quoted escape spells nothing (the scanner: reported it)
    (rb"^[\x01-\x05].", (12, r"\x01")),  # an escape in a class
    (rb"^..\x90[\x01\x81]\0", (1, r"\x01")),  # the first one written, in a class or not
    (rb"^[^\0-\x08].", (11, r"\0")),  # the start of a range
    (rb"^\\x01.", None),  # an escaped backslash, then x01
    (rb"^\t\r\n\x0a\x09.", None),  # TAB, CR, LF are text
    (rb"^\e\a\f\cA.", None),  # bytes named by letter: terminal control in text banners
    (rb"^\x20\x7e.", None),  # printable
    (rb"^\001.", (5, r"\001")),  # octal, as written (the scanner: quoted \0)
    (rb"^\012.", None),  # octal for LF (the scanner: reported it as \0)
    (rb"^\x1.", (4, r"\x1")),  # one hex digit (the scanner: missed it)
    (rb"^\x{1f}.", (7, r"\x{1f}")),  # braced (the scanner: missed it)
    (rb"^a(b)\20.", (8, r"\20")),  # octal, there being no group 20 (the scanner: missed it)
]


@pytest.mark.parametrize(("pattern", "expected"), DOTS_ON_BINARY, ids=[p.decode("latin-1") for p, _ in DOTS_ON_BINARY])
def test_dot_on_binary_reads_the_tree(pattern: bytes, expected: tuple[int, str] | None) -> None:
    found = [d for d in findings(NULL + b"match b m|" + pattern + b"|\n") if d.code == "SIG504"]
    if expected is None:
        assert found == []
        return
    (d,) = found
    offset, escape = expected
    assert (d.location.line, d.location.col) == (2, 11 + offset)
    assert f"(it spells {escape})" in d.message
    assert places(findings(NULL + b"match b m|" + pattern + b"|s\n"), "SIG504") == []  # with s, the dot takes LF


def test_file_that_adds_nothing() -> None:
    base = ("base.probes", NULL + b"match a m|^a|\n")
    found = lint.all_findings(database(base, ("empty.probes", b""), ("comments.probes", b"# nothing\n# here\n")))
    assert [(str(d.location), d.code, d.severity) for d in found if d.code == "SIG547"] == [
        ("empty.probes:1:1", "SIG547", Severity.WARNING),
        ("comments.probes:1:1", "SIG547", Severity.WARNING),
    ]
    extension = ("ext.probes", b"# our lines for the NULL probe\n" + NULL + b"match b m|^b|\n")
    assert places(lint.all_findings(database(base, extension)), "SIG547") == []
    broken = ("broken.probes", b"Probe TCP\n")  # its own error says enough
    assert places(lint.all_findings(database(base, broken)), "SIG547") == []


def test_each_fallback_name_reported_once() -> None:
    text = NULL + _probe("Dns", b"rarity 1\nports 53\n", b"UDP") + _probe("T", b"rarity 1\nports 53\nfallback Dns,Dns\n")
    found = findings(text)
    assert [(d.code, d.location.col) for d in found if d.code in ("SIG530", "SIG532")] == [("SIG530", 10), ("SIG532", 14)]
    udp = NULL + _probe("U", b"rarity 1\nports 1\nfallback NULL,NULL\n", b"UDP")
    assert [d.location.col for d in findings(udp) if d.code == "SIG534"] == [10]


def test_a_udp_fallback_to_null_stops_the_build_as_it_stops_nmap() -> None:
    """SIG534 comes from the analysis (it was a lint rule): build refuses the file, as Nmap does."""
    udp = database(("t.probes", NULL + _probe("Udp", b"rarity 1\nports 1\nfallback NULL\n", b"UDP")))
    assert [(d.code, d.location.line, d.location.col, d.severity) for d in udp.errors] == [
        ("SIG534", 5, 10, Severity.ERROR)]
    tcp = database(("t.probes", NULL + _probe("Tcp", b"rarity 1\nports 1\nfallback NULL\n")))
    assert tcp.errors == () and tcp.probes[1].chain == (1, 0, 0)


def test_a_udp_fallback_to_null_is_reported_beside_an_unknown_one() -> None:
    text = NULL + _probe("U", b"rarity 1\nports 1\nfallback Missing,NULL\n", b"UDP")
    assert [(d.code, d.location.line, d.location.col) for d in findings(text) if d.severity is Severity.ERROR] == [
        ("SIG401", 5, 1), ("SIG534", 5, 18)]


# ---------------------------------------------------------------------------------------------
# One run, every finding, in order

SEVERAL = (
    b"# several defects, one run\n"
    b"Probe TCP NULL q||\n"
    b"match a m|^(abc| p/x/\n"  # 3: PCRE refuses
    b"match b m|^b(\\d)| p/$2/\n"  # 4: group 2 missing, group 1 unused
    b"rarity 0\n"  # 5: out of range
    b"match c m|c| p/$SUBST(1,\"\",\"x\")/\n"  # 6: not anchored, loops forever, no group
    b"Probe TCP Dup q|d|\n"  # 7: no rarity
    b"ports 0\n"  # 8: port 0
    b"Probe TCP Dup q|e|\n"  # 9: duplicate
    b"frobnicate\n"  # 10: unknown directive
)
SEVERAL_EXPECTED = [
    (3, 12, "SIG201"), (4, 13, "SIG511"), (4, 19, "SIG510"), (5, 8, "SIG111"), (6, 11, "SIG505"),
    (6, 14, "SIG510"), (6, 16, "SIG314"), (7, 1, "SIG543"), (8, 7, "SIG541"), (9, 1, "SIG404"), (10, 1, "SIG102"),
]


def test_one_run_reports_every_finding_sorted() -> None:
    found = findings(SEVERAL)
    assert [(d.location.line, d.location.col, d.code) for d in found] == SEVERAL_EXPECTED


def test_findings_of_several_files_keep_the_order_of_the_files() -> None:
    found = lint.all_findings(database(("b.probes", SEVERAL), ("a.probes", b"Probe TCP X q|x|\nrarity 0\n")))
    paths = [d.location.path for d in found]
    assert paths == sorted(paths, key=["b.probes", "a.probes"].index)
    assert [(d.location.line, d.code) for d in found if d.location.path == "a.probes"] == [(1, "SIG544"), (2, "SIG111")]


def test_sort_findings_drops_exact_repeats() -> None:
    d = Diagnostic("SIG505", Severity.INFO, "x", Location("p", 2, 3))
    e = Diagnostic("SIG102", Severity.ERROR, "y", Location("p", 1, 9))
    assert lint.sort_findings([d, e, d]) == [e, d]


def test_select_and_ignore_in_the_library() -> None:
    db = database(("t.probes", SEVERAL))
    assert {d.code for d in lint.all_findings(db, select=["SIG51"])} == {"SIG510", "SIG511"}
    assert {d.code for d in lint.lint(db)} == {"SIG505", "SIG510", "SIG511", "SIG541", "SIG543"}  # rules only
    left = {d.code for d in lint.all_findings(db, ignore=["SIG5", "SIG1"])}
    assert left == {"SIG201", "SIG314", "SIG404"}


# ---------------------------------------------------------------------------------------------
# Reports, through the command line


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def several(tmp_path: Path) -> Path:
    path = tmp_path / "several.probes"
    path.write_bytes(SEVERAL)
    return path


HEADER = re.compile(r"^(?P<path>.+):(?P<line>\d+):(?P<col>\d+): (?P<code>SIG\d{3}) (?P<severity>error|warning|info): (?P<message>.+)$")


def headers(text: str) -> Iterator[re.Match[str]]:
    for line in text.splitlines():
        found = HEADER.match(line)
        if found:
            yield found


def test_text_report(several: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "lint", str(several))
    assert code == 1 and err == ""
    lines = out.splitlines()
    assert [(int(h["line"]), int(h["col"]), h["code"]) for h in headers(out)] == SEVERAL_EXPECTED
    assert all(h["path"] == str(several) for h in headers(out))
    source = SEVERAL.decode().split("\n")
    for i, line in enumerate(lines):  # each header, then the source line, then a caret under the column
        found = HEADER.match(line)
        if found:
            shown, caret = lines[i + 1], lines[i + 2]
            assert shown == "  " + source[int(found["line"]) - 1]
            assert caret == " " * (1 + int(found["col"])) + "^"
    assert lines[-1] == "5 errors, 4 warnings, 2 info"


def test_text_excerpt_keeps_the_caret_under_its_byte() -> None:
    assert report.excerpt(b"\tab\x01c\r", 4) == ("      ab\\x01c", "        ^")  # a tab shows as 4 spaces
    assert report.excerpt(b"\tab\x01c\r", 5) == ("      ab\\x01c", "            ^")  # \x01 as 4 characters
    assert report.excerpt(b"rarity\xa01 caf\xe9", 8) == ("  rarity\\xa01 caf\xe9", "            ^")
    long = b"x" * 300 + b"HERE" + b"y" * 300
    shown, caret = report.excerpt(long, 301)
    assert shown.startswith("  …") and shown.endswith("…") and len(shown) < 130
    assert shown[caret.index("^"):].startswith("HERE")


def test_json_report(several: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "lint", "--format", "json", str(several))
    rows = json.loads(out)
    assert code == 1
    assert [(r["line"], r["col"], r["code"]) for r in rows] == SEVERAL_EXPECTED
    assert all(set(r) == {"path", "line", "col", "code", "severity", "message"} for r in rows)
    expected = findings(SEVERAL, str(several))
    assert rows == [{"path": d.location.path, "line": d.location.line, "col": d.location.col, "code": d.code,
                     "severity": d.severity.value, "message": d.message} for d in expected]


# Property names SARIF 2.1.0 defines for the objects sigc writes (the schema forbids others).
SARIF_KEYS = {
    "log": {"$schema", "version", "runs", "inlineExternalProperties", "properties"},
    "run": {"tool", "invocations", "conversion", "language", "versionControlProvenance", "originalUriBaseIds",
            "artifacts", "logicalLocations", "graphs", "results", "automationDetails", "runAggregates",
            "baselineGuid", "redactionTokens", "defaultEncoding", "defaultSourceLanguage", "newlineSequences",
            "columnKind", "externalPropertyFileReferences", "threadFlowLocations", "taxonomies", "addresses",
            "translations", "policies", "webRequests", "webResponses", "specialLocations", "properties"},
    "driver": {"name", "version", "semanticVersion", "rules", "guid", "product", "productSuite", "dottedQuadFileVersion",
               "releaseDateUtc", "downloadUri", "organization", "shortDescription", "fullDescription", "fullName",
               "informationUri", "notifications", "taxa", "locations", "language", "contents", "isComprehensive",
               "localizedDataSemanticVersion", "minimumRequiredLocalizedDataSemanticVersion",
               "associatedComponent", "translationMetadata", "supportedTaxonomies", "globalMessageStrings",
               "properties"},
    "rule": {"id", "deprecatedIds", "guid", "deprecatedGuids", "name", "deprecatedNames", "shortDescription",
             "fullDescription", "messageStrings", "defaultConfiguration", "helpUri", "help", "relationships",
             "properties"},
    "result": {"ruleId", "ruleIndex", "rule", "kind", "level", "message", "analysisTarget", "locations", "guid",
               "correlationGuid", "occurrenceCount", "partialFingerprints", "fingerprints", "stacks", "codeFlows",
               "graphs", "graphTraversals", "relatedLocations", "suppressions", "baselineState", "rank",
               "attachments", "hostedViewerUri", "workItemUris", "provenance", "fixes", "taxa",
               "webRequest", "webResponse", "properties"},
    "region": {"startLine", "startColumn", "endLine", "endColumn", "charOffset", "charLength", "byteOffset",
               "byteLength", "snippet", "message", "sourceLanguage", "properties"},
}
SARIF_LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def test_sarif_report(several: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Checked by hand against SARIF 2.1.0 (the schema is not available offline here)."""
    code, out, _ = run(capsys, "lint", "--format", "sarif", str(several))
    log = json.loads(out)
    assert code == 1
    assert set(log) <= SARIF_KEYS["log"] and log["version"] == "2.1.0"
    assert log["$schema"] == "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
    (run_,) = log["runs"]
    assert set(run_) <= SARIF_KEYS["run"] and run_["columnKind"] in ("utf16CodeUnits", "unicodeCodePoints")
    driver = run_["tool"]["driver"]
    assert set(run_["tool"]) == {"driver"} and set(driver) <= SARIF_KEYS["driver"] and driver["name"] == "sigc"
    rules = driver["rules"]
    ids = [r["id"] for r in rules]
    assert ids == sorted(set(ids)) and set(ids) == set(codes.all_codes())
    for r in rules:
        assert set(r) <= SARIF_KEYS["rule"] and r["shortDescription"]["text"]
        assert r["defaultConfiguration"]["level"] == SARIF_LEVELS[codes.all_codes()[r["id"]][0]]
    expected = findings(SEVERAL, str(several))
    assert len(run_["results"]) == len(expected)
    for result, d in zip(run_["results"], expected, strict=True):
        assert set(result) <= SARIF_KEYS["result"]
        assert result["ruleId"] == d.code and rules[result["ruleIndex"]]["id"] == d.code
        assert result["level"] == SARIF_LEVELS[d.severity] and result["message"] == {"text": d.message}
        (location,) = result["locations"]
        physical = location["physicalLocation"]
        assert physical["artifactLocation"] == {"uri": "file://" + str(several)}
        assert set(physical["region"]) <= SARIF_KEYS["region"]
        assert physical["region"] == {"startLine": d.location.line, "startColumn": d.location.col}


def test_sarif_uris() -> None:
    assert report.artifact_uri("/tmp/a b.probes") == "file:///tmp/a%20b.probes"
    assert report.artifact_uri("signatures/x#1.probes") == "signatures/x%231.probes"
    assert report.artifact_uri("C:\\nmap\\nmap-service-probes") == "file:///C:/nmap/nmap-service-probes"
    assert report.artifact_uri("\\\\host\\share\\a b") == "file://host/share/a%20b"
    assert report.artifact_uri("c:x.probes") == "c%3Ax.probes"  # relative to drive c: (not a scheme)
    empty = json.loads(report.render_sarif([]))
    assert empty["runs"][0]["results"] == [] and empty["runs"][0]["tool"]["driver"]["rules"]


# ---------------------------------------------------------------------------------------------
# Exit codes and code selection


def write(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


CLEAN = NULL + b"match ftp m|^220 ([\\w.]+) FTP| p/FTP/ h/$1/\n" + _probe("Req")
WARNS = NULL + b"match ftp m|^220 (\\w+)| p/FTP/ p/$1/\n"  # SIG513 only
INFOS = NULL + b"match ftp m|220| p/FTP/\n"  # SIG505 only


def test_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clean, warns, infos = (write(tmp_path, n, d) for n, d in (("c.probes", CLEAN), ("w.probes", WARNS), ("i.probes", INFOS)))
    bad = write(tmp_path, "bad.probes", SEVERAL)
    assert run(capsys, "lint", clean)[:2] == (0, "0 errors, 0 warnings, 0 info\n")
    assert run(capsys, "lint", "--strict", clean)[0] == 0
    assert run(capsys, "lint", warns)[0] == 0
    assert run(capsys, "lint", "--strict", warns)[0] == 1
    assert run(capsys, "lint", "--strict", infos)[0] == 0
    assert run(capsys, "lint", bad)[0] == 1
    assert run(capsys, "lint", clean, bad)[0] == 1


@pytest.mark.parametrize("argv", [
    ["lint"],
    ["lint", "{tmp}/missing.probes"],
    ["lint", "{tmp}/none"],  # a folder with neither nmap-service-probes nor *.probes
    ["lint", "{tmp}/empty.probes"],
    ["lint", "{tmp}/comments.probes"],
    ["lint", "--select", "SIG9", "{tmp}/c.probes"],
    ["lint", "--ignore", "XYZ", "{tmp}/c.probes"],
    ["lint", "--select", ",", "{tmp}/c.probes"],
], ids=["no-source", "missing", "folder", "empty", "comments", "select-unknown", "ignore-unknown", "select-empty"])
def test_unusable_input_exits_2(argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, "c.probes", CLEAN)
    (tmp_path / "none").mkdir()
    write(tmp_path, "empty.probes", b"")
    write(tmp_path, "comments.probes", b"# no probes\n")
    code, out, err = run(capsys, *[a.format(tmp=tmp_path) for a in argv])
    assert code == 2 and out == ""
    assert err.startswith("sigc: error: ") and err.count("\n") == 1


def test_lint_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A folder without nmap-service-probes stands for its *.probes files, in name order; with
    one, for that file alone (as for build)."""
    write(tmp_path, "b.probes", SEVERAL)
    write(tmp_path, "a.probes", b"Probe TCP X q|x|\nrarity 0\n")
    write(tmp_path, "notes.txt", b"not a probe file")
    code, out, _ = run(capsys, "lint", "--format", "json", str(tmp_path))
    assert code == 1
    assert [Path(r["path"]).name for r in json.loads(out)][:2] == ["a.probes", "a.probes"]
    assert {Path(r["path"]).name for r in json.loads(out)} == {"a.probes", "b.probes"}
    write(tmp_path, "nmap-service-probes", CLEAN)
    assert run(capsys, "lint", "--format", "json", str(tmp_path))[:2] == (0, "[]\n")


def test_select_and_ignore(several: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def codes_of(*options: str) -> tuple[int, list[str]]:
        code, out, _ = run(capsys, "lint", "--format", "json", *options, str(several))
        return code, [r["code"] for r in json.loads(out)]

    assert codes_of("--select", "SIG51") == (0, ["SIG511", "SIG510", "SIG510"])
    assert codes_of("--select", "sig510, SIG111") == (1, ["SIG510", "SIG111", "SIG510"])
    assert codes_of("--ignore", "SIG1,SIG2,SIG3,SIG4") == (0, ["SIG511", "SIG510", "SIG505", "SIG510", "SIG543", "SIG541"])
    assert codes_of("--select", "SIG5", "--ignore", "SIG51") == (0, ["SIG505", "SIG543", "SIG541"])
    assert codes_of("--select", "SIG5", "--strict") == (1, ["SIG511", "SIG510", "SIG505", "SIG510", "SIG543", "SIG541"])


# ---------------------------------------------------------------------------------------------
# The real databases: real defects found, no error Nmap would not itself refuse


@dataclasses.dataclass(frozen=True)
class Real:
    name: str
    path: Path
    db: Database
    found: list[Diagnostic]


@pytest.fixture(scope="module", params=sorted(REAL_FILES))
def real(request: pytest.FixtureRequest) -> Real:
    """Parse, analysis and lint findings of a real file, once. SIG501/SIG502 (compile every
    translation with regex, ~7 s a file) are left out here: test_pcre_real compiles every real
    translation and compares group counts with PCRE2 already."""
    path = real_file(request.param)
    with paused_gc():
        db, _ = compile_inputs(resolve([str(path)]))
        found = lint.all_findings(db, ignore=["SIG501", "SIG502"])
    return Real(request.param, path, db, found)


# (code, line, what the line says), verified by reading the files.
REAL_DEFECTS = {
    "7.93": [
        ("SIG520", 6590, "match http m|^HTTP/1\\.1 200 OK\\r\\nServer: Agranat-EmWeb/R"),  # = line 6584
        ("SIG520", 15494, "match stomp m|^ERROR\\ncontent-type:text/plain\\nmessage:Unknown STOMP"),  # = 15487
        ("SIG521", 1877, "match irc m|^NOTICE AUTH :\\*\\*\\* Checking Ident\\r\\nNOTICE AUTH"),  # after 1857
        ("SIG521", 11063, "match magent m|^Agent Ready\\.\\.\\.\\r\\nGET / HTTP/1\\.0"),  # after 11062
        ("SIG530", 12621, "fallback DNSVersionBindReq"),  # of TCP DNSVersionBindReqTCP: a UDP probe
        ("SIG530", 12822, "fallback DNSStatusRequest"),
        ("SIG503", 11064, "match magent m|^Agent Ready v([\\w._]+)+\\.\\.\\."),
        ("SIG316", 9461, "match http m|^HTTP/1\\.1 404 Not Found\\r\\nConnection: close"),  # 107-byte p/
        ("SIG121", 11999, "match http m|^HTTP/1\\.0 405 Method Not Allowed"),  # cpe:|h:siemens:315-2pn/dp|
        ("SIG332", 11999, "match http m|^HTTP/1\\.0 405 Method Not Allowed"),
    ],
    "head": [
        ("SIG510", 9265, "match http m|^HTTP/1\\.0 200 OK\\r\\nContent-type: text/html"),  # $3-$8 of 2 groups
        ("SIG520", 6671, "match http m|^HTTP/1\\.1 200 OK\\r\\nServer: Agranat-EmWeb/R"),  # = 6665
        ("SIG520", 14420, "match postgresql m|^E\\0\\0\\0.S[^\\0]+\\0(?:VFATAL\\0)?C0A000\\0MProtocole"),  # = 14419
        ("SIG521", 11272, "match magent m|^Agent Ready\\.\\.\\.\\r\\nGET / HTTP/1\\.0"),
        ("SIG530", 12877, "fallback DNSVersionBindReq"),
        ("SIG530", 13085, "fallback DNSStatusRequest"),
        ("SIG530", 15957, "fallback DNS-SD"),  # of TCP DNS-SD-TCP
    ],
}


def test_real_defects_are_found(real: Real) -> None:
    lines = real.path.read_bytes().split(b"\n")
    reported = {(d.code, d.location.line) for d in real.found}
    for code, line, text in REAL_DEFECTS[real.name]:
        assert lines[line - 1].decode("latin-1").startswith(text), (line, text)
        assert (code, line) in reported, (code, line)


def test_real_duplicates_are_exact(real: Real) -> None:
    """Each SIG520 names an earlier line with the same pattern and flags, in the same probe."""
    where = {m.match.location.line: (m.probe, m.match) for m in real.db.matches}
    duplicates = [d for d in real.found if d.code == "SIG520"]
    assert duplicates
    for d in duplicates:
        earlier = int(re.search(r"same pattern as line (\d+)", d.message).group(1))  # type: ignore[union-attr]
        (probe, later), (probe0, first) = where[d.location.line], where[earlier]
        assert probe == probe0 and earlier < d.location.line
        assert (later.pattern, set(later.flags)) == (first.pattern, set(first.flags))
        assert d.location.col == later.pattern_location.col


def test_real_files_have_no_errors(real: Real) -> None:
    """Nmap loads both files, so nothing in them may be an error (see sigc.lint on severities)."""
    found = real.found
    assert [str(d) for d in found if d.severity is Severity.ERROR] == []
    assert found == lint.sort_findings(found)
    assert {d.code for d in found} <= set(codes.all_codes())


# ---------------------------------------------------------------------------------------------
# docs/diagnostics.md

DOC = ROOT / "docs" / "diagnostics.md"


def test_diagnostics_doc_is_current() -> None:
    assert DOC.read_text(encoding="utf-8") == codes.markdown(), \
        "docs/diagnostics.md is stale: regenerate it with `sigc lint --list-codes > docs/diagnostics.md`"


def test_list_codes(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "lint", "--list-codes")
    assert code == 0 and out == codes.markdown()
    codes_table = out.split("\n## ")[0]  # the refusal tables come after it
    rows = [line for line in codes_table.splitlines() if line.startswith("| SIG")]
    assert [row.split(" | ")[0][2:] for row in rows] == list(codes.all_codes())
    assert all(code in out for code in lint.CODES)
