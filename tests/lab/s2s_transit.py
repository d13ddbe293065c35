"""s2s-transit as a TCP lab with one worker process per speaker, so that a fault hits one
speaker (test helper of the injection and worker-fault tests)."""

from __future__ import annotations

from pathlib import Path

from bgpemu.azure.converge import solve
from bgpemu.lab.supervisor import TcpLab
from bgpemu.topology import load_topology
from tests.helpers import free_port

__all__ = ["S2S_TRANSIT", "best_paths", "per_speaker_lab"]

S2S_TRANSIT = Path(__file__).resolve().parents[2] / "topologies" / "s2s-transit.yaml"


def per_speaker_lab(**options: object) -> TcpLab:
    """s2s-transit with one worker process per speaker; ``options`` go to TcpLab."""
    network = load_topology(S2S_TRANSIT)
    speakers = len(solve(network).plan.speakers)
    return TcpLab(
        network,
        processes=speakers,
        port=free_port("127.0.10.1"),
        **options,  # type: ignore[arg-type]
    )


async def best_paths(lab: TcpLab, speaker: str) -> dict[str, tuple[int, ...]]:
    """The AS_PATH of each best route in ``speaker``'s Loc-RIB, by prefix (only its
    worker is asked: another may be frozen)."""
    snapshots = await lab.snapshots(speakers=frozenset({speaker}))
    return {r.prefix: r.as_path for r in snapshots[speaker].loc_rib if r.best}
