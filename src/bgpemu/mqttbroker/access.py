"""Who may connect and who may publish where (pure).

Theory of operation
-------------------
Without ``users`` the broker authenticates nobody: any user name and password is
accepted, every client may publish anywhere.  With ``users`` (user name -> password), a
CONNECT that carries a user name must carry that user's password, else CONNACK refuses it
(3.1.1 §3.2.2.3 return code 4 "bad user name or password", 5.0 reason code 0x86); a
CONNECT without a user name is an anonymous client, accepted unless
``allow_anonymous`` is off (code 5 / 0x87 "not authorised").

Authenticated clients may publish anywhere.  Anonymous clients may subscribe to
everything but may not publish on a topic matched by one of the ``protected`` filters
(``bgpemu/v1/#`` for a lab's embedded broker: neither control commands nor forged
tables), nor leave a will there.  What the broker does with a refused PUBLISH is in
:mod:`.handlers` (3.1.1 has no way to say no: it is acknowledged and dropped; 5.0 gets
PUBACK/PUBREC 0x87).  Passwords are compared in constant time (:func:`hmac.compare_digest`).
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping, Sequence

from bgpemu.mqttbroker.topics import filter_problem, matches

__all__ = ["Access"]


class Access:
    """The broker's authentication and publish rules (see the module docstring)."""

    def __init__(
        self,
        users: Mapping[str, str] | None = None,
        protected: Sequence[str] = (),
        *,
        allow_anonymous: bool = True,
    ) -> None:
        for topic_filter in protected:
            problem = filter_problem(topic_filter)
            if problem is not None:
                raise ValueError(f"protected topic filter: {problem}")
        if protected and users is None:
            raise ValueError("protected topics need users who may publish there")
        self.users = None if users is None else {name: pw.encode() for name, pw in users.items()}
        self.protected = tuple(protected)
        self.allow_anonymous = allow_anonymous

    @property
    def enabled(self) -> bool:
        """Whether credentials are checked at all."""
        return self.users is not None

    def authenticate(self, username: str | None, password: bytes | None) -> str | None:
        """None when a CONNECT with these credentials is accepted; else why not:
        ``"bad user name or password"`` or ``"not authorised"`` (anonymous refused)."""
        if self.users is None:
            return None
        if username is None:
            return None if self.allow_anonymous else "not authorised"
        expected = self.users.get(username)
        # compare even for an unknown user, so that timing does not tell users apart
        given = password or b""
        same = hmac.compare_digest(given, expected if expected is not None else b"\0" + given)
        return None if same and expected is not None else "bad user name or password"

    def may_publish(self, user: str | None, topic: str) -> bool:
        """Whether ``user`` (None: anonymous) may publish on (or leave a will on) ``topic``."""
        if user is not None or self.users is None:
            return True
        return not any(matches(topic_filter, topic) for topic_filter in self.protected)
