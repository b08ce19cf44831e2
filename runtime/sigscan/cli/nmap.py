"""``sigscan-nmap``: ``sigscan scan`` under Nmap's own command line, with no subcommand, so that
a program that runs ``nmap`` can run sigscan instead.

``sigscan-nmap -oX - -p 22-443 -sV 127.0.0.1`` (what python-nmap's ``PortScanner.scan`` runs),
``sigscan-nmap -oX - -vvv --stats-every 1s -sV -Pn -n -T4 127.0.0.1`` (python-libnmap's
``NmapProcess``) and ``sigscan-nmap -V`` (python-nmap reads the version from the line in
``nmap -V``'s form) are ``sigscan scan`` with the same arguments: every option of the table in
docs/scan.md has Nmap's spelling there, targets may come before or after the options, and an
Nmap option sigscan does not implement is refused with one line naming it (exit status 2).
``-sV`` is implied: sigscan always detects versions. The bundle is found as ``sigscan scan``
finds it (``$SIGSCAN_BUNDLE``, ``./build/signatures.db``, the user data folder). Outputs record
the command line as ``sigscan-nmap …``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from sigscan.cli.commands import main as sigscan_main

PROG = "sigscan-nmap"


def main(argv: Sequence[str] | None = None) -> int:
    given = list(sys.argv[1:] if argv is None else argv)
    return sigscan_main(["scan", *given], shown_as=[PROG, *given])


if __name__ == "__main__":
    sys.exit(main())
