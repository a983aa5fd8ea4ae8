"""Benchmarks: speed and accuracy targets live here, never in timed tests. ``python -m benchmarks`` runs all."""
