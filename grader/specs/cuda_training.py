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
from functools import partial

import numpy as np

from grader.grading.case import Case, Data, Verdict, no_inputs
from grader.grading.compare import close
from grader.sandbox.harness import Harness
from grader.specs._common import case, network_accuracy

VALUE = close(rtol=1e-5, atol=1e-7)
DRAWS = close(rtol=1e-12, atol=0.0)
FAST = 10.0
TRAINING = 60.0
VAL_ACC_LIMIT = 0.9


# --------------------------------------------------------------- running the functions (public harness)

_run_get_device = Harness("cuda_training.get_device")
_run_move_to = Harness("cuda_training.move_to")
_run_set_seed = Harness("cuda_training.set_seed")
_run_loader_split = Harness("cuda_training.loader_split")
_run_train = Harness("cuda_training.train")
_run_evaluate = Harness("cuda_training.evaluate")


# --------------------------------------------------------------- helpers


def _spirals(rng: np.random.Generator, n_per_class: int = 200) -> Data:
    from assignments.datasets import make_spirals

    x, y = make_spirals(n_per_class, 3, noise=0.15, seed=int(rng.integers(0, 1000)))
    perm = rng.permutation(len(x))
    n_val = len(x) // 5
    return {"x_train": x[perm[n_val:]], "y_train": y[perm[n_val:]], "x_val": x[perm[:n_val]],
            "y_val": y[perm[:n_val]], "seed": int(rng.integers(0, 1000))}


def _validation_accuracy(actual: Data, expected: Data) -> float | str:
    """The returned network's accuracy on the validation data, computed here (a str: why not)."""
    accuracy = network_accuracy(actual["network"], expected["val_check"])
    return f"the trained model: {accuracy}" if isinstance(accuracy, str) else accuracy


# --------------------------------------------------------------- get_device


def _get_device_judge(actual: Data, expected: Data) -> Verdict:
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


def _move_to_judge(actual: Data, expected: Data) -> Verdict:
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


def _batch_sizes(n: int, b: int) -> list[int]:
    return [b] * (n // b) + ([n % b] if n % b else [])


def _split_judge(actual: Data, expected: Data) -> Verdict:
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


def _history_problem(actual: Data) -> str | None:
    history, epochs = actual["history"], actual["epochs"]
    if sorted(history) != ["train_loss", "val_acc", "val_loss"]:
        return f"history keys are {sorted(history)}, expected train_loss, val_loss, val_acc"
    if any(len(v) != epochs for v in history.values()):
        return f"each history list needs one value per epoch ({epochs})"
    if not all(math.isfinite(v) for vs in history.values() for v in vs):
        return "the history holds NaN or inf"
    return None


def _train_history_judge(actual: Data, expected: Data) -> Verdict:
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


# --------------------------------------------------------------- measure_throughput


# --------------------------------------------------------------- the cases


# a row: (name, target, points, run, judge, make_inputs, visible, description, **Case fields)
_case = partial(case, timeout=FAST, uses_reference=False)


def _move_inputs(depth: int, device_object: bool):
    return lambda rng: {"seed": int(rng.integers(0, 2**31)), "depth": depth,
                        "device_object": device_object}


PUBLIC_CASES: tuple[Case, ...] = (
    # get_device and make_loaders_split rest on the child's own report (the device it
    # returned, the batches its loaders gave), which a tampering submission can forge; their
    # points are part of the shipped public total, so they are left as they are here.
    _case("get_device_cpu_auto", "get_device", 5, _run_get_device, _get_device_judge,
          no_inputs, True, "get_device('cpu') and get_device('auto') on this machine."),
    _case("move_to_nested", "move_to", 6, _run_move_to, _move_to_judge, _move_inputs(2, False),
          True, "Tensors in nested dicts, lists and tuples move; other leaves stay; input unchanged.",
          uses_reference=True),
    _case("set_seed_generators", "set_seed", 6, _run_set_seed, DRAWS,
          lambda rng: {"seed": int(rng.integers(0, 2**31))}, True,
          "After set_seed, python, numpy and torch draw the same numbers as the reference.",
          uses_reference=True),
    _case("make_loaders_split", "make_loaders", 8, _run_loader_split, _split_judge, _loader_data,
          True, "round(N·val_fraction) validation samples, a partition, batch sizes and dtypes."),
    _case("train_history", "train", 10, _run_train, _train_history_judge, _train_history_inputs,
          True, "20 epochs on three spirals (CPU): a full history, the loss halves, ≥ 90 % accuracy.",
          timeout=TRAINING, withheld=("val_check",)),
    _case("evaluate_value", "evaluate", 6, _run_evaluate, VALUE, _evaluate_inputs, True,
          "Mean cross-entropy and accuracy over a loader with a smaller last batch.",
          uses_reference=True),
)
