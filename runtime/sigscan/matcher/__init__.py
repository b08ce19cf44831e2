"""Identify a service from one response: ``identify(bundle, probe, proto, data) -> Verdict``.

See :mod:`sigscan.matcher.core` for the semantics and :mod:`sigscan.matcher.index` for the
prefilter. A :class:`Matcher` per bundle is kept on the bundle, so that repeated calls reuse its
indexes and compiled patterns, and it goes when the bundle goes.
"""

from __future__ import annotations

from sigscan.bundle.loader import Bundle
from sigscan.matcher.core import LIMIT, Matcher, UnknownProbe
from sigscan.matcher.verdict import Verdict

__all__ = ["LIMIT", "Matcher", "UnknownProbe", "identify", "matcher_for"]

_ATTRIBUTE = "_sigscan_matcher"


def matcher_for(bundle: Bundle) -> Matcher:
    """The shared :class:`Matcher` of ``bundle`` (default engine, timeout and limit), made on
    first use: one per bundle, whoever asks (``sigscan.identify``, a scan's catalog)."""
    # On the bundle, not in a module-level weak-key dict: its values (each matcher holds its
    # bundle) would keep every bundle alive; here the two are freed together.
    matcher: Matcher | None = vars(bundle).get(_ATTRIBUTE)
    if matcher is None:
        matcher = Matcher(bundle)
        setattr(bundle, _ATTRIBUTE, matcher)
    return matcher


def identify(bundle: Bundle, probe: str, proto: str, data: bytes) -> Verdict:
    """The verdict for ``data``, the response to probe ``probe`` (``proto``: ``tcp``/``udp``).

    Raises :class:`UnknownProbe` when the bundle has no such probe, and
    :class:`~sigscan.bundle.errors.BundleError` when what it reads of the bundle is malformed
    (lines are read when a response first makes them candidates); never raises for any data.
    """
    return matcher_for(bundle).identify(probe, proto, data)
