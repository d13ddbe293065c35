"""The asyncio shell (L7): TCP transport, one owner task per session, timers, speakers."""

from bgpemu.router.spec import NeighborSpec, SpeakerSpec
from bgpemu.runtime.peer import PeerDriver
from bgpemu.runtime.speaker import Speaker

__all__ = ["NeighborSpec", "PeerDriver", "Speaker", "SpeakerSpec"]
