"""The ``sigscan`` command line: ``identify``, ``explain`` and the others in :mod:`.main`, and
``scan`` in :mod:`.scan`."""

from sigscan.cli.commands import main

__all__ = ["main"]
