"""The hostile topology corpus (issue 12): files in tests/data/hostile/ and big ones
generated at test time, each with its golden message in ``NAME.expected.txt``.

The golden message is the problem as ``bgpemu validate`` prints it after ``error: ``,
with ``{file}`` standing for the file's path.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

HOSTILE = Path(__file__).parents[2] / "data" / "hostile"

_ROW = b"- [1, 2, 3, 4, 5, 6, 7, 8, 9]\n"

GENERATED: dict[str, Callable[[], bytes]] = {
    # 100,000 levels of nesting: was a RecursionError in the composer.
    "deep-nesting": lambda: b"[" * 100_000 + b"]" * 100_000 + b"\n",
    # 50 MB, 17 M small nodes: did not finish in 60 s.
    "huge-file": lambda: _ROW * (50_000_000 // len(_ROW)),
    # 300,000 nodes in 1.2 MB, under the size limit.
    "many-nodes": lambda: b"- 0\n" * 300_000,
    # One scalar of 100,000 characters.
    "long-scalar": lambda: b"name: " + b"x" * 100_000 + b"\n",
    # 1,001 aliases of one scalar.
    "many-aliases": lambda: b"a: &a 1\nb: [" + b"*a, " * 1_001 + b"]\n",
    # 60 aliases of a 10,001-node sequence: 610,061 nodes once expanded.
    "wide-expansion": lambda: b"a: &a [" + b"0, " * 10_000 + b"]\nb:\n" + b"- *a\n" * 60,
}


def hostile_files(directory: Path) -> list[Path]:
    """Every case as a file: the committed ones, and the generated ones written to
    ``directory``."""
    for name, make in GENERATED.items():
        (directory / f"{name}.yaml").write_bytes(make())
    return sorted(HOSTILE.glob("*.yaml")) + [directory / f"{name}.yaml" for name in GENERATED]


def expected(path: Path) -> str:
    """The golden message of ``path`` (``{file}`` replaced by its path)."""
    text = (HOSTILE / f"{path.stem}.expected.txt").read_text(encoding="utf-8")
    return text.replace("{file}", str(path)).rstrip("\n")
