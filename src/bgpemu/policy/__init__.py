"""Composable import and export policies (L4)."""

from bgpemu.policy.base import Direction, Policy, PolicyContext

__all__ = ["Direction", "Policy", "PolicyContext"]
