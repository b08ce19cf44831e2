"""The loader: both encodings give the same rows; every unusable file is a BundleError."""

from __future__ import annotations

import gc
import json
import os
import sqlite3
import zlib
from pathlib import Path

import pytest

from sigc.build import build
from sigc.sources import resolve
from sigscan.bundle import codec
from sigscan.bundle.errors import BundleError
from sigscan.bundle.loader import JSON_DIGEST_END, JSON_PREFIX, JsonBundle, open_bundle
from sigscan.bundle.schema import EXCLUDE, MATCHES, PORT_INDEX, SCHEMA_VERSION, SERVICES, TABLES
from tests.helpers import TINY, write


@pytest.fixture
def tiny(tmp_path: Path) -> dict[str, Path]:
    src = write(tmp_path, "tiny.probes", TINY)
    out = {}
    for suffix in ("db", "json"):
        target = tmp_path / f"tiny.{suffix}"
        assert build(resolve([str(src)]), target).ok
        out[suffix] = target
    return out


def test_both_encodings_hold_the_same_rows(tiny: dict[str, Path]) -> None:
    with open_bundle(tiny["db"]) as db, open_bundle(tiny["json"]) as js:
        assert db.encoding == "sqlite" and js.encoding == "json"
        assert db.probes == js.probes
        assert db.sources == js.sources
        assert db.exclude == js.exclude
        for p in db.probes:
            assert db.matches(p.id) == js.matches(p.id)
        assert db.header == js.header


def test_rows_carry_the_model(tiny: dict[str, Path]) -> None:
    with open_bundle(tiny["json"]) as b:
        null, generic, dns = b.probes
        assert null.is_null and null.totalwaitms == 6000 and null.chain == (0,)
        assert generic.chain == (1, 0)  # TCP: itself, then NULL
        assert dns.chain == (2,)  # UDP: no NULL
        assert generic.ports == ((21, 21), (23, 23), (1000, 1002)) and generic.sslports == ((990, 990),)
        assert dns.payload == b"\0\0\x10\0\0\0\0\0\0\0\0\0"
        ftp, soft = b.matches(0)
        assert ftp.service == "ftp" and not ftp.soft and soft.soft
        assert ftp.line == 6 and ftp.groups == 2
        assert b.probe("DNSStatusRequest", "udp") == dns
        assert [(e.protocol, e.start, e.end) for e in b.exclude] == [("T", 9100, 9107)]


def test_key_only_tables_are_stored_without_rowid(tiny: dict[str, Path]) -> None:
    """port_index and services are all key: one B-tree each in SQLite, same rows as JSON."""
    conn = sqlite3.connect(tiny["db"])
    try:
        sql = dict(conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'"))
        for table in TABLES:
            assert sql[table.name].endswith("WITHOUT ROWID") == table.without_rowid, table.name
        assert {t.name for t in TABLES if t.without_rowid} == {"port_index", "services"}
        assert conn.execute("SELECT probe FROM port_index WHERE protocol = 'TCP' AND port = 21").fetchall() == [(1,)]
    finally:
        conn.close()
    with open_bundle(tiny["db"]) as db, open_bundle(tiny["json"]) as js:
        assert db.services() == js.services()


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match="no such bundle; build one with `sigc build`"):
        open_bundle(tmp_path / "nope.db")


@pytest.mark.parametrize("suffix", ["db", "json"])
def test_truncated(tiny: dict[str, Path], suffix: str) -> None:
    path = tiny[suffix]
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(BundleError, match=r"truncated or was modified.*rebuild it with `sigc build`"):
        open_bundle(path)


@pytest.mark.parametrize("suffix", ["db", "json"])
def test_tampered(tiny: dict[str, Path], suffix: str) -> None:
    path = tiny[suffix]
    data = bytearray(path.read_bytes())
    at = data.find(b"Tiny FTP")
    data[at] = ord("X")
    path.write_bytes(bytes(data))
    with pytest.raises(BundleError, match="modified"):
        open_bundle(path)


def test_wrong_schema_version(tiny: dict[str, Path], tmp_path: Path) -> None:
    current = b'"schema_version":%d' % SCHEMA_VERSION
    data = tiny["json"].read_bytes().replace(current, b'"schema_version":99')
    fixed = JSON_PREFIX + b"%08x" % zlib.crc32(data[JSON_DIGEST_END:]) + data[len(JSON_PREFIX) + 8 :]
    path = write(tmp_path, "old.json", fixed)
    with pytest.raises(BundleError, match=f"schema version 99, this sigscan reads version {SCHEMA_VERSION}"):
        open_bundle(path)


def test_not_a_bundle(tmp_path: Path) -> None:
    plain = tmp_path / "plain.db"
    sqlite3.connect(plain).execute("CREATE TABLE t (x)").connection.commit()
    with pytest.raises(BundleError, match="SQLite database but not a sigc bundle"):
        open_bundle(plain)
    with pytest.raises(BundleError, match="not a sigc bundle"):
        open_bundle(write(tmp_path, "x.txt", b"hello"))
    with pytest.raises(BundleError, match="no checksum"):
        open_bundle(write(tmp_path, "x.json", b'{"a": 1}'))


def test_a_json_bundle_of_schema_version_3_asks_for_a_rebuild(tmp_path: Path) -> None:
    """Version 3 began with a SHA-256; its files are recognised and refused with what to do."""
    old = write(tmp_path, "v3.json", b'{"sha256":"' + b"0" * 64 + b'","header":{}}')
    with pytest.raises(BundleError, match=r"older sigc \(schema version 3 or earlier\).*rebuild it with"):
        open_bundle(old)


def test_json_rows_read_by_offset_equal_the_document(tiny: dict[str, Path]) -> None:
    """Every row the loader reads at the offsets of ``segments`` is the row a plain JSON reader
    finds in the document, and both encodings serve the same indexes and lines."""
    document = json.loads(tiny["json"].read_bytes())

    def named(table: str) -> list[dict[str, object]]:  # the document's rows by its own column names
        stored = document["tables"][table]
        return [dict(zip(stored["columns"], row, strict=True)) for row in stored["rows"]]

    matches = named("matches")
    with open_bundle(tiny["json"]) as js, open_bundle(tiny["db"]) as db:
        assert isinstance(js, JsonBundle)
        assert [js._row(MATCHES, k) for k in range(len(matches))] == matches
        assert list(js._table_rows(SERVICES)) == named("services")
        for p in js.probes:
            assert js.probe_index(p.id) == db.probe_index(p.id)
            seqs = range(len(db.matches(p.id)))
            assert js.match_lines(p.id, seqs) == db.match_lines(p.id, seqs)
            for seq in seqs:
                assert js.regex(p.id, seq) == db.regex(p.id, seq) == db.match(p.id, seq).regex
            for bundle in (js, db):
                with pytest.raises(BundleError, match=f"probe {p.id} has no line {len(seqs)}"):
                    bundle.regex(p.id, len(seqs))
        assert js.services() == db.services() and js.rpc() == db.rpc()
        for table in ("matches", "services", "probes"):
            assert js.count(table) == db.count(table)
        assert js.count("matches", "soft") == db.count("matches", "soft")


def test_json_without_segments_asks_for_a_rebuild(tiny: dict[str, Path], tmp_path: Path) -> None:
    """A JSON bundle laid out as version 2 wrote it (no ``segments``), even with this version
    number and a right digest, is refused with what to do."""
    data = tiny["json"].read_bytes()
    body = data[JSON_DIGEST_END : data.rindex(b',"segments":')] + b"}"
    path = write(tmp_path, "v2.json", JSON_PREFIX + b"%08x" % zlib.crc32(body) + b'",' + body)
    with pytest.raises(BundleError, match="has no segment list; rebuild it"):
        open_bundle(path)


def test_json_bundle_closes_its_file(tiny: dict[str, Path]) -> None:
    bundle = open_bundle(tiny["json"])
    assert isinstance(bundle, JsonBundle)
    fd = bundle._fd
    os.fstat(fd)
    bundle.close()
    with pytest.raises(OSError):
        os.fstat(fd)
    bundle.close()  # a second close does nothing


def test_json_header_longer_than_the_first_read(tmp_path: Path) -> None:
    """The header is read 16 KiB first, then more: a long one (big build options) still loads."""
    src = write(tmp_path, "tiny.probes", TINY)
    target = tmp_path / "long.json"
    assert build(resolve([str(src)]), target, {"note": "x" * 100_000}).ok
    with open_bundle(target) as b:
        assert b.header["options"]["note"] == "x" * 100_000
        assert len(b.probes) == 3


def _reseal(data: bytes) -> bytes:
    return JSON_PREFIX + b"%08x" % zlib.crc32(data[JSON_DIGEST_END:]) + data[len(JSON_PREFIX) + 8 :]


def test_a_refused_json_bundle_closes_its_file_once(tiny: dict[str, Path], tmp_path: Path) -> None:
    """A segment list the loader refuses after it opened the file (here: a table missing from
    it) closes the descriptor once. It was closed twice: by the loader, then again when the
    half-made bundle was collected, by then maybe another file's descriptor."""
    data = tiny["json"].read_bytes()
    broken = write(tmp_path, "broken.json", _reseal(data.replace(b'"rpc":[', b'"rpx":[', 1)))
    error: BundleError | None = None
    try:
        open_bundle(broken)
    except BundleError as exc:
        error = exc
    assert error is not None and "has no table rpc" in str(error)
    other = os.open(tiny["db"], os.O_RDONLY)  # takes the number the bundle's file had
    del error
    gc.collect()  # the half-made bundle (kept alive by the error's traceback) goes
    try:
        os.fstat(other)
    except OSError:
        pytest.fail("the refused bundle closed its descriptor a second time (another file's)")
    os.close(other)


def test_rows_are_stored_by_column_name_from_the_table_definition() -> None:
    """A row is given by column name, in any order, and stored in the table's column order
    (booleans as 0/1); a missing or an extra column is refused."""
    row = {"service": "ftp", "end": None, "start": 21, "protocol": "T", "seq": 0}
    assert list(codec.to_stored(EXCLUDE, [row])) == [[0, "T", 21, None, "ftp"]]
    port = {"probe": 2, "ssl": True, "port": 443, "protocol": "TCP"}
    assert list(codec.to_stored(PORT_INDEX, [port])) == [["TCP", 443, 1, 2]]
    assert codec.named(EXCLUDE.column_names, [0, "T", 21, None, "ftp"]) == row
    with pytest.raises(ValueError, match="exclude: columns"):
        list(codec.to_stored(EXCLUDE, [{k: v for k, v in row.items() if k != "end"}]))
    with pytest.raises(KeyError):
        list(codec.to_stored(EXCLUDE, [{**{k: v for k, v in row.items() if k != "end"}, "stop": None}]))
