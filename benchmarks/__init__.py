"""The speed harness: ``python benchmarks/run.py`` (or ``python -m benchmarks``); see benchmarks/README.md.

Not part of the test suite; ``tests/core/test_benchmarks_quick.py`` runs its ``--quick`` mode so it can't rot.
"""
