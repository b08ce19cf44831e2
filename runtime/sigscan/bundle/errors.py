"""The one error the loader raises: the bundle cannot be used, and the message says what to do."""

from __future__ import annotations


class BundleError(Exception):
    """A bundle is missing, unreadable, of another schema version, truncated or tampered with."""

    def __init__(self, path: str, problem: str, advice: str = "rebuild it with `sigc build`") -> None:
        self.path = path
        self.problem = problem
        self.advice = advice
        super().__init__(f"{path}: {problem}; {advice}")
