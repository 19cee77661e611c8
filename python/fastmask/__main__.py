"""``python -m fastmask``: the same as the ``fastmask`` command."""

import sys

from fastmask.cli import main

sys.exit(main())
