"""Penstock benchmarks: ``python -m benchmarks [log|pipeline|all]``. Numbers go to docs/benchmarks.md."""

from __future__ import annotations

import json
from typing import Any


def print_results(results: dict[str, dict[str, Any]], *, as_json: bool) -> None:
    """One JSON object, or one indented block per workload."""
    if as_json:
        print(json.dumps(results))
        return
    for name, values in results.items():
        print(f"{name}:")
        for key, value in values.items():
            print(f"  {key:28} {value}")
