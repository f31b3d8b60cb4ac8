"""The child-side harness: public functions that call a student's code and report what it did.

A harness function takes the student's module, the case's inputs (plain data) and the
harness's own parameters (plain data), calls the student's functions, and returns raw
observations as plain data: outputs, weights, hook records, timings. It judges nothing.
Cases, checks, thresholds and withheld data live only in the trusted process
(grader/specs/); a sandboxed child receives, as plain data, the name of the harness to
run, its parameters and the inputs, and never imports a spec. So a submission that
monkeypatches whatever it can reach can at most change what it reports, and the trusted
process judges only what it can check itself.

This package is public: it is what runs a student's code, safe to show and to ship.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from types import ModuleType
from typing import Any

from grader.sandbox import codec

Data = Any  # plain data: None, bool, int, float, str, numeric ndarrays; lists, tuples, dicts of those
HarnessFunction = Callable[..., Data]  # (module, inputs, **params) -> observations

# the harness modules each framework's warm process imports (a child inherits them)
MODULES = {"numpy": ("common", "losses", "backprop", "autodiff", "optimizers"),
           "torch": ("common", "mlp", "cuda_training")}


class UnknownHarness(LookupError):
    """No public harness function of that name."""


def resolve(name: str) -> HarnessFunction:
    """'losses.scalar' -> grader.sandbox.harness.losses.scalar; only names a module lists in __all__."""
    module_name, _, function = name.rpartition(".")
    if not module_name or module_name.startswith("_") or not module_name.isidentifier():
        raise UnknownHarness(f"no harness {name!r}")
    try:
        module = importlib.import_module(f"{__name__}.{module_name}")
    except ModuleNotFoundError:
        raise UnknownHarness(f"no harness module {module_name!r}") from None
    if function not in getattr(module, "__all__", ()):
        raise UnknownHarness(f"no harness {name!r}")
    return getattr(module, function)


class Harness:
    """A case's `run`: the harness function `name` with fixed plain-data parameters.

    Callable as run(module, inputs), in the trusted process (on the reference) and, from
    its name and parameters alone, in a sandboxed child (on the student's module).
    """

    __slots__ = ("name", "params")

    def __init__(self, harness: str, /, **params: Data) -> None:
        codec.to_jsonable(params)  # plain data, or fail where the spec is written
        resolve(harness)
        self.name = harness
        self.params = params

    @property
    def function(self) -> HarnessFunction:
        return resolve(self.name)

    def request(self) -> dict[str, Data]:
        """What a child is sent to run this harness: its name and parameters."""
        return {"harness": self.name, "params": codec.to_jsonable(self.params)}

    def __call__(self, module: ModuleType, inputs: Data) -> Data:
        return resolve(self.name)(module, inputs, **self.params)

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"Harness({self.name!r}{', ' if params else ''}{params})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Harness) and (self.name, self.params) == (other.name, other.params)

    def __hash__(self) -> int:
        return hash(self.name)
