"""bgpemu.files.read_limited: the one bounded reader of the files a user names."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from bgpemu.files import FileLimitError, read_limited


def test_a_file_within_the_limit_is_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x" * 10)
    assert read_limited(path, 10) == b"x" * 10


def test_a_file_over_the_limit_is_refused_with_its_size(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x" * 11)
    with pytest.raises(FileLimitError) as caught:
        read_limited(path, 10)
    assert (caught.value.size, caught.value.limit, caught.value.not_regular) == (11, 10, False)
    assert str(path) in str(caught.value)


def test_a_fifo_is_refused_unread_when_only_regular_files_are_read(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)  # nobody writes to it: opening it would block
    with pytest.raises(FileLimitError) as caught:
        read_limited(fifo, 10)
    assert caught.value.not_regular
    assert "not a regular file" in str(caught.value)


def _write_then_close(fifo: Path, data: bytes) -> None:
    with open(fifo, "wb") as handle:
        handle.write(data)


@pytest.mark.parametrize(("data", "limit"), [(b"secret\n", 64), (b"y" * 100, 10)])
def test_a_pipe_is_read_within_the_limit_when_asked(
    tmp_path: Path, data: bytes, limit: int
) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    writer = threading.Thread(target=_write_then_close, args=(fifo, data), daemon=True)
    writer.start()
    try:
        if len(data) <= limit:
            assert read_limited(fifo, limit, regular_only=False) == data
        else:
            with pytest.raises(FileLimitError) as caught:
                read_limited(fifo, limit, regular_only=False)
            assert caught.value.size == limit + 1  # read no further than the limit
    finally:
        writer.join(timeout=10)


def test_a_missing_file_is_an_os_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_limited(tmp_path / "missing", 10)


def test_a_name_with_a_nul_character_is_an_os_error() -> None:
    """A ``{file: "a\\0b"}`` key reference: os.stat raises ValueError for it."""
    with pytest.raises(OSError, match="NUL character"):
        read_limited("a\0b", 10)
