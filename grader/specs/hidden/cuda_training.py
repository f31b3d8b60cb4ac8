"""Hidden cases of assignment 6 (cuda_training): devices that are not there, deeper
nests for move_to, seeded loaders, train and evaluate modes, CPU throughput, and the GPU
cases (CUDA device, float16 and bfloat16 autocast, GPU throughput). Never shipped to
students.
"""

from __future__ import annotations

import math

import numpy as np

from grader.grading.case import Case, Data, Verdict
from grader.sandbox.harness import Harness
from grader.specs._common import hidden_variant, run_network
from grader.specs.cuda_training import (
    PUBLIC_CASES,
    TRAINING,
    VAL_ACC_LIMIT,
    VALUE,
    _case,
    _evaluate_inputs,
    _history_problem,
    _loader_data,
    _move_inputs,
    _spirals,
    _train_history_inputs,
    _validation_accuracy,
)
from grader.specs.hidden._common import clear_rows, linear_weights, mode_fault, network_of

_run_unavailable = Harness("cuda_training.unavailable")
_run_loader_seeds = Harness("cuda_training.loader_seeds")
_run_evaluate_modes = Harness("cuda_training.evaluate_modes")
_run_throughput = Harness("cuda_training.throughput")
_run_train_cuda = Harness("cuda_training.train_cuda")


def _unavailable_judge(actual: Data, expected: Data) -> Verdict:
    for name, available, outcome in actual:
        if available and outcome != f"ok:{name}":
            return Verdict(False, f"get_device({name!r}) gave {outcome}, but {name} is available")
        if not available and outcome != "ValueError":
            got = "returned a device" if outcome.startswith("ok:") else f"raised {outcome}"
            return Verdict(False, f"get_device({name!r}) {got}; {name!r} is not available here, "
                                  "so it must raise ValueError")
    return Verdict(True)


def _seeds_judge(actual: Data, expected: Data) -> Verdict:
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
    inputs = _spirals(rng, n_per_class=30) | {"epochs": 3, "lr": 1e-2}
    # withheld: a copy of the validation data, for this process to evaluate the model with
    inputs["val_check"] = {"x": inputs["x_val"], "y": inputs["y_val"], "widths": [2, 64, 64, 3]}
    return inputs


def _last_evaluation_problem(actual: Data, expected: Data) -> str | None:
    """Whether the last epoch's val_loss and val_acc are the returned model's, in eval mode,
    computed here on the validation data: a validation run in train mode (dropout on) gives
    other values, whatever the hook records say."""
    check = expected["val_check"]
    logits = run_network(actual["network"], check["widths"], check["x"])
    if isinstance(logits, str):
        return f"the trained model: {logits}"
    y = np.asarray(check["y"])
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = float(-np.mean(log_probs[np.arange(len(y)), y]))
    accuracy = float(np.mean(np.argmax(logits, axis=1) == y))
    history = actual["history"]
    # float32 there, float64 here: a near-tie may flip one prediction (as in train_history)
    if (not VALUE(np.float64(history["val_loss"][-1]), np.float64(loss)).passed
            or abs(history["val_acc"][-1] - accuracy) > 1 / len(y) + 1e-9):
        return (f"the last epoch's validation gave val_loss {history['val_loss'][-1]:.6g}, val_acc "
                f"{history['val_acc'][-1]:.4f}; the returned model in eval mode gives {loss:.6g}, "
                f"{accuracy:.4f}: evaluate in eval mode (dropout off), after the epoch's training")
    return None


def _train_modes_judge(actual: Data, expected: Data) -> Verdict:
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
    # The checks above read the hook records, the child's own report: they word an honest
    # mistake, and a tampering submission can forge them. This one holds against forgery.
    problem = _last_evaluation_problem(actual, expected)
    return Verdict(False, problem) if problem else Verdict(True)


def _train_cuda_judge(actual: Data, expected: Data) -> Verdict:
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


_EVALUATE_MODE_FAULTS = {
    "never called": "evaluate never called the model",
    "train mode": "the model ran in train mode (dropout on): call model.eval()",
    "grad on": "gradient tracking was on: evaluate under torch.no_grad()",
    "not restored": "the model started in {start} mode but was left in another: "
                    "restore the previous mode",
}


def _evaluate_modes_inputs(rng: np.random.Generator) -> Data:
    """The public case's inputs, with weights drawn here for the dropout model; rows whose
    prediction is a near-tie are left out. Withheld: the eval-mode loss and accuracy,
    computed here from those weights."""
    inputs = _evaluate_inputs(rng)
    d, c = inputs["x"].shape[1], inputs["c"]
    weights = linear_weights(rng, [d, 64, 64, c])
    network = network_of(weights, [["ReLU", "Dropout"], ["ReLU"]])
    logits = run_network(network, [d, 64, 64, c], inputs["x"])
    keep = clear_rows(logits)
    x, y, logits = inputs["x"][keep], inputs["y"][keep], logits[keep]
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = float(-np.mean(log_probs[np.arange(len(y)), y]))
    accuracy = float(np.mean(np.argmax(logits, axis=1) == y))
    return inputs | {"x": x, "y": y, "weights": weights, "eval_values": [loss, accuracy]}


def _evaluate_modes_judge(actual: Data, expected: Data) -> Verdict:
    # The hook records (mode, gradient tracking, mode afterwards) are the child's own report:
    # they word an honest mistake, but a tampering submission can forge them. What holds
    # against one is the values: this process knows the weights and computed the eval-mode
    # loss and accuracy itself, and a model evaluated in train mode (dropout on) gives others.
    for run in actual:
        fault = mode_fault(run["calls"], run["after"], run["start_train"], _EVALUATE_MODE_FAULTS)
        if fault is not None:
            return Verdict(False, fault)
    want = np.asarray(expected["eval_values"], dtype=np.float64)
    for run in actual:
        verdict = VALUE(np.asarray(run["value"], dtype=np.float64), want)
        if not verdict.passed:
            start = "train" if run["start_train"] else "eval"
            return Verdict(False, f"after the model was put in {start} mode, evaluate returned "
                                  f"(loss, accuracy) = ({run['value'][0]:.6g}, {run['value'][1]:.4f}); "
                                  f"the model in eval mode gives ({want[0]:.6g}, {want[1]:.4f}): "
                                  "evaluate in eval mode (dropout off)")
    return Verdict(True)


def _throughput_inputs(rng: np.random.Generator) -> Data:
    return {"batch_size": int(rng.choice([64, 128, 256])), "in_dim": int(rng.integers(8, 33)),
            "steps": int(rng.integers(10, 21)), "warmup": int(rng.integers(1, 4)),
            "seed": int(rng.integers(0, 10_000))}


def _throughput_judge(actual: Data, expected: Data) -> Verdict:
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
    # Devices, exceptions, loader orders, pinning and timings below are the child's own
    # report: this process cannot see the child's devices, exceptions or loaders, nor time
    # its code, so a tampering submission can forge them; hence few points for such cases.
    # The eval-mode cases are judged from values computed here and carry the points.
    _case("get_device_unavailable", "get_device", 2, _run_unavailable, _unavailable_judge,
          lambda rng: {"bogus": str(rng.choice(["tpu", "gpu", "xla0", "cuda:x"]))}, False,
          "Asking for a device this machine lacks (or no device at all) raises ValueError."),
    hidden_variant(PUBLIC_CASES, "move_to", "move_to_deep", 6, _move_inputs(5, True),
                   "Deeper nests and a torch.device argument; numpy arrays and numbers stay as "
                   "they are."),
    _case("make_loaders_seeded", "make_loaders", 3, _run_loader_seeds, _seeds_judge, _loader_data,
          False, "Seeded split and shuffling, reshuffled each epoch, unshuffled validation, pin_memory."),
    _case("train_modes", "train", 16, Harness("cuda_training.train", start_in_eval=True),
          _train_modes_judge, _train_modes_inputs, False,
          "Train mode with gradients for every training batch, eval mode without for validation.",
          timeout=TRAINING, withheld=("val_check",)),
    _case("evaluate_eval_mode_no_grad", "evaluate", 15, _run_evaluate_modes, _evaluate_modes_judge,
          _evaluate_modes_inputs, False,
          "A dropout model: eval mode and no gradients, previous mode restored.",
          withheld=("eval_values",)),
    _case("measure_throughput_cpu", "measure_throughput", 3, _run_throughput, _throughput_judge,
          _throughput_inputs, False, "Samples per second of real training steps on the CPU.",
          timeout=TRAINING),
    _case("train_cuda_device", "train", 4, _run_train_cuda, _train_cuda_judge,
          lambda rng: _train_history_inputs(rng) | {"amp": "none"}, False,
          "train(device='cuda') trains there and leaves the model on the GPU.",
          timeout=TRAINING, needs_cuda=True, withheld=("val_check",)),
    _case("train_amp_float16", "train", 4, _run_train_cuda, _train_cuda_judge,
          lambda rng: _train_history_inputs(rng) | {"amp": "float16"}, False,
          "amp=torch.float16 on CUDA: autocast in float16 with a gradient scaler, still learns.",
          timeout=TRAINING, needs_cuda=True, withheld=("val_check",)),
    _case("train_amp_bfloat16", "train", 3, _run_train_cuda, _train_cuda_judge,
          lambda rng: _train_history_inputs(rng) | {"amp": "bfloat16"}, False,
          "amp=torch.bfloat16 on CUDA: autocast in bfloat16, still learns.",
          timeout=TRAINING, needs_cuda=True, withheld=("val_check",)),
    _case("measure_throughput_cuda", "measure_throughput", 3,
          Harness("cuda_training.throughput", device="cuda"), _throughput_judge, _throughput_inputs,
          False, "Samples per second on the GPU, synchronised; the model stays on the GPU.",
          timeout=TRAINING, needs_cuda=True),
)
