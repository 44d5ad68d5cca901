"""Benchmarks behind `mpac-bridge bench`."""
