"""``python -m bgpemu`` runs the command line."""

import sys

from bgpemu.cli import main

sys.exit(main())
