"""Tollgate's benchmarks: ratios against baselines measured in the same run, and peak memory."""
