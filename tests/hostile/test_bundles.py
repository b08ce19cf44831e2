"""Hostile bundles: files that are not bundles, bundles cut or flipped, and bundles edited then
resealed (their CRC-32 made right again, see :mod:`tests.hostile.tamper`), met by
``sigscan identify`` and ``sigscan scan``.

Each run must end in time with exactly one line on stderr, ``sigscan: error: <path>: <what is
wrong>; <what to do>``, and exit status 2, or, where the edit changes nothing the runtime relies
on, with the verdict an untouched bundle gives. Never a traceback, never a hang.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import stat
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree

import pytest

from sigscan.bundle.schema import MATCHES
from tests.hostile.support import Outcome, run_bounded, unprivileged
from tests.hostile.tamper import (
    RESPONSES,
    Cell,
    Document,
    build_both,
    edit_cells,
    json_bytes,
    jsonl,
    line_of,
    row_of_line,
    sqlite_edit,
)
from tests.scan.servers import ServerThread, Stats, server_thread

BOUND = 30.0  # seconds: a hang detector, not a speed goal
BANNER = b"SSH-2.0-OpenSSH_9.2p1\r\n"  # the NULL probe's ssh line names it


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The tamper probe file built in both encodings: {"json": path, "db": path}."""
    return build_both(tmp_path_factory.mktemp("tamper"))


@pytest.fixture(scope="module")
def document(small: dict[str, Path]) -> Document:
    return Document.read(small["json"])


def identify(bundle: Path | str, *, codes: tuple[int, ...] = (2,)) -> Outcome:
    """``sigscan identify --jsonl`` of a response for every line of the probe file."""
    return run_bounded("sigscan", "identify", "--bundle", str(bundle), "--jsonl", "-",
                       stdin=jsonl(), timeout=BOUND, codes=codes, unchanged=_files(bundle))


def _files(bundle: Path | str) -> list[Path]:
    path = Path(bundle)
    return [path] if path.is_file() else []


def refused(outcome: Outcome, path: Path | str, *words: str) -> str:
    """The one error line, checked: it names the file, says what is wrong and what to do."""
    line = outcome.err.strip()
    assert line.startswith(f"sigscan: error: {path}: "), line
    for word in words:
        assert word in line, line
    assert "sigc build" in line, line  # what to do
    return line


# -- item 10: a path that is not a bundle file --------------------------------------------------


def _directory(tmp: Path) -> Path:
    return tmp


def _dev_null(tmp: Path) -> Path:
    return Path("/dev/null")


def _fifo(tmp: Path) -> Path:
    path = tmp / "pipe.db"
    os.mkfifo(path)
    return path


def _empty(tmp: Path) -> Path:
    path = tmp / "empty.db"
    path.write_bytes(b"")
    return path


def _symlink_loop(tmp: Path) -> Path:
    path = tmp / "loop.db"
    path.symlink_to(path)
    return path


def _dangling(tmp: Path) -> Path:
    path = tmp / "dangling.db"
    path.symlink_to(tmp / "gone.db")
    return path


def _missing(tmp: Path) -> Path:
    return tmp / "missing.db"


NOT_BUNDLE_FILES = {
    "directory": (_directory, ("is a directory, not a bundle file",)),
    "dev-null": (_dev_null, ("is a character device, not a bundle file",)),
    "fifo": (_fifo, ("is a named pipe (FIFO), not a bundle file",)),
    "empty": (_empty, ("is empty",)),
    "symlink-loop": (_symlink_loop, ("cannot be read", "symbolic links")),
    "dangling": (_dangling, ("is a symbolic link to a missing file",)),
    "missing": (_missing, ("no such bundle",)),
}


@pytest.mark.parametrize("kind", sorted(NOT_BUNDLE_FILES))
def test_a_path_that_is_not_a_bundle_file_is_named_for_what_it_is(tmp_path: Path, kind: str) -> None:
    """``--bundle`` naming a folder, /dev/null, a FIFO (which must not block the open), an
    empty file, a path that cannot be opened: each its own message, not "no such bundle"."""
    make, words = NOT_BUNDLE_FILES[kind]
    path = make(tmp_path)
    for outcome in (identify(path), run_bounded("sigscan", "scan", "127.0.0.1", "-p", "9",
                                                "--bundle", str(path), timeout=BOUND, codes=(2,))):
        line = refused(outcome, path, *words)
        if kind != "missing":
            assert "no such bundle" not in line


def _socket(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "sock.db"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(path))
        yield path


def test_a_socket_is_not_a_bundle_file(tmp_path: Path) -> None:
    for path in _socket(tmp_path):
        assert stat.S_ISSOCK(path.lstat().st_mode)
        refused(identify(path), path, "is a socket")


def test_an_unreadable_bundle_says_so(small: dict[str, Path], tmp_path: Path) -> None:
    """A bundle the user may not read. Root reads any file: the run gives up the capabilities
    that let it, so that the file's mode applies to it too."""
    copy = tmp_path / "locked.db"
    copy.write_bytes(small["db"].read_bytes())
    copy.chmod(0)
    outcome = run_bounded("sigscan", "identify", "--bundle", str(copy), "--probe", "NULL", "-",
                          stdin=BANNER, timeout=BOUND, codes=(2,), under=unprivileged())
    refused(outcome, copy, "cannot be read", "Permission denied", "permissions")


def test_a_file_too_big_to_be_a_bundle_is_not_read(tmp_path: Path) -> None:
    """A sparse file of 2 GiB: refused from its size, before the CRC would read it all."""
    path = tmp_path / "huge.db"
    with open(path, "wb") as f:
        f.truncate(2 << 30)
    outcome = run_bounded("sigscan", "identify", "--bundle", str(path), "--probe", "NULL", "-",
                          stdin=BANNER, timeout=BOUND, codes=(2,))  # not hashed as unchanged: 2 GiB
    refused(outcome, path, "more than any bundle")


def test_a_file_of_another_kind_is_not_a_bundle(tmp_path: Path) -> None:
    for name, data in (("gzip.db", b"\x1f\x8b\x08\x00" + bytes(200)), ("text.json", b"{not json at all"),
                       ("elf.db", b"\x7fELF" + bytes(200))):
        path = tmp_path / name
        path.write_bytes(data)
        refused(identify(path), path, "not a sigc")


@pytest.mark.parametrize("encoding", ["json", "db"])
def test_a_cut_or_flipped_bundle_is_refused_by_its_checksum(small: dict[str, Path], tmp_path: Path,
                                                            encoding: str) -> None:
    """Not resealed: a bundle cut in half, or with one bit flipped in its middle (the CRC-32
    catches both; tests/runtime/test_bundle_tamper.py cuts at every segment and page)."""
    data = small[encoding].read_bytes()
    middle = len(data) // 2
    for name, text in (("cut", data[:middle]), ("flipped", data[:middle] + bytes([data[middle] ^ 4]) + data[middle + 1:])):
        path = tmp_path / f"{name}.{encoding}"
        path.write_bytes(text)
        refused(identify(path), path, "CRC-32 mismatch" if name == "flipped" else "truncated")


# -- item 12: bundles edited and resealed ---------------------------------------------------------


def _catastrophic(length: int = 40) -> bytes:
    """A subject on which ^(a|aa)+$ backtracks through Fibonacci(length) ways: minutes at 40."""
    return b"a" * length + b"b"


@pytest.fixture(scope="module")
def servers() -> Iterator[ServerThread]:
    with server_thread() as threads:
        yield threads


def banner_server(servers: ServerThread, banner: bytes) -> int:
    """A loopback server that sends ``banner`` and keeps the connection until the client ends it."""
    async def send(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, stats: Stats) -> None:
        writer.write(banner)
        await writer.drain()
        while await reader.read(4096):
            pass

    port, _ = servers.serve(send)
    return port


def scan_banner(bundle: Path, port: int, *more: str, codes: tuple[int, ...] = (2,)) -> Outcome:
    """``sigscan scan`` of one loopback port at intensity 0 (the port is in no probe's list:
    only NULL runs), NDJSON on stdout."""
    return run_bounded("sigscan", "scan", "127.0.0.1", "-p", str(port), "--intensity", "0",
                       "--bundle", str(bundle), "-oJ", "-", *more, timeout=BOUND, codes=codes, unchanged=[bundle])


def identify_one(bundle: Path, data: bytes, *, probe: str = "NULL", codes: tuple[int, ...] = (2,)) -> Outcome:
    return run_bounded("sigscan", "identify", "--bundle", str(bundle), "--probe", probe, "-",
                       stdin=data, timeout=BOUND, codes=codes, unchanged=[bundle])


def line_cell(document: Document, marker: bytes, column: str) -> Cell:
    """The ``column`` of the match line of :data:`PROBES` whose text holds ``marker``."""
    return Cell("matches", row_of_line(document, line_of(marker)), column)


@pytest.mark.parametrize("encoding", ["json", "db"])
def test_a_stored_cost_bound_that_lies_is_refused_not_trusted(
        small: dict[str, Path], document: Document, tmp_path: Path, servers: ServerThread, encoding: str) -> None:
    """``^(a|aa)+$`` has no backtracking bound (sigc stores null): a bundle that says it has a
    small one would let its search on ``aaa…ab`` run on ``re`` without a time budget, for
    minutes. The matcher computes the bound again before it relies on the stored one."""
    bundle = edit_cells(document, small["db"], tmp_path, {
        line_cell(document, b"match slow", "cost_degree"): 1,
        line_cell(document, b"match slow", "cost_constant"): 4,
    }, "cost")[encoding]
    slow = line_of(b"match slow")
    xml = tmp_path / "scan.xml"
    for outcome in (identify_one(bundle, _catastrophic()),
                    scan_banner(bundle, banner_server(servers, _catastrophic()), "-oX", str(xml))):
        refused(outcome, bundle, f"line {slow} (slow) claims a backtracking bound", "modified")
    # the scan met it mid-way: its XML file is closed, saying why it ended
    run = ElementTree.parse(xml).getroot().find("runstats/finished")
    assert run is not None and run.get("exit") == "error" and "bundle cannot be used" in run.get("errormsg", "")


@pytest.mark.parametrize("encoding", ["json", "db"])
def test_a_pattern_swapped_under_its_stored_bound_is_refused(
        small: dict[str, Path], document: Document, tmp_path: Path, servers: ServerThread, encoding: str) -> None:
    """The ssh line's pattern replaced by a catastrophic one, its bound (and cut head) kept: a
    banner that passes the line's stored prefilter (it has ``-OpenSSH_`` and CRLF) then meets
    ``(a|aa)+$`` after the cut head."""
    bundle = edit_cells(document, small["db"], tmp_path, {
        line_cell(document, b"match ssh", "regex"): "^SSH-(a|aa)+$",
    }, "regex")[encoding]
    subject = b"SSH-" + _catastrophic() + b"-OpenSSH_\r\n"
    for outcome in (identify_one(bundle, subject), scan_banner(bundle, banner_server(servers, subject))):
        refused(outcome, bundle, "(ssh) claims a backtracking bound")


@pytest.mark.parametrize("encoding", ["json", "db"])
def test_a_pattern_outside_sigcs_syntax_gets_no_bound(
        small: dict[str, Path], document: Document, tmp_path: Path, encoding: str) -> None:
    """``\\012`` is one byte to ``re`` (octal: a newline) but two atoms to a scanner reading
    sigc's syntax, which never writes octal: ``^(?:\\012*\\n)*x`` would look bounded to it while
    it backtracks through every split of a run of newlines. A text outside that syntax has no
    bound, so claiming one is refused. (The mark line is a candidate for every response that
    holds its literal.)"""
    bundle = edit_cells(document, small["db"], tmp_path, {
        line_cell(document, b"match mark", "regex"): "(?:\\012*\\n)*x",
    }, "octal")[encoding]
    refused(identify_one(bundle, b"\n" * 40 + b"\x7f~}"), bundle, "(mark) claims a backtracking bound")


@pytest.mark.parametrize("encoding", ["json", "db"])
def test_a_stored_literal_bound_that_lies_is_refused(
        small: dict[str, Path], document: Document, tmp_path: Path, encoding: str) -> None:
    """The http line's literal-counting bound (which spares the budget on a page too long for
    its plain bound) replaced by one that counts nothing: the search would run without a
    budget however often its literals occur."""
    bundle = edit_cells(document, small["db"], tmp_path, {
        line_cell(document, b"match http", "cost_literals"): [0, 1, []],
    }, "literals")[encoding]
    page = b"HTTP/1.1 200 OK\r\n" + b"Server: tamper " * 1000 + b"<title>Tamper test</title>"
    refused(identify_one(bundle, page), bundle, "(http) claims a backtracking bound (cost_literals)")


@pytest.mark.parametrize("encoding", ["json", "db"])
def test_an_anchored_line_is_matched_at_the_start_only(
        small: dict[str, Path], document: Document, tmp_path: Path, encoding: str) -> None:
    """The runtime charges an anchored line's search one start (its stored bound, and the check
    of it, count so): it matches such a line at offset 0, so that a line marked anchored is
    one, whatever its pattern. Here the telnet line (unanchored, prefix ``Welcome to ``) is
    marked anchored with no prefix: it no longer matches mid-banner, and that is all the edit
    can do; searched, it would have started at every offset."""
    bundle = edit_cells(document, small["db"], tmp_path, {
        line_cell(document, b"match telnet", "anchored"): 1,
        line_cell(document, b"match telnet", "prefix"): "",
    }, "anchored")[encoding]
    banner = b"Hi. Welcome to BSD telnet service\r\n"
    assert json.loads(identify_one(small[encoding], banner, codes=(0,)).out)["name"] == "telnet"
    assert json.loads(identify_one(bundle, banner, codes=(0,)).out)["name"] is None


# -- one edit of each kind, end to end --------------------------------------------------------------

REFUSED, RIGHT = "refused", "right"
# (table, row marker or row number, column, value, what identify over every response gives,
# what the scan of the ssh banner gives: it reads every probe, the services, rpc and Exclude
# tables, the NULL probe's index, and the NULL lines an ssh banner makes candidates)
EDITS: dict[str, tuple[str, bytes | int, str, object, str, str]] = {
    "a line's service null": ("matches", b"match ssh", "service", None, REFUSED, REFUSED),
    "a line's number negative": ("matches", b"match ftp m|^220 ProFTPD", "line", -1, REFUSED, RIGHT),
    "a line's templates malformed": ("matches", b"match ssh", "templates", {"v": ["v", ["X"]]}, REFUSED, REFUSED),
    "a line's pattern null": ("matches", b"match telnet", "regex", None, REFUSED, RIGHT),
    "a line's cut head past its prefix": ("matches", b"match ssh", "head_length", 99, REFUSED, REFUSED),
    "a chain naming no probe": ("probes", 2, "chain", [2, 99], REFUSED, REFUSED),
    "a chain naming a probe twice": ("probes", 2, "chain", [2, 1, 2, 1], REFUSED, REFUSED),
    "a wait of days": ("probes", 0, "totalwaitms", 10**9, REFUSED, REFUSED),
    "ports out of range": ("probes", 1, "ports", [[1, 99999]], REFUSED, REFUSED),
    "an index position past the lines": ("probe_index", 0, "index", "always:999", REFUSED, REFUSED),
    "an index that miscounts": ("probe_index", 0, "index", "size:3", REFUSED, REFUSED),
    "an Exclude start of text": ("exclude", 0, "start", "x", REFUSED, REFUSED),
    "a service port past 65535": ("services", 0, "port", 70000, RIGHT, REFUSED),  # read by scan only
    "rpc aliases of text": ("rpc", 0, "aliases", "portmap", RIGHT, REFUSED),
    "a source path not UTF-8": ("sources", 0, "path", "BAD_TEXT", REFUSED, REFUSED),
    "a source's version line edited": ("sources", 0, "version_line", "# $Id: other $", RIGHT, RIGHT),
    "a line's product text edited": ("matches", b"match ssh", "product", "Other", RIGHT, RIGHT),
}


def _edit_value(document: Document, table: str, value: object) -> object:
    """Shorthands: an index edit ``key:value``; text that is not UTF-8."""
    from tests.hostile.tamper import Raw, Split, Sql

    if value == "BAD_TEXT":
        return Split(Raw(b'"\xff\xfe"'), Sql("CAST(x'fffe' AS TEXT)"))
    if table == "probe_index" and isinstance(value, str):
        key, number = value.split(":")
        index = dict(document.tables["probe_index"][0][1])
        index[key] = [int(number)] if key == "always" else int(number)
        return index
    return value


@pytest.mark.parametrize("encoding", ["json", "db"])
@pytest.mark.parametrize("name", sorted(EDITS))
def test_an_edited_bundle_is_refused_in_one_line_or_gives_the_right_verdicts(
        small: dict[str, Path], document: Document, tmp_path: Path, servers: ServerThread,
        name: str, encoding: str) -> None:
    """One edit of each kind, resealed: ``sigscan identify`` of a response for every line and
    ``sigscan scan`` of a loopback ssh banner each end with one ``BundleError`` line and exit
    status 2, or (for a value the run does not rely on) with the verdicts an untouched bundle
    gives, in time."""
    table, where, column, value, identified, scanned = EDITS[name]
    row = row_of_line(document, line_of(where)) if isinstance(where, bytes) else where
    bundle = edit_cells(document, small["db"], tmp_path, {Cell(table, row, column): _edit_value(document, table, value)},
                        "edited")[encoding]
    outcome = identify(bundle, codes=(2,) if identified == REFUSED else (0,))
    if identified == REFUSED:
        refused(outcome, bundle)
    else:
        verdicts = [json.loads(line).get("name") for line in outcome.out.splitlines()]
        assert verdicts == [r.service for r in RESPONSES]
    outcome = scan_banner(bundle, banner_server(servers, BANNER), codes=(2,) if scanned == REFUSED else (0,))
    if scanned == REFUSED:
        refused(outcome, bundle)
    else:
        port = json.loads(outcome.out.splitlines()[0])
        assert (port["name"], port["product"]) == ("ssh", "OpenSSH"), port


# -- the real database ------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["db", "json"])
def test_a_real_line_made_catastrophic_under_its_stored_bound_is_refused(
        built: dict[tuple[str, str], Path], tmp_path: Path, encoding: str) -> None:
    """Nmap 7.93's bundle: the line that names the ssh banner gets a catastrophic rest after its
    cut head, its stored bound, prefix and required literals kept; a banner that passes its
    prefilter then reaches it. Refused, in time, in both encodings (the JSON one rewritten
    whole, 11 MB)."""
    from sigscan.bundle.loader import open_bundle

    source = built[("7.93", encoding)]
    with open_bundle(source) as bundle:
        from sigscan.matcher import Matcher

        verdict = Matcher(bundle).identify("NULL", "tcp", BANNER)
        null = bundle.probe("NULL")
        assert null is not None and verdict.name == "ssh"
        line = next(m for m in bundle.matches(null.id) if m.line == verdict.line)
    assert line.cost is not None and line.head_length > 0
    regex = line.regex[: line.rest_offset] + b"(a|aa)+$"
    subject = line.prefix[: line.head_length] + _catastrophic() + b"".join(line.required)
    subject += b"x" * max(0, line.min_length - len(subject))
    if encoding == "db":
        bundle_path = sqlite_edit(source, tmp_path / "real.db", (
            'UPDATE "matches" SET "regex" = ? WHERE "id" = ?', (regex.decode("latin-1"), line.id)))
    else:
        document = Document.read(source)
        row = next(k for k, r in enumerate(document.tables["matches"]) if r[0] == line.id)
        document.tables["matches"][row][MATCHES.column_names.index("regex")] = regex.decode("latin-1")
        bundle_path = tmp_path / "real.json"
        bundle_path.write_bytes(json_bytes(document))
    refused(identify_one(bundle_path, subject), bundle_path, f"line {line.line} (ssh) claims a backtracking bound")
