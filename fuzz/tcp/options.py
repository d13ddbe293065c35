"""The harness's options and constants (fuzz/tcp)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

SUT_AS = 65000
BYSTANDER_AS = 65200
ROUND_TIMEOUT = 30.0  # generous: the machine is shared and noisy
CONNECT_TIMEOUT = 30.0


@dataclass
class Options:
    """One run: ``python -m fuzz.tcp --help`` describes each (fuzz/tcp/__main__.py)."""

    seed: int = 1
    cases: int = 10_000
    workers: int = 4
    batch: int = 32
    host_octet: int = 0  # 127.<host_octet>.<n>.x; 0: derived from the port
    port: int = 0  # 0: a free port
    workdir: Path = Path("/tmp/bgpemu-tcp-fuzz")
    json_path: Path | None = None
    bystander_extended: bool = True
    preannounce: float = 0.3  # share of batched cases whose routes are announced first
    speaker_src: Path | None = None  # another bgpemu tree's src/ for the SUT
    progress: float = 10.0
    quiet: bool = False
    command: str = ""
