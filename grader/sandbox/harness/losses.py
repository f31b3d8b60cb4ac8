"""Harness of assignment 3, losses: call one loss function (or its gradient) on the case's
inputs; report its value and which inputs it modified."""

from __future__ import annotations

from types import ModuleType

from grader.sandbox.harness import Data
from grader.sandbox.harness._common import (
    WRONG_KIND,
    as_array,
    as_float,
    batch_of,
    call_noting_changes,
    present,
    returned_kind,
)

__all__ = ["array", "gaussian_grad", "scalar"]


def scalar(module: ModuleType, inputs: Data, function: str, args: list[str]) -> Data:
    """module.<function> on the inputs named in args (those present), as a float, and the
    batch's shape (a loss: hints know N and D)."""
    value, modified = call_noting_changes(getattr(module, function), *present(inputs, *args))
    return {"out": as_float(value, function), "modified": modified,
            "batch": batch_of(inputs, args[0], "loss")}


def array(module: ModuleType, inputs: Data, function: str, args: list[str]) -> Data:
    """module.<function> on the inputs named in args (those present), as a float64 array,
    and for a gradient the batch's shape (hints know N and D)."""
    value, modified = call_noting_changes(getattr(module, function), *present(inputs, *args))
    out = {"out": as_array(value, function), "modified": modified}
    if function.endswith("_grad"):
        out["batch"] = batch_of(inputs, args[0], "gradient")
    return out


def gaussian_grad(module: ModuleType, inputs: Data) -> Data:
    grads, modified = call_noting_changes(module.gaussian_nll_grad,
                                          *present(inputs, "mean", "target", "var"))
    if not (isinstance(grads, tuple) and len(grads) == 2):
        return {"out": {WRONG_KIND: ["gaussian_nll_grad", returned_kind(grads),
                                     "a tuple (dmean, dvar)"]}, "modified": modified}
    dmean, dvar = grads
    return {"out": {"dmean": as_array(dmean, "gaussian_nll_grad's dmean"),
                    "dvar": as_array(dvar, "gaussian_nll_grad's dvar")}, "modified": modified}
