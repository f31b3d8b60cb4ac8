"""Harness functions any assignment can use (the sandbox's own tests use `call`)."""

from __future__ import annotations

from types import ModuleType

import numpy as np

from grader.sandbox.harness import Data

__all__ = ["call"]


def call(module: ModuleType, inputs: Data, function: str, args: list[str], result: str = "array") -> Data:
    """module.<function>(*inputs[a] for a in args), as a float64 array or a float."""
    value = getattr(module, function)(*(inputs[a] for a in args))
    if result == "float":
        return float(value)
    return np.asarray(value, dtype=np.float64)
