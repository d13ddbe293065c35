"""The one error the testing API raises for bad input (shared with the lab's control commands)."""

from __future__ import annotations

from bgpemu.lab.errors import LabInputError

__all__ = ["LabInputError"]
