"""Penstock benchmarks: ``python -m benchmarks [log|pipeline|all]``. Numbers go to docs/benchmarks.md."""
