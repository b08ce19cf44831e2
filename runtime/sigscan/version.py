"""The version of sigscan, and of sigc, which requires the same sigscan: the one place it is
written (the three pyproject.toml files read it here). A module of its own so that any layer,
and the compiler, can name it without importing the public API."""

__version__ = "0.1.0"
