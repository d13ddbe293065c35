"""The topology file (L9, pydantic v2): YAML -> validated -> :class:`bgpemu.azure.model.Network`.

``load_topology(path)`` / ``parse_topology(text, file)`` return the Network or raise
:class:`~bgpemu.errors.ConfigError` with every problem at once; ``validate_file(path)``
returns the problems for ``bgpemu validate``;
:func:`bgpemu.topology.schema.topology_json_schema` is the JSON Schema editors use
(shipped as ``schema/topology.schema.json``).  The format is documented in
docs/topology.md.
"""

from bgpemu.topology.loader import check_topology, load_topology, parse_topology, validate_file

__all__ = [
    "check_topology",
    "load_topology",
    "parse_topology",
    "validate_file",
]
