"""Azure's programming rules (L6): the network model, role compilation, and views.

Pure: no sockets, no clock, no pydantic.  See docs/azure-behaviours.md for every
modelled rule, its source and the test that proves it.
"""
