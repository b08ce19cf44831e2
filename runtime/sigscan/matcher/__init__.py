"""Identify a service from one response: ``identify(bundle, probe, proto, data) -> Verdict``.

See :mod:`sigscan.matcher.core` for the semantics and :mod:`sigscan.matcher.index` for the
prefilter. A :class:`Matcher` per bundle is kept (weakly) so that repeated calls reuse its
indexes and compiled patterns.
"""

from __future__ import annotations

import weakref

from sigscan.bundle.loader import Bundle
from sigscan.matcher.core import LIMIT, Matcher, UnknownProbe
from sigscan.matcher.verdict import Verdict

__all__ = ["LIMIT", "Matcher", "UnknownProbe", "identify", "matcher_for"]

_MATCHERS: weakref.WeakKeyDictionary[Bundle, Matcher] = weakref.WeakKeyDictionary()


def matcher_for(bundle: Bundle) -> Matcher:
    """The shared :class:`Matcher` of ``bundle`` (default engine, timeout and limit)."""
    matcher = _MATCHERS.get(bundle)
    if matcher is None:
        matcher = _MATCHERS[bundle] = Matcher(bundle)
    return matcher


def identify(bundle: Bundle, probe: str, proto: str, data: bytes) -> Verdict:
    """The verdict for ``data``, the response to probe ``probe`` (``proto``: ``tcp``/``udp``).

    Raises :class:`UnknownProbe` when the bundle has no such probe, and
    :class:`~sigscan.bundle.errors.BundleError` when what it reads of the bundle is malformed
    (lines are read when a response first makes them candidates); never raises for any data.
    """
    return matcher_for(bundle).identify(probe, proto, data)
