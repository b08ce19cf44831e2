"""Version-field templates, parsed by the compiler and expanded here at match time.

The compiler turns the text of ``p/…/``, ``v/…/``, ``cpe:/…/`` into a :class:`Template`: a tuple
of parts (literal text and variables). :func:`expand` evaluates one against the groups of a
match exactly as Nmap's ``dotmplsubst`` does (nmap-semantics §2):

* ``$N`` copies group N as a C string (a NUL cuts that substitution); ``$P(N)`` keeps only bytes
  0x20-0x7E; ``$SUBST(N,"find","repl")`` replaces non-overlapping occurrences left to right;
  ``$I(N,">")``/``$I(N,"<")`` reads 0-8 bytes as an unsigned big/little-endian integer.
* A variable that fails (group unset or above the pattern's group count, more than 8 bytes for
  ``$I``, an :class:`Invalid` part) fails the whole field: :func:`expand` returns ``None`` and
  Nmap prints a warning; nothing is truncated. Unset groups follow newer Nmap (the field
  fails); 7.93 aborts when the unset group lies below a participating one.
* The result must fit Nmap's buffer: N-1 bytes when the template ends in literal text, N-2 when
  it ends in a substitution (N is :attr:`Field.size`).
* Then trailing whitespace and commas are stripped (leading ones kept) and every byte outside
  0x20-0x7E becomes ``.``.
* CPE templates transform each substitution (not the literal text) before it is inserted:
  lower-cased, whitespace to ``_``, each of ``:/?#[]@!$&'()*+,;=%<>"`` to ``%XX``. The length
  check counts the transformed text; trimming comes after it.

``$SUBST`` with an empty find string makes Nmap loop forever on a non-empty group; here that
substitution fails instead (an empty group still gives an empty string, as in Nmap).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sigscan.bundle.fields import Field

__all__ = [
    "Field",
    "Group",
    "Int",
    "Invalid",
    "Literal",
    "Part",
    "Printable",
    "Subst",
    "Template",
    "cpe_slot",
    "expand",
    "expand_cpes",
    "merge_cpes",
    "template_slot",
]


@dataclass(frozen=True, slots=True)
class Literal:
    """Text copied as written."""

    text: bytes


@dataclass(frozen=True, slots=True)
class Group:
    """``$N``: a raw copy of group N (1-9), cut at its first NUL."""

    n: int


@dataclass(frozen=True, slots=True)
class Printable:
    """``$P(N)``: group N with only the bytes 0x20-0x7E kept."""

    n: int


@dataclass(frozen=True, slots=True)
class Subst:
    """``$SUBST(N,"find","repl")``: group N with each ``find`` replaced, left to right."""

    n: int
    find: bytes
    repl: bytes


@dataclass(frozen=True, slots=True)
class Int:
    """``$I(N,">")`` (big-endian) or ``$I(N,"<")``: group N as an unsigned decimal integer."""

    n: int
    big_endian: bool


@dataclass(frozen=True, slots=True)
class Invalid:
    """A ``$`` expression Nmap cannot evaluate: the field always comes out empty."""

    reason: str


Part = Literal | Group | Printable | Subst | Int | Invalid


@dataclass(frozen=True, slots=True)
class Template:
    """A parsed version field: its parts in order, and the field whose buffer it fills."""

    parts: tuple[Part, ...]
    field: Field

    def max_group(self) -> int:
        """The highest group number a variable references (0 if none)."""
        return max((p.n for p in self.parts if not isinstance(p, Literal | Invalid)), default=0)

    @property
    def always_fails(self) -> bool:
        return any(isinstance(p, Invalid) for p in self.parts)

    def to_data(self) -> list[Any]:
        """JSON-safe plain data: ``[field key, part, ...]``. See :func:`_part_data`."""
        return [self.field.value, *(_part_data(p) for p in self.parts)]

    @classmethod
    def from_data(cls, data: Any) -> Template:
        """The inverse of :meth:`to_data`; raises ``ValueError`` on anything else."""
        if not isinstance(data, list) or not data:
            raise ValueError(f"template data must be a non-empty list, not {data!r}")
        try:
            field = Field(data[0])
        except ValueError:
            raise ValueError(f"unknown template field {data[0]!r}") from None
        return cls(tuple(_part_from_data(item) for item in data[1:]), field)


# Plain-data form of the parts. Bytes are latin-1 strings (one character per byte).
#   Literal   "text"
#   Group     N (an int)
#   Printable ["P", N]
#   Subst     ["SUBST", N, "find", "repl"]
#   Int       ["I", N, ">" or "<"]
#   Invalid   ["!", "reason"]


def _part_data(part: Part) -> Any:
    match part:
        case Literal(text):
            return text.decode("latin-1")
        case Group(n):
            return n
        case Printable(n):
            return ["P", n]
        case Subst(n, find, repl):
            return ["SUBST", n, find.decode("latin-1"), repl.decode("latin-1")]
        case Int(n, big_endian):
            return ["I", n, ">" if big_endian else "<"]
        case Invalid(reason):
            return ["!", reason]


def _part_from_data(item: Any) -> Part:
    match item:
        case str():
            return Literal(_latin1(item))
        case int() if _number(item):
            return Group(item)
        case ["P", int(n)] if _number(n):
            return Printable(n)
        case ["SUBST", int(n), str(find), str(repl)] if _number(n):
            return Subst(n, _latin1(find), _latin1(repl))
        case ["I", int(n), ">" | "<" as endian] if _number(n):
            return Int(n, endian == ">")
        case ["!", str(reason)]:
            return Invalid(reason)
    raise ValueError(f"not a template part: {item!r}")


def _number(value: int) -> bool:
    return not isinstance(value, bool)


def _latin1(text: str) -> bytes:
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        raise ValueError(f"template text {text!r} has characters above U+00FF") from None


# ---------------------------------------------------------------------------------------------
# Expansion

_WHITESPACE = b" \t\n\v\f\r"  # C isspace() in the C locale
_TRAILING = _WHITESPACE + b","  # stripped from the end of a value
_CPE_RESERVED = b":/?#[]@!$&'()*+,;=%<>\""
_UNPRINTABLE = bytes(b for b in range(256) if not 0x20 <= b <= 0x7E)
_DOTS = bytes(b if 0x20 <= b <= 0x7E else 0x2E for b in range(256))
_CPE_BYTES = tuple(
    b"%%%02X" % b if b in _CPE_RESERVED
    else b"_" if b in _WHITESPACE
    else bytes((b,)).lower()
    for b in range(256)
)
# _CPE_BYTES for a value without reserved bytes, one translate instead of a join over its bytes
_CPE_TABLE = bytes(0x5F if b in _WHITESPACE else bytes((b,)).lower()[0] for b in range(256))


def expand(template: Template, groups: Sequence[bytes | None], ngroups: int) -> bytes | None:
    """The field's value, or ``None`` when Nmap would blank it with a warning.

    ``groups[i]`` holds group i+1 (``None`` if it did not take part in the match); ``ngroups``
    is the pattern's group count. An empty result (``b""``) means the field is simply unset.
    """
    field = template.field
    size = field.size
    cpe = field is Field.CPE
    out = b""  # most templates have one or two parts: bytes concatenation beats a bytearray
    ends_in_literal = False
    for part in template.parts:
        kind = part.__class__
        if kind is Literal:
            text = part.text  # type: ignore[union-attr]  # a Literal
            out += text
            ends_in_literal = ends_in_literal or bool(text)
        else:
            if kind is Group:  # the common case of _substitute, inline
                value = _group(part.n, groups, ngroups)  # type: ignore[union-attr]  # a Group
                if value is not None and b"\0" in value:
                    value = value[: value.index(0)]
            else:
                value = _substitute(part, groups, ngroups)
            if value is None:
                return None
            out += _cpe_text(value) if cpe else value
            ends_in_literal = False
        if len(out) >= size:
            return None
    if len(out) > (size - 1 if ends_in_literal else size - 2):
        return None
    return out.rstrip(_TRAILING).translate(_DOTS)


def _cpe_text(value: bytes) -> bytes:
    """A substitution as a CPE holds it: lower case, whitespace as ``_``, reserved bytes as
    ``%XX``."""
    if len(value.translate(None, _CPE_RESERVED)) == len(value):  # none reserved: one table
        return value.translate(_CPE_TABLE)
    return b"".join(_CPE_BYTES[b] for b in value)


def _substitute(part: Part, groups: Sequence[bytes | None], ngroups: int) -> bytes | None:
    """One variable's text as a C string (cut at its first NUL), or ``None`` if it fails."""
    if isinstance(part, Literal | Invalid):
        return None
    value = _group(part.n, groups, ngroups)
    if value is None:
        return None
    if isinstance(part, Printable):
        return value.translate(None, delete=_UNPRINTABLE)
    if isinstance(part, Subst):
        result = _subst(value, part.find, part.repl)
    elif isinstance(part, Int):
        result = _int(value, part.big_endian)
    else:
        result = value
    return None if result is None else result.split(b"\0", 1)[0]


def _group(n: int, groups: Sequence[bytes | None], ngroups: int) -> bytes | None:
    if not 1 <= n <= 9 or n > ngroups or n > len(groups):
        return None
    return groups[n - 1]


def _subst(value: bytes, find: bytes, repl: bytes) -> bytes | None:
    if not find:
        return b"" if not value else None  # Nmap loops forever here
    return value.replace(find, repl)


def _int(value: bytes, big_endian: bool) -> bytes | None:
    if len(value) > 8:
        return None
    return str(int.from_bytes(value, "big" if big_endian else "little")).encode()


# ---------------------------------------------------------------------------------------------
# CPE slots

_SLOTS = ("a", "h", "o")


def cpe_slot(value: bytes) -> str | None:
    """``a``, ``h`` or ``o`` from the byte after ``cpe:/``; ``None`` for any other part (Nmap
    then ignores the CPE with a warning). Works on a template's text or on an expanded value."""
    if not value.startswith(b"cpe:/"):
        return None
    part = value[5:6].decode("latin-1")
    return part if part in _SLOTS else None


def template_slot(template: Template) -> str | None:
    """The slot of a ``cpe:`` template: Nmap routes a CPE by its text before substitution, so
    ``cpe:/$1…`` has none (and is ignored with a warning at match time)."""
    parts = template.parts
    if len(parts) > 1 and parts[0].__class__ is Literal and parts[1].__class__ is not Literal:
        return cpe_slot(parts[0].text)  # the usual cpe:/a:vendor:product:$1
    head = bytearray()
    for part in template.parts:
        if not isinstance(part, Literal):
            break
        head += part.text
    return cpe_slot(bytes(head))


def merge_cpes(results: Iterable[tuple[str | None, bytes | None]]) -> tuple[bytes, ...]:
    """Nmap's rule for several CPEs: each ``(slot, value)`` in line order overwrites its slot (a
    failed ``None`` value empties it, an unknown ``None`` slot is skipped); empty slots are
    dropped and the rest come out in the order a, h, o."""
    slots: dict[str, bytes] = {}
    for slot, value in results:
        if slot is not None:
            slots[slot] = value or b""
    return tuple(slots[s] for s in _SLOTS if slots.get(s))


def expand_cpes(templates: Iterable[Template], groups: Sequence[bytes | None], ngroups: int) -> tuple[bytes, ...]:
    """Every CPE of a match line, expanded, routed to its slot and merged by :func:`merge_cpes`."""
    results = []
    for template in templates:
        slot = template_slot(template)
        results.append((slot, expand(template, groups, ngroups) if slot else None))
    return merge_cpes(results)
