"""``python -m sigscan``: the same as the ``sigscan`` command."""

import sys

from sigscan.cli import main

sys.exit(main())
