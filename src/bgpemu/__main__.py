"""``python -m bgpemu``: the ``bgpemu`` command."""

import sys

from bgpemu.cli import main

if __name__ == "__main__":
    sys.exit(main())
