"""An import policy evaluated once per UPDATE when it does not look at the prefix.

Every path of one UPDATE has the same attributes, source and family (RFC 4271 §4.3:
the path attributes apply to every NLRI of the message).  An import policy whose
outcome does not depend on the prefix (:func:`~bgpemu.policy.base.sensitive_prefixes`)
therefore treats them all alike: :class:`SharedImport` runs it on the first path and
gives the others the same outcome, rebased on their own prefix, path id and arrival
number.  Besides the time saved, the accepted paths then share one attributes object,
which is what lets the router share its export results too
(:meth:`Exporter.attributes <bgpemu.router.exporter.Exporter.attributes>`).
"""

from __future__ import annotations

from bgpemu.policy.base import Policy, PolicyContext
from bgpemu.rib.path import Path

__all__ = ["SharedImport"]


class SharedImport:
    """``policy`` over the paths of one UPDATE, run once outside ``scope``.

    ``scope`` is the policy's :func:`~bgpemu.policy.base.sensitive_prefixes`: None runs
    it on every path; otherwise it runs on the first path whose prefix is outside the
    set and on every path whose prefix is in it.  Use one instance per UPDATE (one
    attributes object, source and family).
    """

    __slots__ = ("_done", "_policy", "_post", "_pre", "_scope")

    def __init__(self, policy: Policy, scope: frozenset[str] | None) -> None:
        self._policy = policy
        self._scope = scope
        self._done = False
        self._pre: Path | None = None
        self._post: Path | None = None

    def __call__(self, pre: Path, context: PolicyContext) -> Path | None:
        """What the policy makes of ``pre`` (None: rejected)."""
        scope = self._scope
        if scope is None or (scope and pre.prefix in scope):
            return self._policy(pre, context)
        if not self._done:
            self._done = True
            self._pre = pre
            self._post = self._policy(pre, context)
            return self._post
        post = self._post
        if post is None:
            return None
        if post is self._pre:
            return pre  # accepted unchanged
        return post.but(prefix=pre.prefix, path_id=pre.path_id, arrival=pre.arrival)
