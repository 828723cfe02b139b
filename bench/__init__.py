"""WFAIB benchmarks: `.venv/bin/python -m bench all` (figures and commands: bench/RESULTS.md)."""
