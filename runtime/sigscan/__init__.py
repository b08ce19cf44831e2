"""sigscan: the lean runtime that loads a sigc bundle and identifies services."""

__version__ = "0.1.0"
