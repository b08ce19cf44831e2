"""``sigc.regex`` on every ``match``/``softmatch`` pattern of the real Nmap files (read where they
are installed): all translate, all compile with ``regex``, group counts agree with ``re`` and
PCRE2, the prefilter never rejects a subject the pattern matches, and the translation matches
what PCRE2 matches on generated and banner-like subjects."""

from __future__ import annotations

import itertools
import random
import re
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pcre2
import pytest
import regex

from sigc.diagnostics import Severity
from sigc.regex.analysis import PatternAnalysis, analyze_pattern, parse_pattern
from sigc.regex.translate import regex_flags

from .pcre_cases import prefilter_passes, sample_subject, without_positions

pytestmark = pytest.mark.slow

# The regex delimiter cannot be escaped, so the lazy body stops at its first reappearance.
MATCH_LINE = re.compile(rb"^(soft)?match (\S+) m(.)(.*?)\3([a-z]*)")


@dataclass(frozen=True)
class Entry:
    line: int
    pattern: bytes
    caseless: bool
    dotall: bool
    analysis: PatternAnalysis

    @property
    def flags(self) -> int:
        return regex_flags(caseless=self.caseless, dotall=self.dotall)

    @property
    def pcre2_flags(self) -> int:
        return (pcre2.IGNORECASE if self.caseless else 0) | (pcre2.DOTALL if self.dotall else 0)


@dataclass(frozen=True)
class Corpus:
    name: str
    entries: list[Entry]
    compiled: list[Any]  # regex.Pattern, index-aligned with entries
    samples: list[list[bytes]]  # generated subjects per entry


def _entries(path: Path) -> list[Entry]:
    out = []
    for number, line in enumerate(path.read_bytes().split(b"\n"), 1):
        found = MATCH_LINE.match(line)
        if found:
            pattern, flags = found.group(4), found.group(5)
            caseless, dotall = b"i" in flags, b"s" in flags
            out.append(Entry(number, pattern, caseless, dotall, analyze_pattern(pattern, caseless=caseless, dotall=dotall)))
    return out


def _samples(entry: Entry, rng: random.Random) -> list[bytes]:
    tree, _ = parse_pattern(entry.pattern, caseless=entry.caseless, dotall=entry.dotall)
    assert tree is not None
    subjects = [sample_subject(tree, rng, caseless=entry.caseless) for _ in range(3)]
    return [*subjects, b"\x00garbage " + subjects[0], subjects[1] + b"\r\n"]


@pytest.fixture(scope="module")
def corpus(real_path: Path) -> Corpus:
    entries = _entries(real_path)
    compiled = []
    for e in entries:
        assert e.analysis.translated is not None, (e.line, e.analysis.problems)
        compiled.append(regex.compile(e.analysis.translated, e.flags))
    rng = random.Random(793)
    return Corpus(real_path.name, entries, compiled, [_samples(e, rng) for e in entries])


def test_the_files_have_the_expected_size(corpus: Corpus) -> None:
    assert len(corpus.entries) > 11_000


def test_every_pattern_translates_without_errors(corpus: Corpus) -> None:
    bad = [(e.line, p.code, p.message) for e in corpus.entries for p in e.analysis.problems if p.severity is Severity.ERROR]
    assert bad == []
    assert all(e.analysis.translated is not None for e in corpus.entries)


def test_trees_with_positions_are_the_same_trees(corpus: Corpus) -> None:
    """What lint reads (literals and byte sets with where they are written) means what the
    build reads."""
    for e in corpus.entries:
        placed, _ = parse_pattern(e.pattern, caseless=e.caseless, dotall=e.dotall, positions=True)
        assert placed is not None and without_positions(placed) == parse_pattern(
            e.pattern, caseless=e.caseless, dotall=e.dotall)[0], e.line


def test_every_translation_compiles_with_regex(corpus: Corpus) -> None:
    assert len(corpus.compiled) == len(corpus.entries)  # the fixture compiled them all


def test_group_counts_agree_with_re_and_pcre2(corpus: Corpus) -> None:
    mismatched = []
    for e, ours in zip(corpus.entries, corpus.compiled, strict=True):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                stdlib: int | None = re.compile(e.pattern).groups
            except re.error:
                stdlib = None
        counts = {e.analysis.groups, ours.groups, pcre2.compile(e.pattern, jit=False).groups}
        if stdlib is not None:
            counts.add(stdlib)
        if len(counts) != 1:
            mismatched.append((e.line, counts))
    assert mismatched == []


def test_generated_subjects_mostly_match(corpus: Corpus) -> None:
    """The sampler makes the soundness test below meaningful: most samples do match."""
    matched = sum(c.search(s[0]) is not None for c, s in zip(corpus.compiled, corpus.samples, strict=True))
    assert matched / len(corpus.entries) > 0.95


def test_prefilter_is_sound(corpus: Corpus) -> None:
    subjects = BANNERS
    unsound = []
    for e, compiled, samples in zip(corpus.entries, corpus.compiled, corpus.samples, strict=True):
        for subject in itertools.chain(samples, subjects):
            if compiled.search(subject) is not None and not prefilter_passes(e.analysis, subject, caseless=e.caseless):
                unsound.append((e.line, subject))
    assert unsound == []


def test_translations_agree_with_pcre2(corpus: Corpus) -> None:
    rng = random.Random(93)
    differ = []
    compared = 0
    for e, ours, samples in zip(corpus.entries, corpus.compiled, corpus.samples, strict=True):
        theirs = pcre2.compile(e.pattern, e.pcre2_flags, jit=False)
        for subject in samples + rng.sample(BANNERS, 8):
            try:
                found = ours.search(subject, timeout=2.0)
                expected = theirs.search(subject)
            except (TimeoutError, pcre2.LibraryError):  # pragma: no cover - limits differ by design
                continue
            compared += 1
            if (found and (found.span(), found.groups())) != (expected and (expected.span(), expected.groups())):
                differ.append((e.line, subject))
    assert differ == []
    assert compared > 10 * len(corpus.entries)


def test_analysis_statistics(corpus: Corpus) -> None:
    """Loose bounds on what the prefilter gets from the real files (numbers in the report)."""
    stats = _statistics(corpus.entries)
    total = stats["patterns"]
    assert stats["anchored"] > 0.95 * total
    assert stats["prefix>=4"] > 0.9 * total
    assert stats["no prefix, no required"] < 0.01 * total
    assert stats["can_match_empty"] == 0


def _statistics(entries: list[Entry]) -> Counter[str]:
    stats: Counter[str] = Counter(patterns=len(entries))
    for e in entries:
        a = e.analysis
        stats["anchored"] += a.anchored
        for size in (1, 4, 8):
            stats[f"prefix>={size}"] += len(a.prefix) >= size
        stats["no prefix, no required"] += not a.prefix and not a.required
        stats["nested_quantifier"] += a.nested_quantifier
        stats["can_match_empty"] += a.can_match_empty
        stats["dot_without_dotall"] += a.dot_without_dotall
        stats["backrefs"] += a.backrefs
        stats["warnings"] += len(a.problems)
    return stats


# -- banner-like subjects: what servers say first, made up from common products ---------------


def _banners() -> list[bytes]:
    out: list[bytes] = []
    for version, distro in itertools.product(["7.4", "8.2p1", "8.9p1", "9.6p1"], [b"", b" Ubuntu-3ubuntu0.10", b" Debian-5"]):
        out.append(b"SSH-2.0-OpenSSH_" + version.encode() + distro + b"\r\n")
    out += [b"SSH-2.0-dropbear_2022.83\r\n", b"SSH-1.99-Cisco-1.25\r\n", b"SSH-2.0-libssh_0.9.6\r\n"]
    for server in [b"Apache/2.4.41 (Ubuntu)", b"nginx/1.18.0", b"Microsoft-IIS/10.0", b"lighttpd/1.4.59",
                   b"Jetty(9.4.z-SNAPSHOT)", b"cloudflare", b"Apache-Coyote/1.1", b"gunicorn", b"Boa/0.94.14rc21"]:
        for status in [b"200 OK", b"400 Bad Request", b"401 Unauthorized", b"404 Not Found"]:
            out.append(b"HTTP/1.1 " + status + b"\r\nServer: " + server + b"\r\nContent-Type: text/html\r\n"
                       b"Content-Length: 12\r\nConnection: close\r\n\r\n<html></html>")
            out.append(b"HTTP/1.0 " + status + b"\r\nDate: Mon, 01 Jan 2024 00:00:00 GMT\r\nServer: " + server + b"\r\n\r\n")
    for greeting in [b"220 mail.example.com ESMTP Postfix (Ubuntu)", b"220 ProFTPD 1.3.5e Server (Debian) [::ffff:10.0.0.1]",
                     b"220 (vsFTPd 3.0.3)", b"220 Microsoft FTP Service", b"220-FileZilla Server 0.9.60 beta",
                     b"220 mx.example.org ESMTP Exim 4.94.2 Mon, 01 Jan 2024 00:00:00 +0000",
                     b"220 smtp.example.net Microsoft ESMTP MAIL Service ready", b"220 Welcome to Pure-FTPd [privsep] [TLS]"]:
        out += [greeting + b"\r\n", greeting + b"\r\n214 Help\r\n", greeting.lower() + b"\n"]
    out += [b"+OK Dovecot ready.\r\n", b"* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE] Dovecot ready.\r\n",
            b"+OK POP3 server ready <1234.5678@example.com>\r\n", b"* OK Microsoft Exchange Server 2016 IMAP4 service ready\r\n",
            b"-ERR unknown command 'GET'\r\n", b"+PONG\r\n", b"-NOAUTH Authentication required.\r\n",
            b"J\x00\x00\x00\n5.7.33-log\x00\x08\x00\x00\x00abcdefgh\x00\xff\xf7\x08\x02\x00\xff\x81\x15",
            b"N\x00\x00\x00\n8.0.35-0ubuntu0.22.04.1\x00\x0b\x00\x00\x00", b"\x15\x03\x01\x00\x02\x02\x28",
            b"\x16\x03\x03\x00\x5d\x02\x00\x00\x59\x03\x03", b"\xff\xfd\x18\xff\xfd\x20\xff\xfd\x23\xff\xfd\x27",
            b"\xff\xfb\x01\xff\xfb\x03login: ", b"\r\nUser Access Verification\r\n\r\nUsername: ",
            b"RFB 003.008\n", b"AMQP\x00\x00\x09\x01", b"\x00\x00\x00\x01", b"", b"\r\n", b"\n", b"\x00",
            b"<?xml version=\"1.0\"?><stream:stream>", b"{\"error\":\"not found\"}", b"HELLO\r\n", b"OK\r\n",
            b"Microsoft Windows [Version 10.0.19045.3693]\r\n(c) Microsoft Corporation.\r\n\r\nC:\\>",
            b"BusyBox v1.30.1 built-in shell (ash)\n# ", b"Welcome to Ubuntu 22.04.3 LTS\r\n",
            b"@RSYNCD: 31.0\n", b"* OK IMAP4 ready\r\n", b"200 Welcome to the NNTP server\r\n"]
    rng = random.Random(1234)
    out += [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64))) for _ in range(60)]
    out += [bytes(rng.choice(b"abcdefghijklmnopqrstuvwxyz0123456789 .:-/\r\n") for _ in range(rng.randrange(1, 80)))
            for _ in range(60)]
    return out


BANNERS = _banners()


def test_banners_are_a_few_hundred() -> None:
    assert 200 <= len(BANNERS) <= 400
