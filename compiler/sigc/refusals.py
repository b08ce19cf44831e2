"""Every way Nmap 7.93 refuses a probe file, with the code sigc reports for it, and what sigc
refuses that Nmap loads, with why: as examples, each a small file.

docs/diagnostics.md shows them (:func:`markdown`), and tests/compiler/test_nmap_refusals.py runs
each example through the real Nmap and through sigc, so that the table stays true. The Nmap
messages are the fixed part of what ``service_scan.cc``, ``scan_lists.cc`` (Exclude's
``getpts``) and PCRE1 8.39 print; each example was found by reading those sources and trying
the file on ``nmap --versiondb``.
"""

from __future__ import annotations

from dataclasses import dataclass

PROBE = b"Probe TCP P q|x|\n"  # the probe an example line belongs to, unless it says otherwise
NULL = b"Probe TCP NULL q||\n"
LOADS = "loads"  # Nmap's verdict for what sigc refuses and Nmap loads
UNUSABLE = "exit 2"  # sigc's verdict for input it cannot use at all


@dataclass(frozen=True, slots=True)
class Example:
    """A small probe file, what Nmap 7.93 says to it and the code sigc reports (an error)."""

    nmap: str  # the fixed part of Nmap's message, or LOADS
    code: str  # a SIGnnn error, or UNUSABLE
    line: bytes  # the line that does it, shown in the table
    before: bytes = PROBE  # the lines before it
    after: bytes = b"\n"  # what follows it: its newline, and any lines after
    why: str = ""  # why sigc refuses what Nmap loads, or what to know about the row
    shown: str = ""  # how the table shows ``line``, when the bytes do not show well

    @property
    def file(self) -> bytes:
        return self.before + self.line + self.after


_E = Example
_FALLBACKS_18 = b"fallback " + b",".join([b"P"] * 18)
_LONG = b"match long m|^" + b"a" * 2100 + b"|"
_LONG_COMMENT = b"#" + b"c" * 2046 + b"# the rest of the comment, read by 7.93 as a line of its own"

REFUSALS: tuple[Example, ...] = (
    # -- the file, line by line (parse_nmap_service_probe_file)
    _E("line was expected to begin with \"Probe \" or \"Exclude \"", "SIG103", b"match svc m|^a|", before=b"",
       after=b"\n" + PROBE),
    _E("line was expected to begin with \"Probe \" or \"Exclude \"", "SIG101", b"  ", before=b"", after=b"\n" + PROBE),
    _E("unknown directive", "SIG102", b"Match svc m|^a|"),
    _E("unknown directive", "SIG101", b"  # an indented comment"),
    _E("unknown directive", "SIG100", b"ports\t80", why="the keyword's one space is missing"),
    _E("Only 1 Exclude directive is allowed", "SIG104", b"Exclude 2", before=b"Exclude 1\n", after=b"\n" + PROBE),
    _E("The Exclude directive must precede all Probes", "SIG104", b"Exclude 80"),
    _E("!AP->nullProbe' failed", "SIG114", b"Probe TCP Other q||", before=NULL,
       why="a second probe with an empty string: Nmap aborts (exit 134)"),
    _E("bad totalwaitms value", "SIG112", b"totalwaitms 99"),
    _E("bad tcpwrappedms value", "SIG112", b"tcpwrappedms 300001"),
    _E("next_template: parse error", "SIG115", _LONG, shown=f"match long m|^aaaa…| ({len(_LONG):,} bytes)",
       why="7.93 reads 2,047 bytes of a line at a time and parses the rest as a line of its own"),
    _E("next_template: parse error", "SIG123", b"match svc m|^a\0b| p/x/", shown="match svc m|^a⟨NUL⟩b| p/x/",
       why="C strings: Nmap reads a line only up to its first NUL byte"),
    _E("unknown directive", "SIG123", b"\0match svc m|^a|", shown="⟨NUL⟩match svc m|^a|"),
    _E("no ending delimiter for probe string", "SIG123", b"Probe TCP Q q|GET\0|", shown="Probe TCP Q q|GET⟨NUL⟩|"),
    # -- Probe lines (setProbeDetails)
    _E("no arguments found", "SIG105", b"Probe ", after=b"", why="the last line, without its newline"),
    _E("invalid protocol", "SIG105", b"Probe tcp Lower q|a|"),
    _E("bad probe name", "SIG106", b"Probe TCP _Name q|a|"),
    _E("bad probe name", "SIG106", b"Probe TCP  Name q|a|", why="two spaces: the name starts with the second"),
    _E("nothing after probe name", "SIG100", b"Probe TCP NoString"),
    _E("probe string must begin with 'q'", "SIG100", b"Probe TCP Quote Q|a|"),
    _E("no ending delimiter for probe string", "SIG100", b"Probe TCP Open q|GET / HTTP/1.0"),
    _E("bad probe string escaping", "SIG301", b"Probe TCP Esc q|\\1|"),
    _E("bad probe string escaping", "SIG302", b"Probe TCP Hex q|\\x4|"),
    # -- ports, sslports, rarity (setPortVector, setRarity)
    _E("Ports must be between 0 and 65535 inclusive", "SIG110", b"ports 70000"),
    _E("Ports must be between 0 and 65535 inclusive", "SIG110", b"sslports 82-80"),
    _E("An example of proper portlist form", "SIG110", b"ports 80 - 82"),
    _E("An example of proper portlist form", "SIG110", b"ports "),
    _E("must be between 1 and 9", "SIG111", b"rarity 0"),
    _E("must be between 1 and 9", "SIG111", b"rarity "),
    # -- match and softmatch lines (InitMatch, next_template, PCRE1)
    _E("could not find service name", "SIG100", b"match svc"),
    _E("InitMatch: parse error", "SIG100", b"match svc "),
    _E("next_template: parse error", "SIG100", b"match svc m|^unterminated"),
    _E("next_template: parse error", "SIG107", b"match  svc m|^a|", why="two spaces: the service name is empty"),
    _E("next_template: parse error", "SIG116", b"match svc m:^a:", why="7.93 reads letters and ':' as a template name"),
    _E("next_template: parse error", "SIG116", b"match svc m|^a| p:x:"),
    _E("next_template: parse error", "SIG116", b"match svc m|^a| cpe:a:b:c:", why="the name runs to the end"),
    _E("Unknown template specifier 'p:'", "SIG116", b"match svc m|^a| p:/x/"),
    _E("matchtext must begin with 'm'", "SIG100", b"match svc p/x/"),
    _E("illegal regexp option", "SIG108", b"match svc m|^a|x"),
    _E("illegal regexp option", "SIG108", b"match svc m|^a|p/x/", why="'p' is read as the pattern's flag"),
    _E("Unknown template specifier 'q'", "SIG109", b"match svc m|^a| q/x/"),
    _E("Unknown template specifier ''", "SIG109", b"match svc m|^a| p/x/v/y/", why="'v' is read as p's flag"),
    _E("illegal regexp", "SIG201", b"match svc m|^(a|", why="any PCRE1 syntax error"),
    _E("reference to non-existent subpattern", "SIG201", b"match svc m|^(a)\\2|"),
    _E("lookbehind assertion is not fixed length", "SIG207", b"match svc m|^a(?<=a+)|"),
    _E("regular expression is too large", "SIG208", b"match svc m|^(?:(?:a{1000}){1000}){1000}|"),
    _E("parentheses are too deeply nested", "SIG209", b"match svc m|" + b"(" * 251 + b")" * 251 + b"|",
       shown="match svc m|((((…))))| (251 levels)"),
    _E("regular expression is too complicated", "SIG209", b"match svc m|" + b"(?:[ab]" * 111 + b")" * 111 + b"|",
       shown="match svc m|(?:[ab](?:[ab]…))| (111 levels)"),
    _E("recursive call could loop indefinitely", "SIG202", b"match svc m|^(?R)|",
       why="sigc translates no recursion, subroutine call, callout or verb, and does not check them further"),
    # -- fallback (compileFallbacks)
    _E("Unknown fallback specified", "SIG401", b"fallback Nowhere"),
    _E("Unknown fallback specified", "SIG534", b"fallback NULL", before=NULL + b"Probe UDP U q|u|\n",
       why="NULL is a TCP probe"),
    _E("MAXFALLBACKS exceeded", "SIG113", _FALLBACKS_18, shown="fallback P,P,…,P (18 names)"),
    # -- Exclude (getpts)
    _E("Unknown protocol specifier", "SIG117", b"Exclude X:80", before=b"", after=b"\n" + PROBE),
    _E("Ports specified must be between 0 and 65535 inclusive", "SIG117", b"Exclude 70000", before=b"",
       after=b"\n" + PROBE),
    _E("Protocols specified must be between 0 and 255 inclusive", "SIG117", b"Exclude P:300", before=b"",
       after=b"\n" + PROBE),
    _E("Error #485: Your port specifications are illegal", "SIG117", b"Exclude ,", before=b"", after=b"\n" + PROBE),
    _E("Error #486: Your port specifications are illegal", "SIG117", b"Exclude 80-", before=b"", after=b"\n" + PROBE,
       why="the line's newline is read after the '-'"),
    _E("Error #487: Your port specifications are illegal", "SIG117", b"Exclude 80x", before=b"", after=b"\n" + PROBE),
    _E("Error #488: Your port specifications are illegal", "SIG117", b"Exclude 80-81x", before=b"",
       after=b"\n" + PROBE),
    _E("is backwards", "SIG117", b"Exclude 81-80", before=b"", after=b"\n" + PROBE),
    _E("Unexpected ] character", "SIG117", b"Exclude 80]", before=b"", after=b"\n" + PROBE),
    _E("Can't nest [] brackets", "SIG117", b"Exclude [[80]]", before=b"", after=b"\n" + PROBE),
    _E("service mask in the port/protocol specification is either malformed or too long", "SIG117",
       b"Exclude " + b"s" * 130, before=b"", after=b"\n" + PROBE, shown="Exclude sss…s (130 letters)"),
    _E("Found no matches for the service mask", "SIG117", b"Exclude xyzzy", before=b"", after=b"\n" + PROBE,
       why="checked against the nmap-services beside the probe file, when there is one"),
)

STRICTER: tuple[Example, ...] = (
    _E(LOADS, "SIG123", b"match svc m|^a| p/x/\0 i/lost/", shown="match svc m|^a| p/x/⟨NUL⟩ i/lost/",
       why="Nmap drops what follows the NUL without a word: the line does not mean what it shows"),
    _E(LOADS, "SIG115", _LONG_COMMENT, shown=f"#ccc…c# … (a comment of {len(_LONG_COMMENT):,} bytes)",
       why="7.93 parses each 2,047-byte piece as a line (here, by chance, a comment); newer Nmap reads the line "
           "whole: the two read different files"),
    _E(LOADS, "SIG303", b"Probe TCP Slash q|a\\|",
       why="7.93 reads past the end of the string (a bug); newer Nmap refuses it"),
    _E(LOADS, "SIG404", PROBE.rstrip(b"\n"), before=PROBE,
       why="a fallback or an extension in another file would reach only the first; sigc keys probes by name"),
    _E(LOADS, "SIG512", b"match svc m|^(X)?(\\w+)| p/$1/ i/$2/",
       why="7.93 aborts on a response that leaves group 1 unset and group 2 set (exit 134)"),
    _E(LOADS, "SIG314", b"match svc m|^(\\w+)| p/$SUBST(1,\"\",\"_\")/",
       why="Nmap loops forever when the line matches"),
    _E(LOADS, "SIG202", b"match svc m|^(?i)a|",
       why="inline options, named groups, recursion, conditionals, \\K, verbs: no faithful translation for the regex "
           "module"),
    _E(LOADS, "SIG209", b"match svc m|" + b"(" * 101 + b")" * 101 + b"|", shown="match svc m|((((…))))| (101 levels)",
       why="sigc parses at most 100 levels of groups; the real files use 3"),
    _E(LOADS, "SIG210", b"match svc m|^(?:a{1000}){6552}|",
       why="regex.compile would take seconds (minutes, or all the memory, for slightly larger ones)"),
    _E(LOADS, "SIG117", b"Exclude [80],81", before=b"", after=b"\n" + PROBE,
       why="ports named in nmap-services: sigc does not take brackets"),
    _E(LOADS, UNUSABLE, b"", before=b"", after=b"",
       why="an empty file, or one with only comments: Nmap detects nothing with it; a bundle of it would replace a "
           "working one"),
)

# What Nmap refuses and sigc takes: said in words, each a choice sigc makes knowingly.
GAPS = (
    "An Exclude service name matches only ports of protocols this scan does not look at (`Exclude snmp` and "
    "`nmap -sT`): Nmap refuses it, sigc cannot know the scan and checks the name against every protocol.",
    "An Exclude service name when no nmap-services is beside the probe file (`sigc lint signatures/`): sigc "
    "cannot check it.",
    "`pcre_study` fails (\"failed to pcre_study regexp\"): only when memory runs out.",
)


def _show(example: Example) -> str:
    """The example line as the table shows it: other bytes than printable ASCII as ⟨xHH⟩, and
    the spaces a reader could not see (leading, trailing, a second one) as ␠."""
    if example.shown:
        return example.shown
    if not example.line:
        return "(empty file)"
    text = "".join(c if " " <= c <= "~" else f"⟨x{ord(c):02x}⟩" for c in example.line.decode("latin-1"))
    body = text.strip(" ")
    lead = len(text) - len(text.lstrip(" "))
    trail = len(text) - len(text.rstrip(" ")) if body else 0
    return "␠" * lead + body.replace("  ", " ␠") + "␠" * trail


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def markdown() -> list[str]:
    """The two tables of docs/diagnostics.md, and the gaps, as lines."""
    rows = [
        "",
        "## Nmap's refusals and ours",
        "",
        "Every way Nmap 7.93 refuses a probe file (stops with a fatal error while loading it), with a line that",
        "does it and the error sigc reports. tests/compiler/test_nmap_refusals.py runs each line through Nmap and",
        "sigc. ⟨NUL⟩ stands for a raw NUL byte.",
        "",
        "| Nmap 7.93 says | for example | sigc | note |",
        "|---|---|---|---|",
    ]
    rows += [f"| {_cell(e.nmap)} | `{_cell(_show(e))}` | {e.code} | {_cell(e.why)} |" for e in REFUSALS]
    rows += [
        "",
        "## What sigc refuses and Nmap 7.93 loads",
        "",
        "| sigc | for example | why |",
        "|---|---|---|",
    ]
    rows += [f"| {e.code} | `{_cell(_show(e))}` | {_cell(e.why)} |" for e in STRICTER]
    rows += ["", "## What Nmap 7.93 refuses and sigc takes", ""]
    rows += [f"- {gap}" for gap in GAPS]
    return rows
