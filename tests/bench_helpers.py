"""The scripts in benchmarks/ as modules, for the tests that check a fast subset of them."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

# benchmarks/ is beside tests/ in a checkout (it is no part of the installed package)
BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def load_benchmark(name: str) -> ModuleType:
    """benchmarks/<name>.py, freshly executed (benchmarks/ is no package to import from).

    The module is in sys.modules under `name` before it runs: its dataclasses look their
    module up there while they are being made.
    """
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
