"""``python -m docstack``: the ``docstack`` command (see :mod:`docstack.cli`)."""

import sys

from docstack.cli import main

if __name__ == "__main__":
    sys.exit(main())
