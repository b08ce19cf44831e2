"""How large a pattern compiles: ``sigc.regex.size.compiled_length`` against PCRE1 8.39 itself (the
library Nmap 7.93 links, called through ctypes), and ``expanded_length``, the bound that keeps
``regex.compile`` short. PCRE1 refuses a pattern whose code exceeds 64 KiB; sigc must refuse
exactly those (SIG208), before anything compiles them."""

from __future__ import annotations

import ctypes
import ctypes.util
import random
import re
import time
from collections.abc import Iterator

import pytest
import regex

from sigc.regex.analysis import analyze_pattern, parse_pattern
from sigc.regex.size import (
    PCRE1_MAX_LENGTH,
    REGEX_MAX_EXPANSION,
    SHORT,
    compiled_length,
    expanded_length,
)
from sigc.regex.translate import regex_flags
from tests.conftest import REAL_FILES

_CASELESS, _DOTALL, _INFO_SIZE = 0x1, 0x4, 1  # pcre.h
_HEADER = 64  # sizeof(real_pcre) in 8.39 on 64-bit: PCRE_INFO_SIZE less it is the counted length


class Pcre1:
    """``pcre_compile`` and ``pcre_fullinfo(PCRE_INFO_SIZE)`` of the installed libpcre.so.3."""

    def __init__(self) -> None:
        name = ctypes.util.find_library("pcre") or "libpcre.so.3"
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            pytest.skip("libpcre.so.3 (PCRE1, the library Nmap 7.93 links) is not installed: apt-get install libpcre3")
        lib.pcre_compile.restype = ctypes.c_void_p
        lib.pcre_compile.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(ctypes.c_char_p),
                                     ctypes.POINTER(ctypes.c_int), ctypes.c_void_p]
        lib.pcre_fullinfo.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p]
        version = ctypes.CFUNCTYPE(ctypes.c_char_p)(("pcre_version", lib))().decode()
        if not version.startswith("8."):
            pytest.skip(f"libpcre is {version}, not PCRE1 8.x")
        self.lib = lib
        self.free = ctypes.CFUNCTYPE(None, ctypes.c_void_p)(ctypes.c_void_p.in_dll(lib, "pcre_free").value)

    def length(self, pattern: bytes, *, caseless: bool = False, dotall: bool = False) -> int | str:
        """The length PCRE1 counts, or its error message."""
        error, offset = ctypes.c_char_p(), ctypes.c_int()
        options = (_CASELESS if caseless else 0) | (_DOTALL if dotall else 0)
        compiled = self.lib.pcre_compile(pattern, options, ctypes.byref(error), ctypes.byref(offset), None)
        if not compiled:
            return (error.value or b"").decode()
        size = ctypes.c_size_t()
        self.lib.pcre_fullinfo(compiled, None, _INFO_SIZE, ctypes.byref(size))
        self.free(compiled)
        return size.value - _HEADER


@pytest.fixture(scope="module")
def pcre1() -> Pcre1:
    return Pcre1()


def ours(pattern: bytes, *, caseless: bool = False, dotall: bool = False) -> int | None:
    tree, _ = parse_pattern(pattern, caseless=caseless, dotall=dotall, sized=False)
    return None if tree is None else compiled_length(tree, pattern)


def real_patterns() -> Iterator[tuple[bytes, bool, bool]]:
    line = re.compile(rb"^(?:soft)?match \S+ m(.)(.*?)\1([a-z]*)", re.M)
    for path in REAL_FILES.values():
        if path.is_file():
            for m in line.finditer(path.read_bytes()):
                yield m[2], b"i" in m[3], b"s" in m[3]


# -- the counted length is PCRE1's, byte for byte ---------------------------------------------------


@pytest.mark.parametrize(("pattern", "length"), [
    (b"", 7), (b"abc", 13), (b"a|b", 14), (b"(a)", 17), (b"(?:a)", 15), (b"(?<=a|b)", 26), (b"(?!)", 8),
    (b"(?!(?#x))", 13), (b"[a]", 9), (b"[ab]", 40), (b"[a-a]", 9), (b"\\R{2}", 11), (b"a{1,3}", 13),
    (b"\\d{1,3}", 12), (b"\\d{1,3}+", 18), (b"(?:a){0,3}", 46), (b"(?:a){1,3}+", 45), (b"(a)\\1*+", 27),
    (b"((\\1))", 32), (b"(?:a{1000}){6552}", 65527),
])
def test_lengths_of_single_constructs(pattern: bytes, length: int, pcre1: Pcre1) -> None:
    assert pcre1.length(pattern) == length
    assert ours(pattern) == length


def test_every_real_pattern_counts_as_pcre1_counts(pcre1: Pcre1) -> None:
    seen = 0
    for pattern, caseless, dotall in real_patterns():
        counted = ours(pattern, caseless=caseless, dotall=dotall)
        assert counted == pcre1.length(pattern, caseless=caseless, dotall=dotall), pattern
        seen += 1
    if seen == 0:
        pytest.skip("no real nmap-service-probes installed")


_ATOMS = [b"a", b"\\x00", b"\\n", b".", b"\\d", b"\\S", b"\\h", b"\\V", b"\\R", b"\\N", b"\\C", b"[ab]", b"[a]",
          b"[^a]", b"[^ab]", b"[a-a]", b"[\\d]", b"[[:alpha:]]", b"[]]", b"\\Qx.\\E", b"\\101", b"^", b"$", b"\\b",
          b"\\A", b"\\z", b"\\G", b"(?)", b"(?#c)", b"(?!)"]
_FIXED = {b"^", b"$", b"\\b", b"\\A", b"\\z", b"\\G", b"(?)", b"(?#c)", b"(?!)"}
_QUANTIFIERS = [b"", b"", b"*", b"+", b"?", b"{0}", b"{1}", b"{2}", b"{0,1}", b"{0,2}", b"{0,5}", b"{1,2}", b"{1,5}",
                b"{2,3}", b"{2,7}", b"{3,}", b"{7}"]
_GROUPS = [b"(", b"(?:", b"(?>", b"(?=", b"(?!", b"(?<=", b"(?<!"]


def _generated(rng: random.Random, depth: int, groups: list[int]) -> bytes:
    parts = []
    for _ in range(rng.randint(1, 4)):
        pick = rng.random()
        if pick < 0.3 and depth < 4:
            kind = rng.choice(_GROUPS)
            if kind.startswith(b"(?<"):  # PCRE1 wants fixed-length alternatives
                parts.append(kind + b"ab|c)")
                continue
            groups[0] += kind == b"("
            body = b"|".join(_generated(rng, depth + 1, groups) for _ in range(rng.randint(1, 3)))
            if kind in (b"(?=", b"(?!"):
                parts.append(kind + body + b")")
                continue
            item = kind + body + b")"
        elif pick < 0.35 and groups[0]:
            item = b"\\%d" % rng.randint(1, groups[0])
        else:
            item = rng.choice(_ATOMS)
            if item in _FIXED:
                parts.append(item)
                continue
        quantifier = rng.choice(_QUANTIFIERS)
        parts.append(item + quantifier + (rng.choice([b"", b"?", b"+"]) if quantifier else b""))
    return b"".join(parts)


def test_generated_patterns_count_as_pcre1_counts(pcre1: Pcre1) -> None:
    """Every construct sigc translates, quantified every way, nested, caseless or not; a fifth
    of them repeated with a count large enough to come near PCRE1's limit or beyond it."""
    rng = random.Random(8_39)
    compared = too_large = 0
    for _ in range(4000):
        pattern = _generated(rng, 0, [0])
        if rng.random() < 0.2:
            pattern = b"(?:" + pattern + b")" + rng.choice([b"{100}", b"{1000}", b"{0,300}", b"{3000}", b"{2,6000}"])
        caseless, dotall = rng.random() < 0.3, rng.random() < 0.3
        counted = ours(pattern, caseless=caseless, dotall=dotall)
        if counted is None:  # constructs sigc does not translate (SIG202): refused anyway
            continue
        theirs = pcre1.length(pattern, caseless=caseless, dotall=dotall)
        if theirs == "regular expression is too large":
            assert counted > PCRE1_MAX_LENGTH, pattern
            too_large += 1
        else:
            assert counted == theirs, pattern
        compared += 1
    assert compared > 3000 and too_large > 300


# -- what sigc does with the count ------------------------------------------------------------------


@pytest.mark.parametrize(("count", "refused"), [(6552, False), (6553, True), (65535, True)])
def test_too_large_is_refused_as_pcre1_refuses_it(count: int, refused: bool, pcre1: Pcre1) -> None:
    pattern = b"^(?:a{1000}){%d}" % count
    assert (pcre1.length(pattern) == "regular expression is too large") == refused
    analysis = analyze_pattern(pattern, caseless=False, dotall=False)
    codes = [p.code for p in analysis.problems]
    assert codes == (["SIG208"] if refused else ["SIG210"])  # beyond 6552 copies, too large for regex as well
    assert analysis.translated is None


def test_the_pattern_of_the_report_is_refused_at_once() -> None:
    """``(?:(?:a{1000}){1000}){1000}`` ran lint past 30 s in regex.compile; PCRE1 refuses it."""
    start = time.monotonic()
    analysis = analyze_pattern(b"^(?:(?:a{1000}){1000}){1000}", caseless=False, dotall=False)
    assert [p.code for p in analysis.problems] == ["SIG208"] and analysis.translated is None
    assert time.monotonic() - start < 5  # a bound that catches a hang, not a speed target


def test_a_short_pattern_without_copies_is_never_too_large() -> None:
    """The parser skips the count for patterns of at most SHORT bytes that copy no group: no
    construct compiles to more than 9 bytes per byte of pattern (a class is 33 bytes for 4)."""
    for unit in (b"[ab]", b"[^ab]", b"[ab]{2,3}", b"(?<=a|b|c)", b"((\\1))", b"[ab]{2}+", b"\\d{1,2}+"):
        pattern = unit * (SHORT // len(unit))
        counted = ours(pattern)
        assert counted is not None and counted <= 9 * len(pattern) + 7 < PCRE1_MAX_LENGTH, unit


# -- what regex.compile is spared ---------------------------------------------------------------------


def test_real_patterns_are_far_below_the_expansion_limit() -> None:
    largest = 0
    for pattern, caseless, dotall in real_patterns():
        tree, _ = parse_pattern(pattern, caseless=caseless, dotall=dotall)
        assert tree is not None
        largest = max(largest, expanded_length(tree))
    assert largest * 50 < REGEX_MAX_EXPANSION


@pytest.mark.parametrize("pattern", [
    b"(?:a{1000}){6552}",  # PCRE1 accepts it (65,527 bytes); regex would take seconds
    b"(?:.{65535}){5000}",  # regex would need more memory than the machine has
    b"(?:" * 22 + b"a+" + b")+" * 22,  # no count at all: regex doubles its work each level (24 s)
    b"(?:" * 12 + b"a" + b"){2}" * 12,  # nested copies: 1.2 s and growing threefold a level
])
def test_patterns_too_costly_for_regex_are_refused(pattern: bytes) -> None:
    analysis = analyze_pattern(pattern, caseless=False, dotall=False)
    assert [p.code for p in analysis.problems] == ["SIG210"] and analysis.translated is None


@pytest.mark.parametrize("pattern", [
    b"a{65535}", b"(?:a{13}){5000}", b"(?:" * 14 + b"a" + b")+" * 14, b"(?:x|" * 14 + b"a" + b")+" * 14,
    b"(?:" * 9 + b"a" + b"){2}" * 9, b"(?:(?:(?:ab){3000})+)+",
])
def test_patterns_within_the_limit_compile_in_bounded_time(pattern: bytes) -> None:
    analysis = analyze_pattern(pattern, caseless=False, dotall=False)
    assert analysis.translated is not None, analysis.problems
    start = time.monotonic()
    regex.compile(analysis.translated, regex_flags(caseless=False, dotall=False))
    assert time.monotonic() - start < 10  # a bound that catches a blow-up (figures: docs/benchmarks.md)
