"""Harness of assignment 3, losses: call one loss function (or its gradient) on the case's
inputs; report its value and which inputs it modified."""

from __future__ import annotations

from types import ModuleType

from grader.harness import Data
from grader.harness._common import call_noting_changes, floats, present

__all__ = ["array", "gaussian_grad", "scalar"]


def scalar(module: ModuleType, inputs: Data, function: str, args: list[str]) -> Data:
    """module.<function> on the inputs named in args (those present), as a float."""
    value, modified = call_noting_changes(getattr(module, function), *present(inputs, *args))
    return {"out": float(value), "modified": modified}


def array(module: ModuleType, inputs: Data, function: str, args: list[str]) -> Data:
    """module.<function> on the inputs named in args (those present), as a float64 array."""
    value, modified = call_noting_changes(getattr(module, function), *present(inputs, *args))
    return {"out": floats(value), "modified": modified}


def gaussian_grad(module: ModuleType, inputs: Data) -> Data:
    (dmean, dvar), modified = call_noting_changes(module.gaussian_nll_grad,
                                                  *present(inputs, "mean", "target", "var"))
    return {"out": {"dmean": floats(dmean), "dvar": floats(dvar)}, "modified": modified}
