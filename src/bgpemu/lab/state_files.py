"""Where a running lab leaves its pid and status, for ``bgpemu lab down`` / ``lab status``.

One file per lab name: a name is taken by one running lab at a time.  ``lab up`` takes
it with :func:`claim_state` (created exclusively, ``O_EXCL``, so two starts cannot both
win) before it starts anything, and a second ``lab up`` with a name in use is refused
with the running lab's pid and broker; a file left by a lab that died (its pid is gone)
is taken over.  Each file carries the lab's unique ``id``, and a lab removes only its
own file (:func:`remove_state`).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from bgpemu.observe.jsontext import loads  # RecursionError -> ValueError

__all__ = [
    "claim_state",
    "process_alive",
    "read_state",
    "remove_state",
    "state_dir",
    "write_state",
]

_CLAIM_TRIES = 50
"""Attempts to take a name whose file is being written or removed meanwhile (5 ms apart)."""


def state_dir() -> Path:
    """``$BGPEMU_STATE_DIR``, else ``$XDG_RUNTIME_DIR/bgpemu``, else ``/tmp/bgpemu-<uid>``."""
    if "BGPEMU_STATE_DIR" in os.environ:
        return Path(os.environ["BGPEMU_STATE_DIR"])
    if "XDG_RUNTIME_DIR" in os.environ:
        return Path(os.environ["XDG_RUNTIME_DIR"]) / "bgpemu"
    return Path(f"/tmp/bgpemu-{os.getuid()}")


def _path(lab: str) -> Path:
    return state_dir() / f"{lab}.json"


def write_state(lab: str, state: dict[str, Any]) -> None:
    """Record (atomically) the state of the running lab ``lab``."""
    path = _path(lab)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(state, indent=2) + "\n")
    temporary.replace(path)


def claim_state(lab: str, state: dict[str, Any]) -> dict[str, Any] | None:
    """Take the name ``lab`` and record ``state``; None when taken, else (nothing
    recorded) the state of the lab of that name that runs."""
    path = _path(lab)
    path.parent.mkdir(parents=True, exist_ok=True)
    for _ in range(_CLAIM_TRIES):
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            running = read_state(lab)  # a dead lab's file is removed here
            if running:
                return running[0]
            time.sleep(0.005)  # being written (unreadable yet) or just removed
            continue
        with os.fdopen(fd, "w") as file:
            file.write(json.dumps(state, indent=2) + "\n")
        return None
    raise OSError(f"cannot take the lab name {lab!r}: {path} stays unreadable")


def read_state(lab: str | None = None) -> list[dict[str, Any]]:
    """The recorded state of ``lab`` (or of every lab) whose process still runs."""
    directory = state_dir()
    paths = [_path(lab)] if lab is not None else sorted(directory.glob("*.json"))
    states = []
    for path in paths:
        try:
            state = loads(path.read_text())
        except (OSError, ValueError):
            continue
        pid = state.get("pid", 0) if isinstance(state, dict) else None
        if not isinstance(pid, int) or isinstance(pid, bool):
            continue  # not a lab's state (hand-edited, another program's): passed over
        if process_alive(pid):
            states.append(state)
        else:
            path.unlink(missing_ok=True)
    return states


def remove_state(lab: str, lab_id: str | None = None) -> None:
    """Forget lab ``lab`` (only if its recorded ``id`` is ``lab_id``, when given)."""
    path = _path(lab)
    if lab_id is not None:
        try:
            recorded = loads(path.read_text()).get("id")
        except (OSError, ValueError, AttributeError):
            return
        if recorded != lab_id:
            return
    path.unlink(missing_ok=True)


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this machine."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):  # no such process, or no such pid at all
        return False
    except PermissionError:
        return True
    return True
