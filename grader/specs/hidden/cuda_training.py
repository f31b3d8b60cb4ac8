"""Hidden cases of assignment 6 (cuda_training): devices that are not there, deeper
nests for move_to, seeded loaders, train and evaluate modes, CPU throughput, and the GPU
cases (CUDA device, float16 and bfloat16 autocast, GPU throughput). Never shipped to
students.
"""

from __future__ import annotations

import math
import time
from types import ModuleType
from typing import Any

import numpy as np
import torch

from grader.grading.case import Case, Data, Verdict
from grader.specs._common import hidden_variant, one_thread
from grader.specs.cuda_training import (
    PUBLIC_CASES,
    TRAINING,
    VAL_ACC_LIMIT,
    _case,
    _epoch,
    _eval_loader,
    _evaluate_inputs,
    _history_problem,
    _hook_calls,
    _loader_data,
    _model,
    _move_inputs,
    _run_train,
    _spirals,
    _train_history_inputs,
    _validation_accuracy,
)
from grader.specs.hidden._common import in_both_modes, mode_fault


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


def _run_unavailable(module: ModuleType, inputs: Data) -> Data:
    """Devices this machine lacks must raise ValueError; one that exists must be returned
    (the cpu always exists: a get_device that always raises earns nothing here)."""
    mps = getattr(torch.backends, "mps", None)
    have = {"cpu": True, "cuda": torch.cuda.is_available(),
            "mps": bool(mps is not None and mps.is_available())}
    results = [[name, bool(available), _outcome(module.get_device, name)]
               for name, available in have.items()]
    results.append([inputs["bogus"], False, _outcome(module.get_device, inputs["bogus"])])
    return results


def _unavailable_check(actual: Data, expected: Data) -> Verdict:
    for name, available, outcome in actual:
        if available and outcome != f"ok:{name}":
            return Verdict(False, f"get_device({name!r}) gave {outcome}, but {name} is available")
        if not available and outcome != "ValueError":
            got = "returned a device" if outcome.startswith("ok:") else f"raised {outcome}"
            return Verdict(False, f"get_device({name!r}) {got}; {name!r} is not available here, "
                                  "so it must raise ValueError")
    return Verdict(True)


def _run_loader_seeds(module: ModuleType, inputs: Data) -> Data:
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


def _seeds_check(actual: Data, expected: Data) -> Verdict:
    problems = {
        "same_seed_train": "two loaders made with the same seed gave different training orders: "
                           "shuffle with torch.Generator().manual_seed(seed)",
        "same_seed_val": "the same seed gave different validation sets",
        "other_seed_val_differs": "another seed gave the same validation set: choose it with the seed",
        "train_shuffled": "the training loader does not shuffle",
        "reshuffles": "the training loader gives the same order every epoch: shuffle=True with a "
                      "generator reshuffles each epoch",
        "val_stable": "the validation loader changes order between epochs: do not shuffle it",
    }
    for key, message in problems.items():
        if not actual[key]:
            return Verdict(False, message)
    if actual["pin_default"] != [actual["cuda"]] * 2:
        return Verdict(False, f"pin_memory=None gave pin_memory={actual['pin_default']}; it must pin "
                              f"exactly when CUDA is available ({actual['cuda']} here), both loaders")
    if actual["pin_false"]:
        return Verdict(False, "pin_memory=False still pinned the training loader")
    return Verdict(True)


def _train_modes_inputs(rng: np.random.Generator) -> Data:
    return _spirals(rng, n_per_class=30) | {"epochs": 3, "lr": 1e-2}


def _train_modes_check(actual: Data, expected: Data) -> Verdict:
    problem = _history_problem(actual)
    if problem:
        return Verdict(False, problem)
    calls, epochs = actual["calls"], actual["epochs"]
    with_grad = [c for c in calls if c[1]]
    without = [c for c in calls if not c[1]]
    if any(not training for training, _, _ in with_grad):
        return Verdict(False, "the model trained in eval mode: call model.train() at the start of "
                              "each epoch (evaluation switches it to eval mode)")
    if any(training for training, _, _ in without):
        return Verdict(False, "the model was evaluated in train mode (dropout on)")
    if len(with_grad) != epochs * actual["train_batches"]:
        return Verdict(False, f"{len(with_grad)} forward passes with gradients; expected one per "
                              f"training batch per epoch ({epochs} × {actual['train_batches']}) — is "
                              "evaluation done under torch.no_grad()?")
    if len(without) != epochs * actual["val_batches"]:
        return Verdict(False, f"{len(without)} forward passes without gradients; expected one per "
                              f"validation batch per epoch ({epochs} × {actual['val_batches']})")
    return Verdict(True)


def _run_train_cuda(module: ModuleType, inputs: Data) -> Data:
    amp = {"none": False, "float16": torch.float16, "bfloat16": torch.bfloat16}[inputs["amp"]]
    return _run_train(module, inputs, device="cuda", amp=amp) | {"amp": inputs["amp"]}


def _train_cuda_check(actual: Data, expected: Data) -> Verdict:
    problem = _history_problem(actual)
    if problem:
        return Verdict(False, problem)
    if actual["devices"] != ["cuda"]:
        return Verdict(False, f"after train(device='cuda') the model is on {actual['devices']}")
    accuracy = _validation_accuracy(actual, expected)
    if isinstance(accuracy, str):
        return Verdict(False, accuracy)
    if accuracy < VAL_ACC_LIMIT:
        return Verdict(False, f"validation accuracy {accuracy:.1%} is below {VAL_ACC_LIMIT:.0%}")
    train_dtypes = {c[2] for c in actual["calls"] if c[1]}
    want = {"none": "torch.float32", "float16": "torch.float16", "bfloat16": "torch.bfloat16"}[actual["amp"]]
    if train_dtypes != {want}:
        return Verdict(False, f"the first Linear layer computed in {sorted(train_dtypes)} while "
                              f"training; expected {want} (torch.autocast on CUDA)")
    return Verdict(True)


def _run_evaluate_modes(module: ModuleType, inputs: Data) -> Data:
    model = _model(inputs["seed"], inputs["x"].shape[1], inputs["c"], dropout=0.5)
    runs = in_both_modes(model, lambda: module.evaluate(model, _eval_loader(inputs),
                                                        torch.device("cpu")))
    return [{"start_train": start, "calls": calls, "after": after}
            for start, calls, _, after in runs]


_EVALUATE_MODE_FAULTS = {
    "never called": "evaluate never called the model",
    "train mode": "the model ran in train mode (dropout on): call model.eval()",
    "grad on": "gradient tracking was on: evaluate under torch.no_grad()",
    "not restored": "the model started in {start} mode but was left in another: "
                    "restore the previous mode",
}


def _evaluate_modes_check(actual: Data, expected: Data) -> Verdict:
    for run in actual:
        fault = mode_fault(run["calls"], run["after"], run["start_train"], _EVALUATE_MODE_FAULTS)
        if fault is not None:
            return Verdict(False, fault)
    return Verdict(True)


def _throughput_inputs(rng: np.random.Generator) -> Data:
    return {"batch_size": int(rng.choice([64, 128, 256])), "in_dim": int(rng.integers(8, 33)),
            "steps": int(rng.integers(10, 21)), "warmup": int(rng.integers(1, 4)),
            "seed": int(rng.integers(0, 10_000))}


def _run_throughput(module: ModuleType, inputs: Data, device: str = "cpu") -> Data:
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


def _throughput_check(actual: Data, expected: Data) -> Verdict:
    rate = actual["rate"]
    if not math.isfinite(rate) or rate <= 0:
        return Verdict(False, f"measure_throughput returned {rate}; expected samples per second > 0")
    if actual["training_calls"] < actual["steps"] or not actual["changed"]:
        return Verdict(False, f"{actual['training_calls']} training forward passes and parameters "
                              f"{'changed' if actual['changed'] else 'unchanged'}: time `steps` real "
                              "training steps (forward, backward, optimizer step) in train mode")
    if rate < 0.9 * actual["overall"]:
        return Verdict(False, f"{rate:.4g} samples/s is less than the call's overall rate "
                              f"({actual['overall']:.4g}): return steps·batch_size / timed seconds")
    if actual["devices"] != [actual["device"]]:
        return Verdict(False, f"the model ended on {actual['devices']}, not on {actual['device']}")
    return Verdict(True)


HIDDEN_CASES: tuple[Case, ...] = (
    _case("get_device_unavailable", "get_device", 5, _run_unavailable, _unavailable_check,
          lambda rng: {"bogus": str(rng.choice(["tpu", "gpu", "xla0", "cuda:x"]))}, False,
          "Asking for a device this machine lacks (or no device at all) raises ValueError."),
    hidden_variant(PUBLIC_CASES, "move_to", "move_to_deep", 6, _move_inputs(5, True),
                   "Deeper nests and a torch.device argument; numpy arrays and numbers stay as "
                   "they are."),
    _case("make_loaders_seeded", "make_loaders", 8, _run_loader_seeds, _seeds_check, _loader_data,
          False, "Seeded split and shuffling, reshuffled each epoch, unshuffled validation, pin_memory."),
    _case("train_modes", "train", 10, lambda m, i: _run_train(m, i, start_in_eval=True),
          _train_modes_check, _train_modes_inputs, False,
          "Train mode with gradients for every training batch, eval mode without for validation.",
          timeout=TRAINING),
    _case("evaluate_eval_mode_no_grad", "evaluate", 9, _run_evaluate_modes, _evaluate_modes_check,
          _evaluate_inputs, False, "A dropout model: eval mode and no gradients, previous mode restored."),
    _case("measure_throughput_cpu", "measure_throughput", 7, _run_throughput, _throughput_check,
          _throughput_inputs, False, "Samples per second of real training steps on the CPU.",
          timeout=TRAINING),
    _case("train_cuda_device", "train", 4, _run_train_cuda, _train_cuda_check,
          lambda rng: _train_history_inputs(rng) | {"amp": "none"}, False,
          "train(device='cuda') trains there and leaves the model on the GPU.",
          timeout=TRAINING, needs_cuda=True, withheld=("val_check",)),
    _case("train_amp_float16", "train", 4, _run_train_cuda, _train_cuda_check,
          lambda rng: _train_history_inputs(rng) | {"amp": "float16"}, False,
          "amp=torch.float16 on CUDA: autocast in float16 with a gradient scaler, still learns.",
          timeout=TRAINING, needs_cuda=True, withheld=("val_check",)),
    _case("train_amp_bfloat16", "train", 3, _run_train_cuda, _train_cuda_check,
          lambda rng: _train_history_inputs(rng) | {"amp": "bfloat16"}, False,
          "amp=torch.bfloat16 on CUDA: autocast in bfloat16, still learns.",
          timeout=TRAINING, needs_cuda=True, withheld=("val_check",)),
    _case("measure_throughput_cuda", "measure_throughput", 3,
          lambda m, i: _run_throughput(m, i, device="cuda"), _throughput_check, _throughput_inputs,
          False, "Samples per second on the GPU, synchronised; the model stays on the GPU.",
          timeout=TRAINING, needs_cuda=True),
)
