"""The credentials of a lab's embedded MQTT broker, kept for its user's CLI commands.

``bgpemu lab up`` with the embedded broker makes one account per lab (a random password
from :mod:`secrets`): the lab's own clients publish with it, and anonymous clients may read
the lab's topics but not publish under ``bgpemu/v1/`` (docs/mqtt.md, "Security").  The
account is written to ``<lab>.mqtt-credentials`` in the lab state directory
(:func:`~bgpemu.lab.state_files.state_dir`), created with mode 0600 so that only the user who
started the lab can read it; the injection commands read it when they talk to that lab's
broker, and ``lab up`` removes it when the lab stops.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from bgpemu.lab.state_files import read_state, state_dir
from bgpemu.observe.jsontext import loads  # RecursionError -> ValueError

if TYPE_CHECKING:
    from bgpemu.observe.url import BrokerAddress

__all__ = [
    "LabAccount",
    "new_lab_account",
    "read_lab_account",
    "remove_lab_account",
    "with_lab_account",
    "write_lab_account",
]

_SUFFIX = ".mqtt-credentials"
_PASSWORD_BYTES = 24


LabAccount = tuple[str, str]
"""(user name, password)."""


def _path(lab: str) -> Path:
    return state_dir() / f"{lab}{_SUFFIX}"


def new_lab_account(lab: str) -> LabAccount:
    """A new account for lab ``lab``: its name and a random password (192 bits)."""
    return f"bgpemu-lab-{lab}", secrets.token_urlsafe(_PASSWORD_BYTES)


def write_lab_account(lab: str, broker_url: str, account: LabAccount) -> None:
    """Keep ``account`` of lab ``lab`` on the broker at ``broker_url`` for
    :func:`read_lab_account`: mode 0600 from its creation, replacing any older one."""
    path = _path(lab)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    temporary.unlink(missing_ok=True)
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        json.dump({"broker": broker_url, "username": account[0], "password": account[1]}, file)
    temporary.replace(path)


def read_lab_account(lab: str, broker_url: str) -> LabAccount | None:
    """The account of the running lab ``lab`` if its broker is ``broker_url``; else None
    (another broker, a lab that is not running here, or a file this user cannot read)."""
    states = read_state(lab)
    if not states or states[0].get("mqtt") != broker_url:
        return None
    try:
        doc = loads(_path(lab).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or doc.get("broker") != broker_url:
        return None
    username, password = doc.get("username"), doc.get("password")
    if not isinstance(username, str) or not isinstance(password, str):
        return None
    return username, password


def with_lab_account(address: BrokerAddress, lab: str) -> BrokerAddress:
    """``address`` with the account of lab ``lab`` when no credentials were given and it
    is that running lab's embedded broker (:func:`read_lab_account`): how the injection
    and traffic commands and the web view's injections publish on its ``control``."""
    if address.username is not None:
        return address
    account = read_lab_account(lab, address.url)
    return address if account is None else address.with_credentials(*account)


def remove_lab_account(lab: str) -> None:
    """Forget the account of lab ``lab`` (its broker has stopped)."""
    with contextlib.suppress(OSError):
        _path(lab).unlink(missing_ok=True)
