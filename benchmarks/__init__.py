"""Benchmark scripts and the plain per-timestep reference ELMo they (and the tests) compare with.

Run each from the repository root as a module: ``python -m benchmarks.embed_throughput``.
"""
