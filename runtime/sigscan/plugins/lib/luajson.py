"""JSON as Nmap's ``json.lua`` parses it (``json.parse``), into the values of
:mod:`sigscan.plugins.lib.nse`: objects become ``dict`` (in document order; Lua would list
them in its hash order, which changes from run to run), arrays ``list``, ``null``
:data:`~sigscan.plugins.lib.nse.NULL`, numbers Lua integers or floats, strings Latin-1 ``str``.

Its grammar, not RFC 8259's: any byte but ``"`` may stand in a string, ``\\`` before an unknown
character gives that character, numbers may be hexadecimal (``0x1F``) or start or end with a
dot, keywords must not run on into letters; and an array element after the first must be
followed directly by its comma (``[1, 2 ,3]`` does not parse), as the grammar has no room
for spaces there.
"""

from __future__ import annotations

import re

from sigscan.plugins.lib.nse import NULL, Value, tonumber

MAX_DEPTH = 200  # nesting deeper than this is refused (Lua's C stack would refuse it too)
_SPACE = re.compile(r"[ \t\n\v\f\r]*")
_NUMBER = re.compile(r"-?[ \t\n\v\f\r]*(?:0x[0-9A-Fa-f]+|[0-9]+\.[0-9]*(?:[eE][-+]?[0-9]+)?"
                     r"|[0-9]*\.[0-9]+(?:[eE][-+]?[0-9]+)?|[0-9]+(?:[eE][-+]?[0-9]+)?)")
_KEYWORD_END = re.compile(r"[A-Za-z0-9_]")
_HEX4 = re.compile(r"[0-9A-Fa-f]{4}")
_SIMPLE = {'"': '"', "\\": "\\", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


class JsonError(ValueError):
    """Text ``json.parse`` does not accept (it returns false and this message)."""


def _utf8(code: int) -> str:
    """``unicode.utf8_enc`` as Latin-1 text (one character per byte)."""
    return chr(code).encode("utf-8", "surrogatepass").decode("latin-1")


class _Parser:
    def __init__(self, text: str) -> None:
        self.text, self.pos = text, 0

    def space(self) -> None:
        found = _SPACE.match(self.text, self.pos)
        assert found is not None
        self.pos = found.end()

    def peek(self, literal: str) -> bool:
        return self.text.startswith(literal, self.pos)

    def expect(self, literal: str) -> None:
        if not self.peek(literal):
            raise JsonError(f"syntax error at {self.pos}: {literal!r} expected")
        self.pos += len(literal)

    def value(self, depth: int) -> Value:
        if depth > MAX_DEPTH:
            raise JsonError("nested too deep")
        if self.peek('"'):
            return self.string()
        number = _NUMBER.match(self.text, self.pos)
        if number:
            return self.number(number.group(), number.end())
        if self.peek("{"):
            return self.object(depth)
        if self.peek("["):
            return self.array(depth)
        for word, result in (("true", True), ("false", False), ("null", NULL)):
            end = self.pos + len(word)
            if self.peek(word) and not _KEYWORD_END.match(self.text, end):
                self.pos = end
                return result
        raise JsonError(f"syntax error at {self.pos}")

    def number(self, text: str, end: int) -> Value:
        value = tonumber(text)
        if value is None:  # "- 5": the grammar takes it, tonumber does not (an assert fails)
            raise JsonError(f"bad number {text!r}")
        self.pos = end
        return value

    def string(self) -> str:
        self.expect('"')
        out: list[str] = []
        text = self.text
        while True:
            if self.pos >= len(text):
                raise JsonError("unterminated string")
            char = text[self.pos]
            if char == '"':
                self.pos += 1
                return "".join(out)
            if char != "\\" or self.pos + 1 >= len(text):
                out.append(char)
                self.pos += 1
                continue
            code = text[self.pos + 1]
            if code == "u" and _HEX4.match(text, self.pos + 2):
                out.append(self.unicode())
                continue
            out.append(_SIMPLE.get(code, code))
            self.pos += 2

    def unicode(self) -> str:
        """``\\uXXXX`` (a UTF-16 surrogate pair takes two), as UTF-8 bytes."""
        high = int(self.text[self.pos + 2:self.pos + 6], 16)
        self.pos += 6
        if high < 0xD800 or high > 0xDFFF:
            return _utf8(high)
        if high >= 0xDC00:
            raise JsonError(f"Not a Unicode character: U+{high:04X}")
        if not (self.peek("\\u") and _HEX4.match(self.text, self.pos + 2)):
            raise JsonError(f"Bad unicode escape \\u{high:04x} (missing low surrogate)")
        low = int(self.text[self.pos + 2:self.pos + 6], 16)
        if not 0xDC00 <= low <= 0xDFFF:
            raise JsonError(f"Bad unicode escape \\u{high:04x}\\u{low:04x} (bad low surrogate)")
        self.pos += 6
        return _utf8(0x10000 + (high & 0x3FF) * 0x400 + (low & 0x3FF))

    def object(self, depth: int) -> dict[str, Value]:
        self.expect("{")
        self.space()
        found: dict[str, Value] = {}
        if self.peek('"'):
            while True:
                key = self.string()
                self.space()
                self.expect(":")
                self.space()
                found[key] = self.value(depth + 1)
                start = self.pos
                self.space()
                if not self.peek(","):
                    self.pos = start
                    break
                self.pos += 1
                self.space()
        self.space()
        self.expect("}")
        return found

    def array(self, depth: int) -> list[Value]:
        self.expect("[")
        self.space()
        found: list[Value] = []
        if not self.peek("]"):
            found.append(self.value(depth + 1))
            self.space()
            while self.peek(","):
                self.pos += 1
                self.space()
                found.append(self.value(depth + 1))
        self.space()
        self.expect("]")
        return found


def parse(text: str) -> Value:
    """The value of a JSON document (:class:`JsonError` when ``json.parse`` fails)."""
    parser = _Parser(text)
    parser.space()
    value = parser.value(0)
    parser.space()
    if parser.pos != len(text):
        raise JsonError(f"syntax error at {parser.pos}")
    return value
