"""Benchmarks. ``python -m bench`` (or ``make bench``) runs them; results go to RESULTS.md."""
