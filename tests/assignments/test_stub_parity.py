"""Every stub matches its hidden reference, and every part a student writes starts unwritten.

For each assignment whose stub and reference both exist: the same public functions,
classes and methods (dunders included: Value.__add__ is API), with identical signatures
and docstrings; the parts the stub gives (GIVEN) identical to the reference's code; and
every other stub function or method raises NotImplementedError when called with valid
arguments (VALID_CALLS; a function without an entry is called with dummy arguments, and
only NotImplementedError is accepted from it).
"""

from __future__ import annotations

import ast
import fnmatch
import importlib
import inspect
from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from grader.catalog import ASSIGNMENTS, Assignment

PAIRS = [a for a in ASSIGNMENTS if a.stub_path.is_file() and a.reference_path.is_file()]

# Parts of a stub that are given complete (fnmatch patterns of qualified names).
GIVEN: dict[str, list[str]] = {
    "autodiff": ["Value.__init__", "Value.__repr__"],
    "optimizers": ["Optimizer.*", "*.__init__"],
}

Call = Callable[[ModuleType], tuple[tuple[Any, ...], dict[str, Any]]]


def modules(assignment: Assignment) -> tuple[ModuleType, ModuleType]:
    return (importlib.import_module(f"assignments.{assignment.name}"),
            importlib.import_module(f"reference.{assignment.name}"))


def api(module: ModuleType) -> dict[str, Any]:
    """Public functions and classes defined in the module, and their classes' public methods and
    dunders, by qualified name ("mse", "Value", "Value.__add__")."""
    found: dict[str, Any] = {}
    for name, obj in vars(module).items():
        if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
            continue
        if inspect.isfunction(obj):
            found[name] = obj
        elif inspect.isclass(obj):
            found[name] = obj
            for attr, member in vars(obj).items():
                private = attr.startswith("_") and not (attr.startswith("__") and attr.endswith("__"))
                if isinstance(member, (staticmethod, classmethod)):
                    member = member.__func__
                if not private and (inspect.isfunction(member) or isinstance(member, property)):
                    found[f"{name}.{attr}"] = member
    return found


def given(assignment: Assignment, qualname: str) -> bool:
    return any(fnmatch.fnmatchcase(qualname, p) for p in GIVEN.get(assignment.name, []))


def describe(obj: Any) -> tuple[str, str | None]:
    """(signature, docstring) as a student reads them."""
    if isinstance(obj, property):
        return "property", obj.__doc__
    if inspect.isclass(obj):
        bases = ", ".join(b.__name__ for b in obj.__bases__)
        return f"class({bases})", obj.__doc__
    return str(inspect.signature(obj)), obj.__doc__


# --------------------------------------------------------------- names, signatures, docstrings


def test_the_parity_checks_cover_the_assignments_that_exist():
    assert {"backprop", "autodiff", "losses"} <= {a.name for a in PAIRS}


@pytest.mark.parametrize("assignment", PAIRS, ids=lambda a: a.name)
def test_same_public_names(assignment):
    stub, ref = modules(assignment)
    assert sorted(api(stub)) == sorted(api(ref))


@pytest.mark.parametrize("assignment", PAIRS, ids=lambda a: a.name)
def test_identical_signatures_and_docstrings(assignment):
    stub, ref = modules(assignment)
    stub_api, ref_api = api(stub), api(ref)
    for name in sorted(stub_api.keys() & ref_api.keys()):
        stub_sig, stub_doc = describe(stub_api[name])
        ref_sig, ref_doc = describe(ref_api[name])
        assert stub_sig == ref_sig, f"{name}: signature"
        assert stub_doc == ref_doc, f"{name}: docstring"


@pytest.mark.parametrize("assignment", PAIRS, ids=lambda a: a.name)
def test_given_parts_are_the_references_code(assignment):
    stub, ref = modules(assignment)
    stub_api, ref_api = api(stub), api(ref)
    for name, obj in stub_api.items():
        if given(assignment, name) and not inspect.isclass(obj):
            assert inspect.getsource(obj) == inspect.getsource(ref_api[name]), name


@pytest.mark.parametrize("assignment", PAIRS, ids=lambda a: a.name)
def test_stub_opens_with_a_lesson(assignment):
    stub, _ = modules(assignment)
    assert stub.__doc__ and len(stub.__doc__) > 300


def imports_torch(path) -> bool:
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import) and any(a.name.split(".")[0] == "torch" for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "torch":
            return True
    return False


@pytest.mark.parametrize("assignment", [a for a in PAIRS if a.framework == "numpy"], ids=lambda a: a.name)
def test_numpy_assignments_never_import_torch(assignment):
    assert not imports_torch(assignment.stub_path)
    assert not imports_torch(assignment.reference_path)


# --------------------------------------------------------------- valid calls


def _ref(name: str) -> ModuleType:
    return importlib.import_module(f"reference.{name}")


_rng = np.random.default_rng(0)
X, W, B, DOUT = _rng.normal(size=(2, 3)), _rng.normal(size=(3, 4)), _rng.normal(size=4), _rng.normal(size=(2, 4))
LOGITS, LABELS = _rng.normal(size=(3, 4)), np.array([0, 3, 1])
PARAMS = {"W1": _rng.normal(size=(3, 5)), "b1": np.zeros(5), "W2": _rng.normal(size=(5, 4)), "b2": np.zeros(4)}


def _args(*args: Any, **kwargs: Any) -> Call:
    return lambda module: (args, kwargs)


def _layer_backward(name: str, *forward_args: np.ndarray) -> Call:
    """dout and the cache the reference's forward makes (the stub's own forward is unwritten)."""

    def call(module: ModuleType) -> tuple[tuple[Any, ...], dict[str, Any]]:
        out, cache = getattr(_ref("backprop"), f"{name}_forward")(*forward_args)
        return (np.ones_like(out), cache), {}

    return call


FRESH_VALUE = object()  # stands for a new stub Value(3.0) in an argument list


def _value_method(*args: Any) -> Call:
    return lambda module: (tuple(module.Value(3.0) if a is FRESH_VALUE else a for a in args), {})


def _torch_model():
    import torch

    return torch.nn.Sequential(torch.nn.Linear(2, 3))


def _torch_batch():
    import torch

    return torch.randn(8, 2), torch.randint(0, 3, (8,))


def _train_step_call(module: ModuleType):
    import torch

    model = _torch_model()
    x, y = _torch_batch()
    return (model, x, y, torch.nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1)), {}


def _loaders():
    from torch.utils.data import DataLoader, TensorDataset

    dataset = TensorDataset(*_torch_batch())
    return DataLoader(dataset, batch_size=4), DataLoader(dataset, batch_size=4)


VALID_CALLS: dict[str, dict[str, Call]] = {
    "backprop": {
        "linear_regression_grads": _args(X[0], X[1], 0.5, -0.2),
        "fit_linear_regression": _args(X[0], X[1], lr=0.1, steps=3),
        "affine_forward": _args(X, W, B),
        "affine_backward": _layer_backward("affine", X, W, B),
        "relu_forward": _args(X),
        "relu_backward": _layer_backward("relu", X),
        "sigmoid_forward": _args(X),
        "sigmoid_backward": _layer_backward("sigmoid", X),
        "tanh_forward": _args(X),
        "tanh_backward": _layer_backward("tanh", X),
        "softmax_cross_entropy": _args(LOGITS, LABELS),
        "two_layer_net": _args(PARAMS, X, LABELS[:2]),
        "numerical_gradient": _args(lambda x: float(np.sum(x**2)), X),
    },
    "autodiff": {
        # the receiver is Value(2.0), built with the given constructor
        **{f"Value.__{op}__": _value_method(FRESH_VALUE) for op in ("add", "sub", "mul", "truediv")},
        **{f"Value.__r{op}__": _value_method(3.0) for op in ("add", "sub", "mul", "truediv")},
        "Value.__neg__": _value_method(),
        "Value.__pow__": _value_method(2.0),
        **{f"Value.{op}": _value_method() for op in ("exp", "log", "tanh", "relu", "sigmoid", "backward")},
        "topological_order": _value_method(FRESH_VALUE),
    },
    "losses": {
        **{name: _args(X, X + 1.0) for name in ("mse", "mse_grad", "l1", "l1_grad")},
        "huber": _args(X, X + 1.0, delta=0.5),
        "huber_grad": _args(X, X + 1.0, delta=0.5),
        "softmax": _args(LOGITS),
        "log_softmax": _args(LOGITS),
        "cross_entropy": _args(LOGITS, LABELS),
        "cross_entropy_grad": _args(LOGITS, LABELS),
        "binary_cross_entropy_with_logits": _args(X, (X > 0).astype(float)),
        "binary_cross_entropy_with_logits_grad": _args(X, (X > 0).astype(float)),
        "gaussian_nll": _args(X, X + 1.0, var=np.full(X.shape, 0.5)),
        "gaussian_nll_grad": _args(X, X + 1.0, var=2.0),
    },
    "optimizers": {
        # a step is called on an optimizer built with the given constructor
        **{f"{cls}.step": _args([np.ones(3)]) for cls in
           ("SGD", "Momentum", "NAG", "Adagrad", "Adadelta", "RMSprop", "Adam", "AdamW")},
        "step_decay": _args(0.1, 5, 10),
        "minimize": lambda m: ((lambda ps: m.SGD(ps, lr=0.1), lambda x: (float(x @ x), 2 * x),
                                np.ones(2), 3), {}),
    },
    "mlp": {
        "make_mlp": _args(2, [4], 3),
        "count_parameters": lambda m: ((_torch_model(),), {}),
        "train_step": _train_step_call,
        "fit_function": _args(np.sin, hidden=4, steps=2),
        "train_classifier": lambda m: ((*_torch_batch(), *_torch_batch()), {"hidden": (4,), "epochs": 1}),
        "accuracy": lambda m: ((_torch_model(), *_torch_batch()), {}),
    },
    "cuda_training": {
        "get_device": _args("cpu"),
        "move_to": lambda m: (({"a": [_torch_batch()[0]]}, "cpu"), {}),
        "set_seed": _args(0),
        "make_loaders": lambda m: ((*_torch_batch(), 4), {}),
        "train": lambda m: ((_torch_model(), *_loaders()), {"epochs": 1, "lr": 0.01, "device": "cpu"}),
        "evaluate": lambda m: ((_torch_model(), _loaders()[1], "cpu"), {}),
        "measure_throughput": lambda m: ((_torch_model(), 4, 2, "cpu"), {"steps": 1, "warmup": 0}),
    },
}

CONSTRUCTOR_ARGS: dict[str, Call] = {  # for classes whose constructor the stub gives
    "Value": _args(2.0),
    **{cls: _args([np.zeros(3)], lr=0.1) for cls in
       ("Optimizer", "SGD", "Momentum", "NAG", "Adagrad", "Adadelta", "RMSprop", "Adam", "AdamW")},
}


def dummy_call(func: Callable[..., Any]) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """None for every required parameter: an unwritten body raises before it reads them."""
    args, kwargs = [], {}
    for p in inspect.signature(func).parameters.values():
        if p.default is not p.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or p.name == "self":
            continue
        if p.kind == p.KEYWORD_ONLY:
            kwargs[p.name] = None
        else:
            args.append(None)
    return tuple(args), kwargs


def receiver(assignment: Assignment, stub: ModuleType, cls: type) -> Any:
    """An instance for calling a method: through the constructor when the stub gives it."""
    init_owner = next(c for c in cls.__mro__ if "__init__" in vars(c))
    if init_owner is not object and given(assignment, f"{init_owner.__name__}.__init__"):
        args, kwargs = CONSTRUCTOR_ARGS[cls.__name__](stub)
        return cls(*args, **kwargs)
    return cls.__new__(cls)


def unwritten(assignment: Assignment) -> list[str]:
    stub, _ = modules(assignment)
    return sorted(name for name, obj in api(stub).items()
                  if not inspect.isclass(obj) and not isinstance(obj, property)
                  and not given(assignment, name))


STUB_CALLABLES = [(a, name) for a in PAIRS for name in unwritten(a)]


@pytest.mark.parametrize(("assignment", "name"), STUB_CALLABLES,
                         ids=[f"{a.name}.{n}" for a, n in STUB_CALLABLES])
def test_stub_raises_not_implemented(assignment, name):
    stub, _ = modules(assignment)
    calls = VALID_CALLS.get(assignment.name, {})
    owner, _, method = name.rpartition(".")
    func = getattr(getattr(stub, owner), method) if owner else getattr(stub, name)
    args, kwargs = calls[name](stub) if name in calls else dummy_call(func)
    if owner:
        func = getattr(receiver(assignment, stub, getattr(stub, owner)), method)
    with pytest.raises(NotImplementedError):
        func(*args, **kwargs)


@pytest.mark.parametrize("name", ["backprop", "autodiff", "losses"])
def test_every_stub_function_of_the_numpy_assignments_has_a_valid_call(name):
    assignment = next(a for a in PAIRS if a.name == name)
    assert set(unwritten(assignment)) == set(VALID_CALLS[name])
