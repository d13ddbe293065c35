"""Helpers of bench/bench_lab.py: topology generators and process-tree sampling."""
