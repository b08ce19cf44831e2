"""``python -m sigc``: the same as the ``sigc`` command."""

import sys

from sigc.cli import main

sys.exit(main())
