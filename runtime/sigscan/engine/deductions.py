"""What a port's matches have established so far (Nmap's ``probe_matched`` and ``*_matched``).

Rules (nmap-semantics §4, "Acting on a match"): the first softmatch records its name and fields;
a later softmatch is ignored (with a note when its name differs); a hard match takes the name and
overwrites only the fields it sets, so a softmatch's fields it leaves empty survive. CPEs live in
three slots (a, h, o), each overwritten by a CPE of the same part. A hard match of an ``ssl/NAME``
line comes as ``NAME`` with ``tunnel="ssl"`` (:func:`sigscan.matcher.verdict.tunnelled`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from sigscan.matcher.verdict import FIELD_NAMES, Verdict

CPE_PARTS = ("a", "h", "o")


class Applied(enum.Enum):
    IGNORED = "ignored"  # a softmatch after a first one
    SOFT = "soft"
    HARD = "hard"


@dataclass(slots=True)
class Deductions:
    name: str | None = None
    soft: bool = False
    tunnel: str | None = None
    fields: dict[str, str] = field(default_factory=dict)
    cpe: dict[str, str] = field(default_factory=dict)

    @property
    def softmatched(self) -> str | None:
        """The softmatched name that narrows probe selection, if the port is in that state."""
        return self.name if self.soft else None

    def apply(self, verdict: Verdict) -> Applied:
        if verdict.name is None:
            raise ValueError("apply() needs a verdict that matched")
        if verdict.soft and self.name is not None:
            return Applied.IGNORED
        self.name, self.soft, self.tunnel = verdict.name, verdict.soft, verdict.tunnel
        for key in FIELD_NAMES:
            value = getattr(verdict, key)
            if value:
                self.fields[key] = value
        for cpe in verdict.cpe:
            part = cpe[5:6]  # "cpe:/a:…"
            if part in CPE_PARTS:
                self.cpe[part] = cpe
        return Applied.SOFT if verdict.soft else Applied.HARD

    def clear(self) -> None:
        """Forget everything (the SSL restart)."""
        self.name, self.soft, self.tunnel = None, False, None
        self.fields.clear()
        self.cpe.clear()

    def cpes(self) -> tuple[str, ...]:
        return tuple(self.cpe[p] for p in CPE_PARTS if p in self.cpe)
