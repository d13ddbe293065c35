"""Where a running lab leaves its pid and status, for ``bgpemu lab down`` / ``lab status``."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

__all__ = ["read_state", "remove_state", "state_dir", "write_state"]


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


def read_state(lab: str | None = None) -> list[dict[str, Any]]:
    """The recorded state of ``lab`` (or of every lab) whose process still runs."""
    directory = state_dir()
    paths = [_path(lab)] if lab is not None else sorted(directory.glob("*.json"))
    states = []
    for path in paths:
        try:
            state = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if _alive(int(state.get("pid", 0))):
            states.append(state)
        else:
            path.unlink(missing_ok=True)
    return states


def remove_state(lab: str) -> None:
    """Forget lab ``lab``."""
    _path(lab).unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
