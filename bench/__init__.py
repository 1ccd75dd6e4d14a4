"""make bench: load tests of the comments API (see bench/run.py)."""
