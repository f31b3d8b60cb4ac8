"""Harness of assignment 6, cuda_training: build models, nests and loaders with plain torch,
call the student's function, and report devices, structures, draws, batches, hook records,
histories, timings, and trained networks as weights (run by the trusted process itself)."""

from __future__ import annotations

import random
import time
from types import ModuleType
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from grader.sandbox.harness import Data
from grader.sandbox.harness._common import (
    in_both_modes,
    load_linear_weights,
    network_rows,
    one_thread,
)

__all__ = ["evaluate", "evaluate_modes", "get_device", "loader_seeds", "loader_split", "move_to",
           "set_seed", "throughput", "train", "train_cuda", "unavailable"]


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


def _hook_calls(model: nn.Module) -> list[list[Any]]:
    """A forward hook on the whole model: [training, grad enabled, first Linear's output dtype]."""
    seen: list[list[Any]] = []
    first_linear = next(m for m in model.modules() if isinstance(m, nn.Linear))
    dtypes: list[str] = []
    first_linear.register_forward_hook(lambda m, i, o: dtypes.append(str(o.dtype)))
    model.register_forward_hook(
        lambda m, i, o: seen.append([bool(m.training), torch.is_grad_enabled(), dtypes[-1]]))
    return seen


def get_device(module: ModuleType, inputs: Data) -> Data:
    if torch.cuda.is_available():
        expected = "cuda"
    elif getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        expected = "mps"
    else:
        expected = "cpu"
    return {"cpu": _device_type(module.get_device("cpu")),
            "auto": _device_type(module.get_device("auto")),
            "default": _device_type(module.get_device()), "expected": expected}


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


def move_to(module: ModuleType, inputs: Data) -> Data:
    obj = _nested(inputs["seed"], inputs["depth"])
    before = _describe(obj, obj)
    device = torch.device("meta") if inputs["device_object"] else "meta"
    moved = module.move_to(obj, device)
    return {"moved": _describe(moved, obj), "input_after": _describe(obj, obj),
            "input_before": before}


def set_seed(module: ModuleType, inputs: Data) -> Data:
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


def loader_split(module: ModuleType, inputs: Data) -> Data:
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


def _eval_loader(inputs: Data) -> DataLoader:
    return DataLoader(TensorDataset(torch.from_numpy(inputs["x"]), torch.from_numpy(inputs["y"])),
                      batch_size=inputs["batch_size"])  # the last batch is smaller: weights count


def evaluate(module: ModuleType, inputs: Data) -> Data:
    model = _model(inputs["seed"], inputs["x"].shape[1], inputs["c"], dropout=0.5)  # train mode
    loss, accuracy = module.evaluate(model, _eval_loader(inputs), "cpu")
    return {"loss": float(loss), "accuracy": float(accuracy)}


def _outcome(fn, *args: Any) -> str:
    """'ok:<device type>' or the name of the exception fn raised (NotImplementedError is left
    to propagate: an untouched stub reads "not implemented")."""
    try:
        device = fn(*args)
        return f"ok:{getattr(device, 'type', device)}"
    except NotImplementedError:
        raise
    except Exception as exc:  # the exception's type is the answer being graded
        return "ValueError" if isinstance(exc, ValueError) else type(exc).__name__


def unavailable(module: ModuleType, inputs: Data) -> Data:
    """Devices this machine lacks must raise ValueError; one that exists must be returned
    (the cpu always exists: a get_device that always raises earns nothing here)."""
    mps = getattr(torch.backends, "mps", None)
    have = {"cpu": True, "cuda": torch.cuda.is_available(),
            "mps": bool(mps is not None and mps.is_available())}
    results = [[name, bool(available), _outcome(module.get_device, name)]
               for name, available in have.items()]
    results.append([inputs["bogus"], False, _outcome(module.get_device, inputs["bogus"])])
    return results


def loader_seeds(module: ModuleType, inputs: Data) -> Data:
    args = (inputs["x"], inputs["y"], inputs["batch_size"])
    kwargs = {"val_fraction": inputs["val_fraction"]}
    a_train, a_val = module.make_loaders(*args, seed=inputs["seed"], **kwargs)
    b_train, b_val = module.make_loaders(*args, seed=inputs["seed"], **kwargs)
    c_train, c_val = module.make_loaders(*args, seed=inputs["seed"] + 1, **kwargs)
    unpinned, _ = module.make_loaders(*args, seed=inputs["seed"], pin_memory=False, **kwargs)
    first = _epoch(a_train)["ids"]
    return {"same_seed_train": first == _epoch(b_train)["ids"],
            "same_seed_val": _epoch(a_val)["ids"] == _epoch(b_val)["ids"],
            "other_seed_val_differs": sorted(_epoch(a_val)["ids"]) != sorted(_epoch(c_val)["ids"]),
            "reshuffles": first != _epoch(a_train)["ids"],
            "train_shuffled": first != sorted(first),
            "val_stable": _epoch(a_val)["ids"] == _epoch(a_val)["ids"],
            "pin_default": [bool(a_train.pin_memory), bool(a_val.pin_memory)],
            "pin_false": bool(unpinned.pin_memory), "cuda": torch.cuda.is_available()}


def evaluate_modes(module: ModuleType, inputs: Data) -> Data:
    """A dropout model given the trusted process's weights, evaluated after being put in
    train mode, then in eval mode: the hook records and the (loss, accuracy) returned. The
    trusted process knows the weights, so it computes the eval-mode values itself."""
    model = _model(inputs["seed"], inputs["x"].shape[1], inputs["c"], dropout=0.5)
    load_linear_weights(model, inputs["weights"])

    def call() -> list[float]:
        loss, accuracy = module.evaluate(model, _eval_loader(inputs), torch.device("cpu"))
        return [float(loss), float(accuracy)]

    return [{"start_train": start, "calls": calls, "value": value, "after": after}
            for start, calls, value, after in in_both_modes(model, call)]


def throughput(module: ModuleType, inputs: Data, device: str = "cpu") -> Data:
    with one_thread():
        model = _model(inputs["seed"], inputs["in_dim"], 10, dropout=0.0)
        calls = _hook_calls(model)
        before = [p.detach().clone() for p in model.parameters()]
        start = time.perf_counter()
        rate = module.measure_throughput(model, inputs["batch_size"], inputs["in_dim"], device,
                                         steps=inputs["steps"], warmup=inputs["warmup"])
        total = time.perf_counter() - start
        changed = any(not torch.equal(a, b.to(a.device)) for a, b in zip(before, model.parameters(), strict=True))
        return {"rate": float(rate), "overall": inputs["steps"] * inputs["batch_size"] / total,
                "training_calls": sum(1 for c in calls if c[1] and c[0]), "steps": inputs["steps"],
                "changed": changed, "devices": sorted({p.device.type for p in model.parameters()}),
                "device": device}


def _train(module: ModuleType, inputs: Data, device: str, amp: Any, start_in_eval: bool) -> Data:
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


def train(module: ModuleType, inputs: Data, device: str = "cpu", start_in_eval: bool = False) -> Data:
    return _train(module, inputs, device, False, start_in_eval)


def train_cuda(module: ModuleType, inputs: Data) -> Data:
    amp = {"none": False, "float16": torch.float16, "bfloat16": torch.bfloat16}[inputs["amp"]]
    return _train(module, inputs, "cuda", amp, False) | {"amp": inputs["amp"]}
