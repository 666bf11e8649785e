"""Shared by the benchmarks: measuring a training row, FLOPs, traces, provenance, options."""
