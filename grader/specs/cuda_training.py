"""Grading spec of assignment 6, training on a GPU correctly (torch).

Most cases run on any machine: tensors are moved to the "meta" device (which every
torch has) to see that move_to really moves them, and forward hooks record
``module.training`` and ``torch.is_grad_enabled()`` to see the modes train and
evaluate use. The CUDA cases (``needs_cuda``) check AMP and devices where a GPU is.
Each `run` builds its own models and loaders with plain torch, so a case exercises
its own target only.

The public cases live here (shipped to students); the hidden ones, with the inputs only
they use, in grader/specs/hidden/cuda_training.py. grader.specs.load_spec("cuda_training")
joins them.
"""

from __future__ import annotations

import math
import random
from functools import partial
from types import ModuleType
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from grader.grading.case import Case, Data, Verdict, no_inputs
from grader.grading.compare import close
from grader.specs._common import case, network_accuracy, network_rows, one_thread

VALUE = close(rtol=1e-5, atol=1e-7)
DRAWS = close(rtol=1e-12, atol=0.0)
FAST = 10.0
TRAINING = 60.0
VAL_ACC_LIMIT = 0.9


# --------------------------------------------------------------- helpers


def _device_type(device: Any) -> list[str]:
    return [type(device).__name__, str(getattr(device, "type", device))]


def _model(seed: int, in_dim: int = 2, classes: int = 3, dropout: float = 0.2) -> nn.Sequential:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(in_dim, 64), nn.ReLU(), nn.Dropout(dropout),
                         nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, classes))


def _loaders(inputs: Data, batch_size: int = 32, pin: bool = False) -> tuple[DataLoader, DataLoader]:
    """The case's own loaders (plain torch), so train and evaluate are graded on their own."""
    def loader(x: np.ndarray, y: np.ndarray, shuffle: bool) -> DataLoader:
        generator = torch.Generator().manual_seed(inputs["seed"])
        return DataLoader(TensorDataset(torch.from_numpy(x), torch.from_numpy(y)),
                          batch_size=batch_size, shuffle=shuffle, generator=generator,
                          pin_memory=pin)

    return (loader(inputs["x_train"], inputs["y_train"], True),
            loader(inputs["x_val"], inputs["y_val"], False))


def _spirals(rng: np.random.Generator, n_per_class: int = 200) -> Data:
    from assignments.datasets import make_spirals

    x, y = make_spirals(n_per_class, 3, noise=0.15, seed=int(rng.integers(0, 1000)))
    perm = rng.permutation(len(x))
    n_val = len(x) // 5
    return {"x_train": x[perm[n_val:]], "y_train": y[perm[n_val:]], "x_val": x[perm[:n_val]],
            "y_val": y[perm[:n_val]], "seed": int(rng.integers(0, 1000))}


def _hook_calls(model: nn.Module) -> list[list[Any]]:
    """A forward hook on the whole model: [training, grad enabled, first Linear's output dtype]."""
    seen: list[list[Any]] = []
    first_linear = next(m for m in model.modules() if isinstance(m, nn.Linear))
    dtypes: list[str] = []
    first_linear.register_forward_hook(lambda m, i, o: dtypes.append(str(o.dtype)))
    model.register_forward_hook(
        lambda m, i, o: seen.append([bool(m.training), torch.is_grad_enabled(), dtypes[-1]]))
    return seen


def _validation_accuracy(actual: Data, expected: Data) -> float | str:
    """The returned network's accuracy on the validation data, computed here (a str: why not)."""
    accuracy = network_accuracy(actual["network"], expected["val_check"])
    return f"the trained model: {accuracy}" if isinstance(accuracy, str) else accuracy


# --------------------------------------------------------------- get_device


def _run_get_device(module: ModuleType, inputs: Data) -> Data:
    if torch.cuda.is_available():
        expected = "cuda"
    elif getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        expected = "mps"
    else:
        expected = "cpu"
    return {"cpu": _device_type(module.get_device("cpu")),
            "auto": _device_type(module.get_device("auto")),
            "default": _device_type(module.get_device()), "expected": expected}


def _get_device_check(actual: Data, expected: Data) -> Verdict:
    if actual["cpu"] != ["device", "cpu"]:
        return Verdict(False, f"get_device('cpu') gave {actual['cpu'][0]} {actual['cpu'][1]!r}; "
                              "expected torch.device('cpu')")
    want = ["device", actual["expected"]]
    for how in ("auto", "default"):
        if actual[how] != want:
            return Verdict(False, f"get_device({'' if how == 'default' else repr('auto')}) gave "
                                  f"{actual[how][0]} {actual[how][1]!r}; on this machine it must "
                                  f"be torch.device({actual['expected']!r})")
    return Verdict(True)


# --------------------------------------------------------------- move_to


def _nested(seed: int, depth: int) -> Any:
    """A deterministic nest of dicts, lists and tuples holding tensors and other leaves."""
    r = random.Random(seed)

    def build(level: int) -> Any:
        if level == 0:
            kind = r.choice(["tensor", "tensor", "int", "str", "none", "float", "array"])
            if kind == "tensor":
                return torch.full((r.randint(1, 3),), float(r.randint(0, 9)),
                                  dtype=r.choice([torch.float32, torch.int64]))
            return {"int": r.randint(0, 9), "str": f"s{r.randint(0, 9)}", "none": None,
                    "float": r.random(), "array": np.arange(3)}[kind]
        kind = r.choice(["dict", "list", "tuple"])
        items = [build(level - 1 if r.random() < 0.8 else 0) for _ in range(r.randint(1, 3))]
        items.append(torch.ones(2))  # every container holds at least one tensor
        if kind == "dict":
            return {f"k{i}": item for i, item in enumerate(items)}
        return items if kind == "list" else tuple(items)

    # every kind of container appears at least once, whatever the draws
    return {"list": [build(depth - 1), torch.zeros(1)], "tuple": (build(depth - 1), torch.zeros(1)),
            "more": build(depth - 1), "leaf": r.randint(0, 9)}


def _describe(obj: Any, original: Any) -> Data:
    """obj as plain data; for leaves that are not tensors, whether they are the original object."""
    if isinstance(obj, torch.Tensor):
        return ["tensor", obj.device.type, str(obj.dtype), list(obj.shape)]
    if isinstance(obj, dict):
        same_keys = isinstance(original, dict) and list(obj) == list(original)
        return ["dict", [[str(k), _describe(v, original.get(k) if same_keys else None)]
                         for k, v in obj.items()]]
    if isinstance(obj, (list, tuple)):
        originals = list(original) if isinstance(original, (list, tuple)) else [None] * len(obj)
        originals += [None] * (len(obj) - len(originals))
        return [type(obj).__name__, [_describe(v, o) for v, o in zip(obj, originals, strict=False)]]
    return ["leaf", type(obj).__name__, obj is original]


def _run_move_to(module: ModuleType, inputs: Data) -> Data:
    obj = _nested(inputs["seed"], inputs["depth"])
    before = _describe(obj, obj)
    device = torch.device("meta") if inputs["device_object"] else "meta"
    moved = module.move_to(obj, device)
    return {"moved": _describe(moved, obj), "input_after": _describe(obj, obj),
            "input_before": before}


def _move_to_check(actual: Data, expected: Data) -> Verdict:
    if actual["input_after"] != actual["input_before"]:
        return Verdict(False, "move_to modified its input: build new containers, leave obj as it was")
    if actual["moved"] == expected["moved"]:
        return Verdict(True)
    return Verdict(False, f"moved structure differs: {_first_difference(actual['moved'], expected['moved'])}")


def _first_difference(a: Data, e: Data, path: str = "obj") -> str:
    if e[0] in ("dict", "list", "tuple"):
        if a[0] != e[0]:
            return f"{path} should be a {e[0]}, got {a[0]}"
        if len(a[1]) != len(e[1]):
            return f"{path} should have {len(e[1])} items, got {len(a[1])}"
        for i, (ai, ei) in enumerate(zip(a[1], e[1], strict=True)):
            if ai != ei:
                if e[0] == "dict":
                    if ai[0] != ei[0]:
                        return f"{path} should have key {ei[0]!r} at position {i}, got {ai[0]!r}"
                    return _first_difference(ai[1], ei[1], f"{path}[{ei[0]!r}]")
                return _first_difference(ai, ei, f"{path}[{i}]")
    if e[0] == "tensor":
        if a[0] != "tensor":
            return f"{path} should be a tensor on {e[1]}, got {a[0]} {a[1]}"
        return f"{path}: a tensor on {a[1]} ({a[2]}), expected on {e[1]} ({e[2]})"
    return f"{path} should be the same {e[1]} leaf, unchanged; got {a}"


# --------------------------------------------------------------- set_seed


def _run_set_seed(module: ModuleType, inputs: Data) -> Data:
    draws = []
    for seed in (inputs["seed"], inputs["seed"]):
        random.seed(12345)  # scramble first: set_seed must set every generator itself
        np.random.seed(12345)
        torch.manual_seed(12345)
        module.set_seed(seed)
        draws.append({"python": np.array([random.random(), random.random()]),
                      "numpy": np.random.rand(3), "torch": torch.rand(3).double().numpy(),
                      "torch_normal": torch.randn(2).double().numpy()})
    return draws


# --------------------------------------------------------------- make_loaders


def _loader_data(rng: np.random.Generator) -> Data:
    while True:  # avoid N·val_fraction ending in .5, where rounding conventions differ
        n = int(rng.integers(50, 300))
        fraction = float(rng.choice([0.1, 0.15, 0.2, 0.25, 0.3]))
        if abs(n * fraction - math.floor(n * fraction) - 0.5) > 1e-6:
            break
    c = int(rng.integers(2, 6))
    x = np.stack([np.arange(n), rng.normal(size=n)], axis=1).astype(np.float32)  # x[:, 0] = id
    return {"x": x, "y": (np.arange(n) % c).astype(np.int64), "batch_size": int(rng.integers(4, 33)),
            "val_fraction": fraction, "seed": int(rng.integers(0, 10_000))}


def _epoch(loader: Any) -> dict[str, Any]:
    ids: list[int] = []
    sizes: list[int] = []
    x_types: set[str] = set()
    y_types: set[str] = set()
    for xb, yb in loader:
        ids.extend(int(v) for v in xb[:, 0].tolist())
        sizes.append(len(xb))
        x_types.add(str(xb.dtype))
        y_types.add(str(yb.dtype))
    return {"ids": ids, "sizes": sizes, "x_dtypes": sorted(x_types), "y_dtypes": sorted(y_types)}


def _run_loader_split(module: ModuleType, inputs: Data) -> Data:
    train, val = module.make_loaders(inputs["x"], inputs["y"], inputs["batch_size"],
                                     val_fraction=inputs["val_fraction"], seed=inputs["seed"])
    t, v = _epoch(train), _epoch(val)
    labels_ok = True
    for loader in (train, val):
        for xb, yb in loader:
            c = int(inputs["y"].max()) + 1
            labels_ok &= bool(torch.equal(torch.as_tensor(yb).long(), xb[:, 0].long() % c))
    return {"train": t, "val": v, "n": len(inputs["x"]), "labels_ok": labels_ok,
            "n_val": round(len(inputs["x"]) * inputs["val_fraction"]),
            "batch_size": inputs["batch_size"]}


def _batch_sizes(n: int, b: int) -> list[int]:
    return [b] * (n // b) + ([n % b] if n % b else [])


def _split_check(actual: Data, expected: Data) -> Verdict:
    t, v, n, n_val, b = actual["train"], actual["val"], actual["n"], actual["n_val"], actual["batch_size"]
    if len(v["ids"]) != n_val:
        return Verdict(False, f"validation has {len(v['ids'])} samples; expected round(N·val_fraction)"
                              f" = {n_val} of N = {n}")
    if sorted(t["ids"] + v["ids"]) != list(range(n)):
        return Verdict(False, "training and validation together must hold every sample exactly once")
    for name, part, count in (("training", t, n - n_val), ("validation", v, n_val)):
        if part["sizes"] != _batch_sizes(count, b):
            return Verdict(False, f"{name} batch sizes {part['sizes']}; expected batches of {b} "
                                  f"with the last, smaller one kept: {_batch_sizes(count, b)}")
        if part["x_dtypes"] != ["torch.float32"] or part["y_dtypes"] != ["torch.int64"]:
            return Verdict(False, f"{name} batches are {part['x_dtypes']} / {part['y_dtypes']}; "
                                  "expected float32 inputs and int64 labels")
    if not actual["labels_ok"]:
        return Verdict(False, "labels no longer belong to their samples: split x and y with the same indices")
    return Verdict(True)


# --------------------------------------------------------------- train


def _train_history_inputs(rng: np.random.Generator) -> Data:
    inputs = _spirals(rng) | {"epochs": 20, "lr": 1e-2}
    # withheld: a copy of the validation data, for this process to measure the model with
    inputs["val_check"] = {"x": inputs["x_val"], "y": inputs["y_val"], "widths": [2, 64, 64, 3]}
    return inputs


def _run_train(module: ModuleType, inputs: Data, device: str = "cpu", amp: Any = False,
               start_in_eval: bool = False) -> Data:
    with one_thread():
        train_loader, val_loader = _loaders(inputs, pin=device == "cuda")
        model = _model(inputs["seed"])
        if start_in_eval:
            model.eval()
        calls = _hook_calls(model)
        kwargs = {"amp": amp} if amp is not False else {}
        history = module.train(model, train_loader, val_loader, epochs=inputs["epochs"], lr=inputs["lr"],
                               device=device, seed=inputs["seed"], **kwargs)
        devices = sorted({p.device.type for p in model.parameters()})
        return {"history": {str(k): [float(v) for v in history[k]] for k in history},
                "calls": list(calls), "devices": devices, "epochs": inputs["epochs"],
                "train_batches": len(train_loader), "val_batches": len(val_loader),
                "network": network_rows(model)}


def _history_problem(actual: Data) -> str | None:
    history, epochs = actual["history"], actual["epochs"]
    if sorted(history) != ["train_loss", "val_acc", "val_loss"]:
        return f"history keys are {sorted(history)}, expected train_loss, val_loss, val_acc"
    if any(len(v) != epochs for v in history.values()):
        return f"each history list needs one value per epoch ({epochs})"
    if not all(math.isfinite(v) for vs in history.values() for v in vs):
        return "the history holds NaN or inf"
    return None


def _train_history_check(actual: Data, expected: Data) -> Verdict:
    problem = _history_problem(actual)
    if problem:
        return Verdict(False, problem)
    losses = actual["history"]["train_loss"]
    if not losses[-1] < losses[0] / 2:
        return Verdict(False, f"the training loss went from {losses[0]:.3g} to {losses[-1]:.3g}; "
                              "it should at least halve")
    accuracy = _validation_accuracy(actual, expected)
    if isinstance(accuracy, str):
        return Verdict(False, accuracy)
    if accuracy < VAL_ACC_LIMIT:
        return Verdict(False, f"the trained model reaches {accuracy:.1%} on the validation "
                              f"data, below {VAL_ACC_LIMIT:.0%}")
    # float32 there, float64 here: a near-tie may flip one prediction
    if abs(actual["history"]["val_acc"][-1] - accuracy) > 1 / len(expected["val_check"]["y"]) + 1e-9:
        return Verdict(False, f"the last val_acc {actual['history']['val_acc'][-1]:.4f} is not the "
                              f"model's validation accuracy ({accuracy:.4f})")
    if actual["devices"] != ["cpu"]:
        return Verdict(False, f"the model ended on {actual['devices']}, not on the device asked for")
    return Verdict(True)


# --------------------------------------------------------------- evaluate


def _evaluate_inputs(rng: np.random.Generator) -> Data:
    n, d, c = int(rng.integers(30, 90)), int(rng.integers(2, 6)), int(rng.integers(2, 6))
    labels = rng.integers(0, c, n)
    labels[:2] = [0, c - 1]
    return {"x": rng.normal(size=(n, d)).astype(np.float32), "y": labels.astype(np.int64), "c": c,
            "batch_size": int(rng.integers(5, 17)), "seed": int(rng.integers(0, 10_000))}


def _eval_loader(inputs: Data) -> DataLoader:
    return DataLoader(TensorDataset(torch.from_numpy(inputs["x"]), torch.from_numpy(inputs["y"])),
                      batch_size=inputs["batch_size"])  # the last batch is smaller: weights count


def _run_evaluate(module: ModuleType, inputs: Data) -> Data:
    model = _model(inputs["seed"], inputs["x"].shape[1], inputs["c"], dropout=0.5)  # train mode
    loss, accuracy = module.evaluate(model, _eval_loader(inputs), "cpu")
    return {"loss": float(loss), "accuracy": float(accuracy)}


# --------------------------------------------------------------- measure_throughput


# --------------------------------------------------------------- the cases


# a row: (name, target, points, run, check, make_inputs, visible, description, **Case fields)
_case = partial(case, timeout=FAST, uses_reference=False)


def _move_inputs(depth: int, device_object: bool):
    return lambda rng: {"seed": int(rng.integers(0, 2**31)), "depth": depth,
                        "device_object": device_object}


PUBLIC_CASES: tuple[Case, ...] = (
    _case("get_device_cpu_auto", "get_device", 5, _run_get_device, _get_device_check,
          no_inputs, True, "get_device('cpu') and get_device('auto') on this machine."),
    _case("move_to_nested", "move_to", 6, _run_move_to, _move_to_check, _move_inputs(2, False),
          True, "Tensors in nested dicts, lists and tuples move; other leaves stay; input unchanged.",
          uses_reference=True),
    _case("set_seed_generators", "set_seed", 6, _run_set_seed, DRAWS,
          lambda rng: {"seed": int(rng.integers(0, 2**31))}, True,
          "After set_seed, python, numpy and torch draw the same numbers as the reference.",
          uses_reference=True),
    _case("make_loaders_split", "make_loaders", 8, _run_loader_split, _split_check, _loader_data,
          True, "round(N·val_fraction) validation samples, a partition, batch sizes and dtypes."),
    _case("train_history", "train", 10, _run_train, _train_history_check, _train_history_inputs,
          True, "20 epochs on three spirals (CPU): a full history, the loss halves, ≥ 90 % accuracy.",
          timeout=TRAINING, withheld=("val_check",)),
    _case("evaluate_value", "evaluate", 6, _run_evaluate, VALUE, _evaluate_inputs, True,
          "Mean cross-entropy and accuracy over a loader with a smaller last batch.",
          uses_reference=True),
)
