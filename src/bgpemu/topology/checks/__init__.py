"""Semantic checks of a topology, run after the schema on whatever passed it.

Each module checks one family of rules and yields :class:`Issue` values (dotted path,
reason, hint); :func:`run_checks` runs them all so every problem is reported at once.
"""

from __future__ import annotations

from bgpemu.topology.checks._index import Index, Issue
from bgpemu.topology.checks.addressing import check_addressing
from bgpemu.topology.checks.asns import check_asns, is_reserved
from bgpemu.topology.checks.firewall import check_firewalls
from bgpemu.topology.checks.gateways import check_gateways
from bgpemu.topology.checks.naming import check_names, check_references
from bgpemu.topology.checks.security import check_security
from bgpemu.topology.checks.vwan import check_vwan

__all__ = ["Index", "Issue", "is_reserved", "run_checks"]


def run_checks(index: Index, explicit_names: dict[int, str]) -> list[Issue]:
    """Every semantic rule, in a fixed order: names, references, addressing, ASNs,
    gateways, Virtual WAN, NSGs and interfaces, firewalls."""
    issues: list[Issue] = []
    issues.extend(check_names(index, explicit_names))
    issues.extend(check_references(index))
    issues.extend(check_addressing(index))
    issues.extend(check_asns(index))
    issues.extend(check_gateways(index))
    issues.extend(check_vwan(index))
    issues.extend(check_security(index))
    issues.extend(check_firewalls(index))
    return issues
