"""Reading a small file a user names, within a size limit (architecture decision 12).

One reader for every file bgpemu reads whole at a user's request: topology, speaker
config and change files (:func:`bgpemu.config.safe_yaml.read_file`), TCP-MD5 key files
(:mod:`bgpemu.config.keys`), the ``--mqtt-password-file`` of the CLI
(:mod:`bgpemu.cli._mqtt_options`) and the embedded broker's ``--users-file``
(:mod:`bgpemu.mqttbroker.standalone`).  It sits in L0 so that the broker, which may
import nothing of BGP, shares it.

A file is refused before it is read when it is not a regular file (where the caller asks:
a FIFO nobody writes to, or a device, could block or never end) or when its size is over
the limit; otherwise at most ``limit`` + 1 bytes are read, so a file that grows, or a
pipe that never ends, costs no more than the limit.  Each caller words the refusal in
its own terms (the file's role, the option that named it): :class:`FileLimitError`
carries what was found, and :class:`OSError` carries what the system said.
"""

from __future__ import annotations

import errno
import os
import stat

from bgpemu.errors import BgpEmuError

__all__ = ["FileLimitError", "read_limited"]


class FileLimitError(BgpEmuError, ValueError):
    """A file refused by :func:`read_limited`: not a regular file, or over the limit."""

    def __init__(self, path: str, *, size: int | None, limit: int) -> None:
        self.path = path
        self.size = size
        """Bytes found (at least ``limit`` + 1), or None: not a regular file."""
        self.limit = limit
        what = (
            "is not a regular file"
            if size is None
            else f"has {size} bytes, more than the {limit} read"
        )
        super().__init__(f"{path} {what}")

    @property
    def not_regular(self) -> bool:
        """True when the file was refused for not being a regular file."""
        return self.size is None


def read_limited(path: str | os.PathLike[str], limit: int, *, regular_only: bool = True) -> bytes:
    """The content of the file at ``path``, at most ``limit`` bytes.

    Raises :class:`FileLimitError` for a file that is not a regular one (when
    ``regular_only``) or holds more than ``limit`` bytes, and :class:`OSError` for a file
    that cannot be opened or read.
    """
    name = os.fspath(path)
    if "\0" in name:  # os.stat would raise ValueError, which no caller expects
        raise OSError(errno.EINVAL, "a file name cannot hold a NUL character", name)
    info = os.stat(name)
    if regular_only and not stat.S_ISREG(info.st_mode):
        raise FileLimitError(name, size=None, limit=limit)
    if stat.S_ISREG(info.st_mode) and info.st_size > limit:
        raise FileLimitError(name, size=info.st_size, limit=limit)
    with open(name, "rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise FileLimitError(name, size=len(data), limit=limit)
    return data
