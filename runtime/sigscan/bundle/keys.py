"""The prefilter keys as a bundle stores them: what sigc writes into ``probe_index`` and what
:class:`sigscan.matcher.index.ProbeIndex` reads (see its module docstring for what each kind
means). Both halves must agree on these, so they are written once, here."""

from __future__ import annotations

HEAD_MAX = 8  # longest head key, in bytes
HEAD, IHEAD, TOKEN, FIRST, ALWAYS = "head", "ihead", "token", "first", "always"  # key kinds

_ALNUM = frozenset(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
TOKEN_TABLE = bytes(b if b in _ALNUM else 0x20 for b in range(256))  # non-alnum -> space


def tokens_of(data: bytes) -> frozenset[bytes]:
    """The tokens of ``data``: its maximal runs of ASCII letters and digits."""
    return frozenset(data.translate(TOKEN_TABLE).split())
