"""``python -m bgpemu.mqttbroker``: the embedded broker as a program (:mod:`.standalone`)."""

from __future__ import annotations

import sys

from bgpemu.mqttbroker.standalone import main

if __name__ == "__main__":
    sys.exit(main())
