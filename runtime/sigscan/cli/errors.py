"""What ends a ``sigscan`` command early, shared by :mod:`.commands` and :mod:`.scan`."""


class Usage(Exception):
    """A problem with what the user asked; printed as one line, exit status 2."""


class Terminated(Exception):
    """SIGTERM arrived (``timeout``, a service manager): the command stops as after Ctrl-C,
    with what finished written and every file put in place or left as it was."""
