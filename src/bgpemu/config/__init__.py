"""Configuration files at the edge (pydantic v2), compiled into core dataclasses."""

from bgpemu.config.speaker import load_speaker_config, parse_speaker_config

__all__ = ["load_speaker_config", "parse_speaker_config"]
