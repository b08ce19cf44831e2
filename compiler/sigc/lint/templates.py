"""Rules on a line's version fields and the groups they read (SIG510-SIG515).

* ``SIG512`` is an error although Nmap loads such files: 7.93 dies with an assertion failure
  on a response that leaves the group unset (verified, rc 134).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from sigc.analyze import AnalyzedMatch
from sigc.diagnostics import Diagnostic, Severity
from sigc.lint.base import LintRun, MatchRule, parsed, show
from sigc.regex.tree import Backref, Group, GroupKind, Node, Repeat, Tree
from sigscan.bundle.fields import Field
from sigscan.bundle.template import Invalid, Template, template_slot
from sigscan.bundle.template import Literal as TemplateLiteral


class GroupMissing(MatchRule):
    """``$N`` beyond the pattern's groups: Nmap blanks the field on every match."""

    code = "SIG510"
    severity = Severity.WARNING
    summary = "template uses a group the pattern does not have (the field is always empty)"

    def check_match(self, m: AnalyzedMatch, run: LintRun) -> Iterator[Diagnostic]:
        if not parsed(m):
            return
        groups = m.pattern.groups
        for f, (_, template) in zip(m.match.fields, m.templates, strict=True):
            highest = template.max_group()
            if highest > groups:
                yield self.diag(f"{_field_name(f.key)} template uses group {highest} but the pattern has "
                                f"{_groups(groups)}: Nmap blanks this field on every match", f.location)


def _field_name(key: Field) -> str:
    return "cpe:" if key is Field.CPE else f"{key.value}/"


def _groups(n: int) -> str:
    return "no groups" if n == 0 else "1 group" if n == 1 else f"{n} groups"


class GroupUnused(MatchRule):
    """A capturing group that nothing reads: ``(?:…)`` says the same, faster."""

    code = "SIG511"
    severity = Severity.INFO
    summary = "capturing group that no template and no backreference uses"

    def check_match(self, m: AnalyzedMatch, run: LintRun) -> Iterator[Diagnostic]:
        if not parsed(m) or not m.pattern.groups or any(t.always_fails for _, t in m.templates):
            return
        tree = run.tree(m)
        if tree is None:
            return
        used = _template_groups(m) | {n.number for n in _all_nodes(tree) if isinstance(n, Backref)}
        for node in _all_nodes(tree):
            if isinstance(node, Group) and node.kind is GroupKind.CAPTURE and node.index not in used:
                hint = "" if node.index <= 9 else " (templates can only read groups 1-9)"
                yield self.diag(f"group {node.index} is captured but no template or backreference uses it{hint}; "
                                "write (?:…) if it only groups", m.match.pattern_location.shifted(node.offset))


def _template_groups(m: AnalyzedMatch) -> set[int]:
    return {n for _, t in m.templates for n in _parts_groups(t)}


def _all_nodes(tree: Tree) -> Iterator[Node]:
    for branch in tree.branches:
        yield from _walk(branch)


def _walk(nodes: Sequence[Node]) -> Iterator[Node]:
    for node in nodes:
        yield node
        if isinstance(node, Group):
            for branch in node.branches:
                yield from _walk(branch)
        elif isinstance(node, Repeat):
            yield from _walk((node.item,))


class UnsetGroupAborts(MatchRule):
    """7.93 (PCRE1) asserts when a template reads an unset group below a set one."""

    code = "SIG512"
    severity = Severity.ERROR
    summary = "template uses a group that can be unset while a later group is set (Nmap 7.93 aborts)"

    def check_match(self, m: AnalyzedMatch, run: LintRun) -> Iterator[Diagnostic]:
        if not parsed(m) or not m.pattern.groups:
            return
        tree = run.tree(m)
        if tree is None:
            return
        optional = _optional_groups(tree)
        mandatory = [i for i in range(1, tree.groups + 1) if i not in optional]
        for f, (_, template) in zip(m.match.fields, m.templates, strict=True):
            for n in sorted(_parts_groups(template)):
                later = [i for i in mandatory if i > n]
                if n in optional and later:
                    yield self.diag(f"{_field_name(f.key)} uses group {n}, which can be unset while group {later[0]} "
                                    "is always set: Nmap 7.93 dies with an assertion failure on such a response "
                                    "(newer Nmap blanks the field); make the group mandatory or reorder the groups",
                                    f.location)
                    break


def _parts_groups(template: Template) -> set[int]:
    return {p.n for p in template.parts if not isinstance(p, TemplateLiteral | Invalid)}


def _optional_groups(tree: Tree) -> set[int]:
    """Capture groups that need not take part in a match (under ``?``/``*``/``{0,…}``, in one
    alternative of several, or in a lookaround)."""
    optional: set[int] = set()
    _mark_optional(tree.branches, len(tree.branches) > 1, optional)
    return optional


def _mark_optional(branches: Sequence[Sequence[Node]], optional: bool, out: set[int]) -> None:
    for branch in branches:
        for node in branch:
            _mark_node(node, optional, out)


def _mark_node(node: Node, optional: bool, out: set[int]) -> None:
    if isinstance(node, Repeat):
        _mark_node(node.item, optional or node.min == 0, out)
    elif isinstance(node, Group):
        inner = optional or node.kind.is_lookaround or len(node.branches) > 1
        if node.kind is GroupKind.CAPTURE and (optional or node.kind.is_lookaround):
            out.add(node.index)
        _mark_optional(node.branches, inner, out)


class FieldRepeated(MatchRule):
    """A second ``p/`` (``v/``…) on one line replaces the first."""

    code = "SIG513"
    severity = Severity.WARNING
    summary = "version field given twice on one line (the later replaces the earlier)"

    def check_match(self, m: AnalyzedMatch, run: LintRun) -> Iterator[Diagnostic]:
        seen: dict[Field, int] = {}
        for f in m.match.fields:
            if f.key is Field.CPE:
                continue
            if f.key in seen:
                yield self.diag(f"second {f.key.value}/ field on this line: Nmap keeps only this one, the "
                                f"{f.key.value}/ at column {seen[f.key]} is ignored", f.location)
            seen[f.key] = f.location.col


class CpeSlotRepeated(MatchRule):
    """Nmap keeps one CPE per part (a, h, o): a later one for the same part overwrites."""

    code = "SIG514"
    severity = Severity.INFO
    summary = "two CPEs for the same part on one line (Nmap reports only the later)"

    def check_match(self, m: AnalyzedMatch, run: LintRun) -> Iterator[Diagnostic]:
        seen: dict[str, bytes] = {}
        for f, (_, template) in zip(m.match.fields, m.templates, strict=True):
            if f.key is not Field.CPE:
                continue
            slot = template_slot(template)
            if slot is None:
                continue
            if slot in seen:
                yield self.diag(f"second cpe:/{slot}: on this line: Nmap keeps one CPE per part, so "
                                f"cpe:/{show(seen[slot])} is replaced by cpe:/{show(f.text)}", f.location)
            seen[slot] = f.text


class CpeTooShort(MatchRule):
    """A CPE needs at least part, vendor and product (``cpe:/a:vendor:product``)."""

    code = "SIG515"
    severity = Severity.INFO
    summary = "CPE without a product (fewer than 3 components)"

    def check_match(self, m: AnalyzedMatch, run: LintRun) -> Iterator[Diagnostic]:
        for f in m.match.fields:
            if f.key is not Field.CPE or b"$" in f.text:
                continue
            parts = f.text.split(b":")
            if len(parts) < 3 or not parts[2]:
                yield self.diag(f"cpe:/{show(f.text)} has no product: a CPE names at least "
                                "part:vendor:product (cpe:/a:apache:http_server)", f.location)
