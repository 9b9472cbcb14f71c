"""Benchmarks, run by hand; results go to bench/RESULTS.md."""
