"""CPE 2.2 URIs as CPE 2.3 formatted strings (sigscan.output.cpe), by NISTIR 7695's binding
rules: the specification's own examples, the URIs Nmap's CPEs break the rules with, and every
CPE template of the real Nmap databases, filled as a match fills it, converted and taken back."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sigscan.bundle.loader import open_bundle
from sigscan.bundle.template import Literal, Template, expand
from sigscan.output.cpe import ANY, NA, bind_fs, bind_uri, to_23, unbind_fs, unbind_uri

# The formatted-string pattern of the CPE 2.3 dictionary schema (cpe-naming_2.3.xsd's
# cpe23Type), every attribute read as a value string: Nmap's database puts values that are not
# language tags in the language attribute (``pt_br``, a substitution).
_AVSTRING = (r"""(((\?*|\*?)([a-zA-Z0-9\-._]|(\\[\\*?!"#$%&'()+,/:;<=>@\[\]^`{|}~]))+(\?*|\*?))"""
             r"|[*\-])")
FORMATTED = re.compile(rf"cpe:2\.3:[aho*\-](:{_AVSTRING}){{10}}")
# A CPE 2.2 URI already in the form bind_uri writes: lower case, only the characters the 2.2
# grammar allows, a character percent-encoded only when it must be, no packed edition, no
# trailing empty component.
CANONICAL_URI = re.compile(r"cpe:/[aho](:([a-z0-9._\-]|%(2[1-9a-cf]|3[a-f]|40|5[b-e]|60|7[b-d]))*)*"
                           r"(?<!:)")
# What a capture group may hold, filled in as a match fills it (lower-cased, whitespace to
# ``_``, Nmap's reserved characters as %XX): a plain version, every reserved character, a
# value that starts as a packed edition does, and nothing (the one template too long to fill
# with anything more, 7.93's line 8433).
CAPTURES = (b"2.4.57", b"1.0 Beta/x86:*?", b"%&!#[]@~", b"$'()+,;=<>\"", b"~x", b"")


def wfn(*values: object) -> tuple[object, ...]:
    """A WFN from its first attributes, the rest ANY."""
    return (*values, *([ANY] * (11 - len(values))))


# --------------------------------------------------------------------------------------------
# NISTIR 7695's examples (§6.1.3.3 unbinding URIs, §6.2.2.3 binding formatted strings)


@pytest.mark.parametrize(("uri", "name", "formatted"), [
    ("cpe:/a:microsoft:internet_explorer:8.0.6001:beta",
     wfn("a", "microsoft", "internet_explorer", "8\\.0\\.6001", "beta"),
     "cpe:2.3:a:microsoft:internet_explorer:8.0.6001:beta:*:*:*:*:*:*"),
    ("cpe:/a:microsoft:internet_explorer:8.%2a:sp%3f",  # quoted: not wildcards
     wfn("a", "microsoft", "internet_explorer", "8\\.\\*", "sp\\?"),
     "cpe:2.3:a:microsoft:internet_explorer:8.\\*:sp\\?:*:*:*:*:*:*"),
    ("cpe:/a:microsoft:internet_explorer:8.%02:sp%01",  # the wildcards
     wfn("a", "microsoft", "internet_explorer", "8\\.*", "sp?"),
     "cpe:2.3:a:microsoft:internet_explorer:8.*:sp?:*:*:*:*:*:*"),
    ("cpe:/a:hp:insight_diagnostics:7.4.0.1570::~~online~win2003~x64~",  # a packed edition
     ("a", "hp", "insight_diagnostics", "7\\.4\\.0\\.1570", ANY, ANY, ANY, "online", "win2003",
      "x64", ANY),
     "cpe:2.3:a:hp:insight_diagnostics:7.4.0.1570:*:*:*:online:win2003:x64:*"),
    ("cpe:/a:hp:openview_network_manager:7.51:-:~~~linux~~",
     ("a", "hp", "openview_network_manager", "7\\.51", NA, ANY, ANY, ANY, "linux", ANY, ANY),
     "cpe:2.3:a:hp:openview_network_manager:7.51:-:*:*:*:linux:*:*"),
    ("cpe:/a:foo%5cbar:big%24money_manager_2010:::~~special~ipod_touch~80gb~",
     ("a", "foo\\\\bar", "big\\$money_manager_2010", ANY, ANY, ANY, ANY, "special",
      "ipod_touch", "80gb", ANY),
     "cpe:2.3:a:foo\\\\bar:big\\$money_manager_2010:*:*:*:*:special:ipod_touch:80gb:*"),
    ("cpe:/a:foo~bar:big%7emoney_2010",  # a tilde outside the edition is a character
     wfn("a", "foo\\~bar", "big\\~money_2010"),
     "cpe:2.3:a:foo\\~bar:big\\~money_2010:*:*:*:*:*:*:*:*"),
])
def test_the_specifications_examples(uri: str, name: tuple[object, ...], formatted: str) -> None:
    assert unbind_uri(uri) == name
    assert bind_fs(name) == formatted == to_23(uri)
    assert unbind_fs(formatted) == name
    assert bind_uri(name) == uri.replace("foo~bar", "foo%7ebar")  # a quoted ~ is %7e in a URI


# --------------------------------------------------------------------------------------------
# What Nmap's CPEs hold that a 2.2 URI may not (the module reads on where the spec stops)


@pytest.mark.parametrize(("uri", "formatted"), [
    ("cpe:/o:linux:linux_kernel", "cpe:2.3:o:linux:linux_kernel:*:*:*:*:*:*:*:*"),
    ("cpe:/a:Test:Prod Uct:foo_bar%21",  # nmap-semantics §11 case 1: case, a space, %XX
     "cpe:2.3:a:test:prod_uct:foo_bar\\!:*:*:*:*:*:*:*"),
    ("cpe:/a:busybox:busybox:0.61 - 1.00-pre7",  # 7.93's literal text with spaces
     "cpe:2.3:a:busybox:busybox:0.61_-_1.00-pre7:*:*:*:*:*:*:*"),
    ("cpe:/h:siemens:315-2pn/dp", "cpe:2.3:h:siemens:315-2pn\\/dp:*:*:*:*:*:*:*:*"),
    ("cpe:/h:d-link:dp-301p%2d", "cpe:2.3:h:d-link:dp-301p-:*:*:*:*:*:*:*:*"),
    ("cpe:/h:ubnt:aircam:", "cpe:2.3:h:ubnt:aircam:*:*:*:*:*:*:*:*"),
    ("cpe:/a:nevigo:articy%3Adraft", "cpe:2.3:a:nevigo:articy\\:draft:*:*:*:*:*:*:*:*"),
    ("cpe:/h:barracudanetworks:spam_%26_virus_firewall_600:-",
     "cpe:2.3:h:barracudanetworks:spam_\\&_virus_firewall_600:-:*:*:*:*:*:*:*"),
    ("cpe:/a:ibm:websphere_application_server:8.5:-:liberty_profile",
     "cpe:2.3:a:ibm:websphere_application_server:8.5:-:liberty_profile:*:*:*:*:*"),
    ("cpe:/a:i2p_project:i2p::::pt_br", "cpe:2.3:a:i2p_project:i2p:*:*:*:pt_br:*:*:*:*"),
    ("cpe:/a:x:y:1%2", "cpe:2.3:a:x:y:1\\%2:*:*:*:*:*:*:*"),  # a % without two hex digits
    ("cpe:/a:x:y:1%00", "cpe:2.3:a:x:y:1\\%00:*:*:*:*:*:*:*"),  # encodes no printable character
    ("cpe:/a:x:y:1.%02.2", "cpe:2.3:a:x:y:1.\\*.2:*:*:*:*:*:*:*"),  # %02 inside: a literal *
    ("cpe:/a:x:y:%01%01ab%01", "cpe:2.3:a:x:y:??ab?:*:*:*:*:*:*:*"),  # runs at either end
    ("cpe:/a:x:y:a%01%01b", "cpe:2.3:a:x:y:a\\?\\?b:*:*:*:*:*:*:*"),
    ("cpe:/a:x:y:1::~x", "cpe:2.3:a:x:y:1:*:\\~x:*:*:*:*:*"),  # not five fields: not packed
])
def test_what_nmap_writes_beyond_the_uri_grammar(uri: str, formatted: str) -> None:
    assert to_23(uri) == formatted
    assert FORMATTED.fullmatch(formatted)
    name = unbind_uri(uri)
    assert name is not None and unbind_fs(formatted) == name and unbind_uri(bind_uri(name)) == name


@pytest.mark.parametrize("uri", [
    "cpe:2.3:a:x:y:1:*:*:*:*:*:*:*",  # already 2.3
    "cpe:/x:vendor:product",  # Nmap ignores parts other than a, h and o
    "cpe:/:vendor:product",
    "cpe:/a:v:p:1:2:3:4:5",  # eight components
    "cpe:/a:v:caf\u00e9",  # not ASCII
    "cpe:/a:v:p\t1",
    "",
])
def test_no_reading_is_none(uri: str) -> None:
    assert unbind_uri(uri) is None and to_23(uri) is None


@pytest.mark.parametrize("formatted", [
    "cpe:/a:x:y", "cpe:2.3:a:x:y:*:*:*:*:*:*:*",  # ten attributes
    "cpe:2.3:a:x:y:1*2:*:*:*:*:*:*:*", "cpe:2.3:a:x:y:1?2:*:*:*:*:*:*:*",  # wildcards inside
])
def test_unbinding_a_bad_formatted_string_is_none(formatted: str) -> None:
    assert unbind_fs(formatted) is None


# --------------------------------------------------------------------------------------------
# Every CPE of the real databases


def filled_cpes(bundle_path: Path) -> tuple[set[str], int, int]:
    """Every CPE the database's templates give: each plain template as it is, each template
    with a variable filled from every one of CAPTURES (as a match's groups fill it); how many
    templates there were, and how many gave a CPE."""
    found: set[str] = set()
    templates = filled = 0
    with open_bundle(bundle_path) as bundle:
        for record in bundle.all_matches():
            for data in (record.templates or {}).get("cpe", ()):
                template = Template.from_data(data)
                templates += 1
                plain = all(isinstance(part, Literal) for part in template.parts)
                values = [expand(template, [capture] * 9, 9)
                          for capture in (CAPTURES[:1] if plain else CAPTURES)]
                found.update(v.decode("ascii") for v in values if v)
                filled += any(values)
    return found, templates, filled


@pytest.mark.slow
@pytest.mark.parametrize("name", ["7.93", "head"])
def test_every_cpe_of_the_real_database_converts_and_comes_back(
        name: str, built: dict[tuple[str, str], Path]) -> None:
    cpes, templates, filled = filled_cpes(built[(name, "db")])
    assert templates > 8000 and filled == templates and len(cpes) > 5000
    canonical = 0
    for uri in sorted(cpes):
        name_ = unbind_uri(uri)
        assert name_ is not None, uri
        formatted = bind_fs(name_)
        assert FORMATTED.fullmatch(formatted), (uri, formatted)
        assert unbind_fs(formatted) == name_, (uri, formatted)
        back = bind_uri(name_)
        assert unbind_uri(back) == name_, (uri, back)
        if CANONICAL_URI.fullmatch(uri.lower()):
            canonical += 1
            assert back == uri.lower(), uri
    assert canonical > len(cpes) // 2
