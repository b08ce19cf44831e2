"""Every value of a bundle edited and resealed (tests.hostile.tamper), in both encodings, then
used the way ``sigscan`` uses a bundle: opened, every probe's index loaded through identifying a
response that makes each line a candidate, one verdict explained, the scan's catalog and port
table made. Each edit must end in a :class:`BundleError` that names the file and says to
rebuild it, or in verdicts; nothing else may escape.

The end-to-end runs (``sigscan identify``, ``sigscan scan``, in a subprocess with a time bound)
are in ``tests/hostile/test_bundles.py``; here the sweep is wide and in-process.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sigscan.bundle.errors import BundleError
from sigscan.bundle.loader import open_bundle
from sigscan.bundle.schema import MATCHES, TABLES, ColumnType
from sigscan.engine import Catalog
from sigscan.matcher import Matcher, UnknownProbe
from sigscan.scanning.ports import ServiceTable
from tests.hostile.tamper import (
    RESPONSES,
    Cell,
    Document,
    Raw,
    Split,
    Sql,
    build_both,
    edit_cells,
    json_bytes,
    line_of,
    reseal_json,
    row_of_line,
    sqlite_edit,
)

REFUSED = "refused"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return build_both(tmp_path_factory.mktemp("tamper"))


@pytest.fixture(scope="module")
def document(built: dict[str, Path]) -> Document:
    return Document.read(built["json"])


def use(path: Path) -> Any:
    """What ``sigscan`` does with a bundle, in-process: the verdicts (by name), or REFUSED."""
    try:
        with open_bundle(path) as bundle:
            matcher = Matcher(bundle)
            verdicts = []
            for response in RESPONSES:
                try:
                    verdicts.append(matcher.identify(response.probe, response.proto, response.data).name)
                except UnknownProbe:  # a probe renamed: the CLI's usage error
                    verdicts.append("unknown probe")
            if bundle.probe("NULL") is not None:
                matcher.explain("NULL", "tcp", RESPONSES[0].data)
            Catalog(bundle, matcher)
            ServiceTable.from_bundle(bundle)
            return verdicts
    except BundleError as exc:
        text = str(exc)
        assert text.startswith(f"{path}: ") and "sigc build" in text, text
        return REFUSED


def test_the_tamper_writer_gives_sigcs_bytes(built: dict[str, Path], document: Document) -> None:
    """The harness's JSON writer lays a document out as sigc does (so its edits are the only
    difference), and an unedited pair of bundles gives every response its expected verdict."""
    assert json_bytes(document) == built["json"].read_bytes()
    expected = [r.service for r in RESPONSES]
    assert use(built["json"]) == use(built["db"]) == expected


# -- every column, wrong values -------------------------------------------------------------------

BAD_TEXT = Split(Raw(b'"\xff\xfe"'), Sql("CAST(x'fffe' AS TEXT)"))  # not UTF-8
SURROGATE = Split(Raw(b'"\\ud800"'), Sql("CAST(x'eda080' AS TEXT)"))  # a lone surrogate
DEEP = Raw(b"[" * 100_000 + b"]" * 100_000)  # deeper than any JSON decoder goes
WRONG: dict[ColumnType, list[Any]] = {
    ColumnType.INT: ["x", -1, 1 << 40, None, 1.5, Split([1], "[1]"), True],
    ColumnType.TEXT: [5, None, BAD_TEXT, SURROGATE, Split(["a"], b"\xff"), ""],
    ColumnType.BYTES: [5, None, "\u0100", SURROGATE, BAD_TEXT, Split(["a"], b"\xff")],
    ColumnType.BOOL: [2, "x", None, Split([1], b"\x01")],
    ColumnType.JSON: ["x", None, 5, {}, [], [[]], {"a": 1}, DEEP, Raw(b"[1,"), BAD_TEXT],
}
# matches rows tried: a cut-head line with templates and CPEs, the line with a literal bound
# (test_every_line_edit edits the others)
MATCH_LINES = (b"match ftp m|^220 ([", b"match http")


def _cells(document: Document) -> list[Cell]:
    cells = []
    for table in TABLES:
        if table.name == "port_index":  # sigscan never reads it
            continue
        if table.name == "matches":
            rows = [row_of_line(document, line_of(marker)) for marker in MATCH_LINES]
        else:
            rows = [0] if document.tables[table.name] else []
        cells += [Cell(table.name, row, column.name) for row in rows for column in table.columns]
    return cells


def _cell_id(cell: Cell) -> str:
    return f"{cell.table}[{cell.row}].{cell.column}"


@pytest.fixture(scope="module")
def cells(document: Document) -> list[Cell]:
    return _cells(document)


@pytest.mark.parametrize("table", [t.name for t in TABLES if t.name != "port_index"])
def test_every_column_given_wrong_values(built: dict[str, Path], document: Document, tmp_path: Path,
                                         cells: list[Cell], table: str) -> None:
    """Each column of each table (four kinds of match line) given values of the wrong type, out
    of range, not UTF-8, not latin-1, nested too deep, malformed: refused or harmless."""
    tried = 0
    for cell in (c for c in cells if c.table == table):
        for k, value in enumerate(WRONG[cell.type]):
            paths = edit_cells(document, built["db"], tmp_path, {cell: value}, f"{_cell_id(cell)}.{k}")
            for path in paths.values():
                use(path)  # refused, or verdicts: anything else escapes and fails the test
                path.unlink()
                tried += 1
    assert tried


# -- values of the right type that say something false --------------------------------------------


def _index_edits(document: Document) -> dict[str, Callable[[dict[str, Any]], Any]]:
    """Edits of the NULL probe's stored index (its ``index`` value)."""
    def put(key: str, value: Any) -> Callable[[dict[str, Any]], Any]:
        return lambda index: {**index, key: value}

    def drop(key: str) -> Callable[[dict[str, Any]], Any]:
        return lambda index: {k: v for k, v in index.items() if k != key}

    return {
        "size too big": lambda index: {**index, "size": 1 << 40},
        "size too small": lambda index: {**index, "size": 1},
        "size negative": lambda index: {**index, "size": -1},
        "position past the lines": put("always", [999]),
        "position negative": put("always", [-1]),
        "position text": put("always", ["0"]),
        "position float": put("token", {"telnet": [8.0]}),
        "several positions past the lines": put("token", {"telnet": [8, 999]}),
        "a single negative position": put("token", {"telnet": [-3]}),
        "an empty head": put("head", {"": [0]}),
        "a head above latin-1": put("head", {"\u0100": [0]}),
        "a first key of two bytes": put("first", {"ab": [0]}),
        "a first key above latin-1": put("first", {"\u0100": [0]}),
        "a bucket without its parts": put("bucket", {"220 ": {}}),
        "a bucket's plain list past the lines": put("bucket", {"220 ": {"plain": [999], "token": {}}}),
        "a bucket's plain list of text": put("bucket", {"220 ": {"plain": "0", "token": {}}}),
        "a list for a map": put("head", [0, 1]),
        "a map for a list": put("always", {"0": 1}),
        "no head": drop("head"),
        "no first": drop("first"),
        "text for the index": lambda index: "index",
        "null for the index": lambda index: None,
        "every line dropped": lambda index: {**index, "head": {}, "bucket": {}, "ihead": {}, "token": {},
                                             "first": {}, "always": []},
    }


def test_every_probe_index_edit(built: dict[str, Path], document: Document, tmp_path: Path) -> None:
    """The NULL probe's stored prefilter index edited: positions out of range or of the wrong
    type, keys the lookup cannot use, a size that lies, parts missing."""
    column = Cell("probe_index", 0, "index")
    original = document.tables["probe_index"][0][1]
    outcomes = {}
    for name, edit in _index_edits(document).items():
        paths = edit_cells(document, built["db"], tmp_path, {column: edit(original)}, name.replace(" ", "-"))
        outcomes[name] = {encoding: use(path) for encoding, path in paths.items()}
    # a line never a candidate, a first byte no response has: a tampered verdict, in time
    harmless = {"every line dropped", "a first key above latin-1"}
    for name, found in outcomes.items():
        assert found["json"] == found["db"], name
        assert (found["json"] != REFUSED) == (name in harmless), (name, found)


def _probe_edits() -> dict[str, tuple[str, Any]]:
    return {
        "a chain naming a probe it does not have": ("chain", [1, 99]),
        "a chain naming a probe twice": ("chain", [1, 0, 1, 0]),
        "an empty chain": ("chain", []),
        "a chain naming a negative probe": ("chain", [1, -1]),
        "ports backwards": ("ports", [[1002, 1000]]),
        "ports past 65535": ("ports", [[1, 70000]]),
        "a port of one number": ("ports", [[21]]),
        "rarity 0": ("rarity", 0),
        "rarity 10": ("rarity", 10),
        "totalwaitms of days": ("totalwaitms", 10**9),
        "tcpwrappedms 0": ("tcpwrappedms", 0),
        "protocol SCTP": ("protocol", "SCTP"),
        "options of a number": ("options", [5]),
        "directives of pairs": ("directives", [["rarity", "1"]]),
    }


def test_every_probe_edit(built: dict[str, Path], document: Document, tmp_path: Path) -> None:
    """GenericLines' row (probe 1) edited to what sigc never writes: a fallback chain naming a
    missing probe or repeating one (a chain is walked for every response: a repeat would redo
    the work), ports backwards or out of range, a rarity or wait outside Nmap's range (a wait of
    days would hold the scan)."""
    for name, (column, value) in _probe_edits().items():
        paths = edit_cells(document, built["db"], tmp_path, {Cell("probes", 1, column): value},
                           name.replace(" ", "-"))
        for encoding, path in paths.items():
            assert use(path) == REFUSED, (name, encoding)


def test_a_fallback_names_are_kept_as_written(built: dict[str, Path], document: Document, tmp_path: Path) -> None:
    """``fallback`` is the probe's directive as written (for ``sigc dump``); the runtime walks
    ``chain``. A cycle of names there changes nothing."""
    paths = edit_cells(document, built["db"], tmp_path, {Cell("probes", 2, "fallback"): ["Help", "Help"]}, "names")
    expected = [r.service for r in RESPONSES]
    assert use(paths["json"]) == use(paths["db"]) == expected


def _line_edits() -> dict[str, tuple[bytes, dict[str, Any], bool]]:
    """(line marker, column -> value, harmless: the verdicts stay right or only that line's change)."""
    return {
        "a template naming group 9 of a one-group line": (
            b"match ftp m|^220 ProFTPD", {"templates": {"p": ["p", "ProFTPD"], "v": ["v", 9], "cpe": []}}, True),
        "a template part of an unknown kind": (
            b"match ftp m|^220 ProFTPD", {"templates": {"v": ["v", ["X", 1]], "cpe": []}}, False),
        "a template of an unknown field": (
            b"match ftp m|^220 ProFTPD", {"templates": {"v": ["zz", 1], "cpe": []}}, False),
        "a CPE list of one template": (b"match ftp m|^220 ProFTPD", {"templates": {"cpe": ["cpe", "a:x"]}}, False),
        "groups that lie": (b"match ftp m|^220 ProFTPD", {"groups": 0}, True),
        # a pattern with no bound (it does not even compile) under a stored one: refused ...
        "a pattern that does not compile": (b"match telnet", {"regex": "Welcome to (\\w+"}, False),
        "garbage for a pattern": (b"match telnet", {"regex": "\x00\x01\xff(?"}, False),
        # ... and without one: searched with the budget, does not compile, counts as no match
        "a pattern that does not compile, no bound": (
            b"match telnet", {"regex": "Welcome to (\\w+", "cost_degree": None, "cost_constant": None}, True),
        "no pattern": (b"match telnet", {"regex": None}, False),
        "a cut head past the prefix": (b"match ssh", {"head_length": 40}, False),
        "a rest past the pattern": (b"match ssh", {"rest_offset": 4000}, False),
        "a rest cut inside a class": (b"match ssh", {"rest_offset": 7}, False),  # not a pattern, no bound
        "a negative line number": (b"match ssh", {"line": -5}, False),
        "a bound of degree 10**9": (b"match ssh", {"cost_degree": 10**9}, False),
        "a bound of constant 0": (b"match ssh", {"cost_constant": 0}, False),
        "half a bound": (b"match ssh", {"cost_constant": None}, False),
        "a literal bound of the wrong shape": (b"match http", {"cost_literals": [1, 2]}, False),
        "a literal of a number": (b"match http", {"cost_literals": [1, 96, [[5, 1]]]}, False),
        "a weight of 0": (b"match http", {"cost_literals": [1, 96, [["Server: tamper", 0]]]}, False),
        "a service of no name": (b"match ssh", {"service": ""}, True),
        "a soft flag on a hard line": (b"match ssh", {"soft": 1}, True),
        "a required literal it lacks": (b"match ssh", {"required": ["never there"]}, True),
        "a min_length above any response": (b"match ssh", {"min_length": 1 << 40}, True),
        "a seq of another line": (b"match ssh", {"seq": 0}, False),
        "a probe of another probe": (b"match ssh", {"probe": 1}, False),
    }


def test_every_line_edit(built: dict[str, Path], document: Document, tmp_path: Path) -> None:
    """Lines whose stored facts say something false. Refused where the runtime relies on them
    for anything but the verdict (ranges, shapes, which row is which line); where they only
    change a verdict (a required literal, a pattern that no longer compiles, which counts as
    no match), the other lines' verdicts are the untouched bundle's."""
    expected = [r.service for r in RESPONSES]
    for name, (marker, values, harmless) in _line_edits().items():
        row = row_of_line(document, line_of(marker))
        edits = {Cell("matches", row, column): value for column, value in values.items()}
        paths = edit_cells(document, built["db"], tmp_path, edits, name.replace(" ", "-"))
        for encoding, path in paths.items():
            found = use(path)
            if not harmless:
                assert found == REFUSED, (name, encoding, found)
                continue
            assert found != REFUSED, (name, encoding)
            service = marker.split()[1].decode()
            changed = [i for i, (got, want) in enumerate(zip(found, expected, strict=True)) if got != want]
            assert all(expected[i] == service or found[i] == service or expected[i] is None for i in changed), \
                (name, encoding, found)


# -- the JSON layout: segments --------------------------------------------------------------------


def _segment_edits() -> dict[str, Callable[[dict[str, Any]], Any]]:
    def table(name: str, span: Any) -> Callable[[dict[str, Any]], Any]:
        return lambda s: {**s, "tables": {**s["tables"], name: span}}

    def rows(name: str, change: Callable[[list[int]], Any]) -> Callable[[dict[str, Any]], Any]:
        return lambda s: {**s, "rows": {**s["rows"], name: change(s["rows"][name])}}

    return {
        "a table past the end": table("matches", [100, 1 << 40]),
        "a table before the start": table("probes", [-50, 10]),
        "a table backwards": table("sources", [500, 100]),
        "a table of text": table("sources", ["a", "b"]),
        "a table of three numbers": table("rpc", [1, 2, 3]),
        "a table missing": lambda s: {**s, "tables": {k: v for k, v in s["tables"].items() if k != "rpc"}},
        "rows shifted by one": rows("matches", lambda r: [x + 1 for x in r]),
        "rows shifted by a row": rows("matches", lambda r: [r[0], *r[2:], r[-1] + 5]),
        "rows one short": rows("matches", lambda r: r[:-1]),
        "rows out of order": rows("matches", lambda r: [r[1], r[0], *r[2:]]),
        "rows past the end": rows("probe_index", lambda r: [*r[:-1], 1 << 40]),
        "rows negative": rows("probe_index", lambda r: [-r[0], *r[1:]]),
        "rows of text": rows("matches", lambda r: [str(x) for x in r]),
        "rows of huge numbers": lambda s: json.dumps({**s, "rows": {**s["rows"], "matches": [1 << 70]}}).encode(),
        "first_match short": lambda s: {**s, "first_match": s["first_match"][:-1]},
        "first_match backwards": lambda s: {**s, "first_match": s["first_match"][::-1]},
        "first_match not from 0": lambda s: {**s, "first_match": [1, *s["first_match"][1:]]},
        "a count that lies": lambda s: {**s, "counts": {**s["counts"], "matches": 3}},
        "a count negative": lambda s: {**s, "counts": {**s["counts"], "probes": -1}},
        "no counts": lambda s: {k: v for k, v in s.items() if k != "counts"},
        "a list for the segments": lambda s: [s],
        "garbage for the segments": lambda s: b'{"tables":[[[[',
        "deep segments": lambda s: b"[" * 100_000 + b"]" * 100_000,
    }


def test_every_segment_edit(built: dict[str, Path], document: Document, tmp_path: Path) -> None:
    """The offsets that say where a JSON bundle's rows are (its ``segments``), edited and the
    file resealed: outside the file, outside their table, out of order, of the wrong type."""
    for name, edit in _segment_edits().items():
        path = tmp_path / f"{name.replace(' ', '-')}.json"
        path.write_bytes(json_bytes(document, edit))
        assert use(path) == REFUSED, name


def test_header_edits(built: dict[str, Path], document: Document, tmp_path: Path) -> None:
    header = document.header
    for name, value in {
        "a schema version of text": {**header, "schema_version": "5"},
        "no format": {k: v for k, v in header.items() if k != "format"},
        "a list": [header],
        "deep": Raw(b'{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}"),
    }.items():
        path = tmp_path / f"{name.replace(' ', '-')}.json"
        path.write_bytes(json_bytes(Document(value, document.tables, document.first_match)))  # type: ignore[arg-type]
        assert use(path) == REFUSED, name
        db = sqlite_edit(built["db"], tmp_path / f"{name.replace(' ', '-')}.db", (
            'UPDATE "meta" SET "value" = ? WHERE "key" = ?',
            (value.text.decode() if isinstance(value, Raw) else json.dumps(value), "header")))
        assert use(db) == REFUSED, name


# -- SQLite: the database itself ------------------------------------------------------------------


SQL_EDITS: dict[str, tuple[str, ...]] = {
    "a table dropped": ('DROP TABLE "rpc"',),
    "a column dropped": ('ALTER TABLE "exclude" DROP COLUMN "service"',),
    "a column added": ('ALTER TABLE "sources" ADD COLUMN "extra" TEXT',),
    "a table renamed": ('ALTER TABLE "probes" RENAME TO "probes_old"',),
    "a view in a table's place": (
        'DROP TABLE "matches_fts"', 'ALTER TABLE "matches" RENAME TO "m"',
        'CREATE VIEW "matches" AS WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) '
        'SELECT m.* FROM m, n'),
    "a trigger": ('CREATE TRIGGER t AFTER INSERT ON "rpc" BEGIN SELECT 1; END',),
    "a line's row deleted": ('DELETE FROM "matches" WHERE "probe" = 0 AND "seq" = 5',),
    "a line's seq moved": ('UPDATE "matches" SET "seq" = 99 WHERE "probe" = 0 AND "seq" = 5',),
    "a line duplicated": ('INSERT INTO "matches" SELECT "id" + 1000, '
                          + ", ".join(f'"{c}"' for c in MATCHES.column_names[1:])
                          + ' FROM "matches" WHERE "probe" = 0 AND "seq" = 5',),
    "a probe's index deleted": ('DELETE FROM "probe_index" WHERE "probe" = 0',),
    "a probe deleted": ('DELETE FROM "probes" WHERE "id" = 1',),
    "the header deleted": ('DELETE FROM "meta"',),
    "the header not JSON": ("UPDATE \"meta\" SET \"value\" = '{not json'",),
    "the header a number": ('UPDATE "meta" SET "value" = 5',),
}
HARMLESS_SQL: set[str] = set()


@pytest.mark.parametrize("name", sorted(SQL_EDITS))
def test_sqlite_edits(built: dict[str, Path], tmp_path: Path, name: str) -> None:
    """The SQLite file edited with SQL and resealed: tables or columns missing or added, a view
    (here one without end) or a trigger where sigc writes none, rows missing or moved."""
    path = sqlite_edit(built["db"], tmp_path / "edited.db", *((sql, ()) for sql in SQL_EDITS[name]))
    found = use(path)
    if name in HARMLESS_SQL:
        assert found == [r.service for r in RESPONSES]
    else:
        assert found == REFUSED


# -- not resealed: the checksum's part ------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["json", "db"])
def test_random_byte_flips_are_caught_by_the_checksum(built: dict[str, Path], tmp_path: Path, encoding: str) -> None:
    """Any byte changed, not resealed: the CRC-32 catches every one (one byte flipped changes a
    CRC-32 always)."""
    data = built[encoding].read_bytes()
    rng = random.Random(12)
    path = tmp_path / f"flipped.{encoding}"
    for _ in range(60):
        at = rng.randrange(len(data))
        path.write_bytes(data[:at] + bytes([data[at] ^ (1 << rng.randrange(8))]) + data[at + 1:])
        assert use(path) == REFUSED, at


def test_truncation_at_every_segment_boundary(built: dict[str, Path], document: Document, tmp_path: Path) -> None:
    """A JSON bundle cut where a table or a row begins or ends, and each cut file also resealed
    (the CRC made right for what is left): refused either way."""
    data = built["json"].read_bytes()
    segments = json.loads(data)["segments"]
    cuts = {offset for span in segments["tables"].values() for offset in span}
    cuts |= {offset for starts in segments["rows"].values() for offset in starts}
    cuts |= {len(data) - 1, len(data) - 2, 1, 10, 21}
    path = tmp_path / "cut.json"
    for cut in sorted(cuts):
        for text in (data[:cut], reseal_json(data[:cut])):
            path.write_bytes(text)
            assert use(path) == REFUSED, cut


def test_sqlite_truncation_at_every_page(built: dict[str, Path], tmp_path: Path) -> None:
    """A SQLite bundle cut at every page boundary, resealed or not: refused."""
    from tests.hostile.tamper import reseal_sqlite

    data = built["db"].read_bytes()
    page = int.from_bytes(data[16:18], "big")
    path = tmp_path / "cut.db"
    for cut in range(0, len(data), page):
        for reseal in (False, True):
            path.write_bytes(data[:cut] if cut else data[:50])
            if reseal:
                reseal_sqlite(path)
            assert use(path) == REFUSED, cut


def test_duplicate_keys(built: dict[str, Path], document: Document, tmp_path: Path) -> None:
    """JSON objects with a key twice (the last one counts, in both encodings): an index whose
    second ``size`` miscounts is refused; templates whose second ``p`` names another product
    give that product."""
    index = document.tables["probe_index"][0][1]
    members = json.dumps(index, sort_keys=True)[1:-1]  # the object's text without its braces
    twice = Raw(f'{{"size":{index["size"]},{members}}}'.encode())  # the same size twice
    wrong = Raw(f'{{{members},"size":{index["size"] + 1}}}'.encode())  # the last one miscounts
    for name, value, refused in (("index-twice", twice, False), ("index-wrong", wrong, True)):
        paths = edit_cells(document, built["db"], tmp_path, {Cell("probe_index", 0, "index"): value}, name)
        for encoding, path in paths.items():
            assert (use(path) == REFUSED) == refused, (name, encoding)
    row = row_of_line(document, line_of(b"match ssh"))
    templates = Raw(b'{"cpe":[],"p":["p","OpenSSH"],"p":["p","Other"],"v":["v",2]}')
    paths = edit_cells(document, built["db"], tmp_path, {Cell("matches", row, "templates"): templates}, "templates")
    for path in paths.values():
        with open_bundle(path) as bundle:
            assert Matcher(bundle).identify("NULL", "tcp", b"SSH-2.0-OpenSSH_9.2p1\r\n").product == "Other"
