"""Helpers of bench/bench_load.py: sender, bgpemu node runner, daemon receivers, /proc stats.

``blast.py``, ``bgpemu_node.py`` and ``exabgp_counter.py`` run as their own processes; the
orchestrator talks to them through one-line stdout records (``WORD value ...``).
"""
