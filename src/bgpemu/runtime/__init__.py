"""The asyncio shell (L7): TCP transport, one owner task per session, timers, speakers."""

from bgpemu.runtime.peer import PeerDriver
from bgpemu.runtime.speaker import Speaker
from bgpemu.runtime.spec import NeighborSpec, SpeakerSpec

__all__ = ["NeighborSpec", "PeerDriver", "Speaker", "SpeakerSpec"]
