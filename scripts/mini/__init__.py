"""Build helpers for the built-in `geneb-mini` task suite (run by scripts/build_mini.py).

Build-time only: nothing here is imported by the `geneb` package at run time.
"""
