"""Render findings: text with the source line and a caret, JSON, SARIF 2.1.0; and the exit code.

The renderers only format :class:`~sigc.diagnostics.Diagnostic` records; they never decide
what is a problem. Text output is for people (``path:line:col: CODE severity: message``, the
line, a caret under the column, a summary), JSON for scripts, SARIF for code-scanning
services (GitHub and others), which show each result on the line it names.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any
from urllib.parse import quote

import sigc
from sigc.diagnostics import Diagnostic, Severity

__all__ = ["SARIF_SCHEMA", "exit_code", "render_json", "render_sarif", "render_text", "summary", "text_lines"]

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SARIF_VERSION = "2.1.0"

_TAB = 4  # columns a tab is shown as (the caret follows)
_WINDOW = 120  # longest excerpt of a source line shown; longer lines are cut around the column
_SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


# ---------------------------------------------------------------------------------------------
# Text


def render_text(findings: Iterable[Diagnostic], sources: Mapping[str, Mapping[int, bytes]]) -> str:
    """:func:`text_lines` as one string."""
    return "".join(text_lines(list(findings), sources))


def text_lines(findings: Sequence[Diagnostic], sources: Mapping[str, Mapping[int, bytes]]) -> Iterator[str]:
    """Each finding as ``path:line:col: CODE severity: message``, then its source line (when
    ``sources`` has it: path -> line number -> the line's bytes) with a caret under the column,
    then a summary line. Made finding by finding: a report can be as large as its file."""
    for d in findings:
        yield f"{d}\n"
        line = sources.get(d.location.path, {}).get(d.location.line)
        if line is not None:
            shown, caret = excerpt(line, d.location.col)
            yield f"{shown}\n{caret}\n"
    yield summary(findings) + "\n"


def summary(findings: Iterable[Diagnostic]) -> str:
    """``N errors, M warnings, K info``."""
    counts = {s: 0 for s in Severity}
    for d in findings:
        counts[d.severity] += 1
    errors, warnings = counts[Severity.ERROR], counts[Severity.WARNING]
    return (f"{errors} error{'' if errors == 1 else 's'}, "
            f"{warnings} warning{'' if warnings == 1 else 's'}, {counts[Severity.INFO]} info")


def excerpt(line: bytes, col: int) -> tuple[str, str]:
    """The source line as shown (two-space indent) and a caret line under byte column ``col``.

    Bytes are read as latin-1; a tab shows as spaces, other control bytes, 0x7f-0xa0 and 0xad
    (invisible or blank) as ``\\xHH``, so the caret stays under the byte it means. Long lines
    are cut around the column.
    """
    line = line.rstrip(b"\r")
    cells = [_cell(b) for b in line]
    index = min(max(col, 1), len(cells) + 1) - 1
    start, end = _window(cells, index)
    shown = "".join(cells[start:end])
    before = len("".join(cells[start:index]))
    lead = "…" if start > 0 else ""
    tail = "…" if end < len(cells) else ""
    return f"  {lead}{shown}{tail}".rstrip(), "  " + " " * (len(lead) + before) + "^"


def _cell(byte: int) -> str:
    if byte == 0x09:
        return " " * _TAB
    if byte < 0x20 or 0x7F <= byte <= 0xA0 or byte == 0xAD:  # controls, no-break space, soft hyphen
        return f"\\x{byte:02x}"
    return chr(byte)


def _window(cells: Sequence[str], index: int) -> tuple[int, int]:
    """The slice of cells to show: all of them if short, else about ``_WINDOW`` columns with
    the caret's cell a third of the way in."""
    if sum(len(c) for c in cells) <= _WINDOW:
        return 0, len(cells)
    start = max(0, index - _WINDOW // 3)
    width, end = 0, start
    while end < len(cells) and width + len(cells[end]) <= _WINDOW:
        width += len(cells[end])
        end += 1
    return start, max(end, min(index + 1, len(cells)))


# ---------------------------------------------------------------------------------------------
# JSON


def render_json(findings: Iterable[Diagnostic]) -> str:
    """A JSON list of ``{path, line, col, code, severity, message}`` objects."""
    rows = [
        {
            "path": d.location.path,
            "line": d.location.line,
            "col": d.location.col,
            "code": d.code,
            "severity": d.severity.value,
            "message": d.message,
        }
        for d in findings
    ]
    return json.dumps(rows, indent=2, ensure_ascii=False) + "\n"


# ---------------------------------------------------------------------------------------------
# SARIF 2.1.0


def render_sarif(findings: Iterable[Diagnostic], rules: Mapping[str, tuple[Severity, str]] | None = None) -> str:
    """One SARIF 2.1.0 log with one run of the ``sigc`` tool.

    ``rules`` maps each code to its default severity and summary (default: every code sigc
    knows, :func:`sigc.codes.all_codes`); codes found but not listed get a rule of their own.
    Columns are byte columns, which are code points of the latin-1 reading of the file.
    """
    findings = list(findings)
    if rules is None:
        from sigc.codes import all_codes  # here: sigc.codes imports every module with codes

        rules = all_codes()
    table = dict(rules)
    for d in findings:
        table.setdefault(d.code, (d.severity, d.code))
    codes = sorted(table)
    index = {code: i for i, code in enumerate(codes)}
    run: dict[str, Any] = {
        "tool": {"driver": _driver(codes, table)},
        "columnKind": "unicodeCodePoints",
        "results": [_result(d, index[d.code]) for d in findings],
    }
    log = {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


def _driver(codes: Sequence[str], table: Mapping[str, tuple[Severity, str]]) -> dict[str, Any]:
    return {
        "name": "sigc",
        "version": sigc.__version__,
        "semanticVersion": sigc.__version__,
        "rules": [
            {
                "id": code,
                "shortDescription": {"text": table[code][1]},
                "defaultConfiguration": {"level": _SARIF_LEVEL[table[code][0]]},
            }
            for code in codes
        ],
    }


def _result(d: Diagnostic, rule_index: int) -> dict[str, Any]:
    return {
        "ruleId": d.code,
        "ruleIndex": rule_index,
        "level": _SARIF_LEVEL[d.severity],
        "message": {"text": d.message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": artifact_uri(d.location.path)},
                    "region": {"startLine": max(d.location.line, 1), "startColumn": max(d.location.col, 1)},
                }
            }
        ],
    }


def artifact_uri(path: str) -> str:
    """A URI reference for a path: ``file:///…`` for an absolute path, else a relative
    reference with ``/`` separators, percent-encoded where a URI needs it."""
    if PurePosixPath(path).is_absolute():
        return "file://" + quote(path)
    windows = PureWindowsPath(path)
    if windows.is_absolute() and windows.drive.startswith("\\\\"):  # \\server\share\…
        return "file:" + quote(windows.as_posix())  # file://server/share/…
    if windows.is_absolute():  # C:\…: file:///C:/… (the drive's colon stays, RFC 8089)
        return "file:///" + windows.drive + quote(windows.as_posix()[len(windows.drive):])
    return quote(path.replace("\\", "/"))  # relative: ':' is encoded, so no segment reads as a scheme


# ---------------------------------------------------------------------------------------------
# Exit status


def exit_code(findings: Iterable[Diagnostic], strict: bool = False) -> int:
    """0 when clean, 1 when any error was found (with ``strict``, any warning too). Unusable
    input (exit 2) is the CLI's business."""
    worst = {d.severity for d in findings}
    if Severity.ERROR in worst or (strict and Severity.WARNING in worst):
        return 1
    return 0
