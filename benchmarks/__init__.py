"""Benchmarks: `python -m benchmarks` (or `make bench`). They print ratios against peers measured in the same run."""
