"""Hidden cases of assignment 5 (mlp): dropout and other activations, no hidden layer, an
unknown activation, frozen layers and buffers, stale gradients, another function to fit,
the digits, a seeded history, and eval mode without gradients in accuracy. Never shipped
to students.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from grader.grading.case import Case, Data, Verdict
from grader.sandbox.harness import Harness
from grader.specs._common import hidden_variant, labels, run_network
from grader.specs.hidden._common import clear_rows, linear_weights, mode_fault, network_of
from grader.specs.mlp import (
    PUBLIC_CASES,
    TRAINING,
    _case,
    _classifier_judge,
    _fit_inputs,
    _held_out,
    _mlp_relu,
    _run_classifier,
)

_run_bad_activation = Harness("mlp.bad_activation")
_run_history = Harness("mlp.history")
_run_accuracy_modes = Harness("mlp.accuracy_modes")

DIGITS_LIMIT = 0.93  # the reference over 300 student seeds: at least 94.0 % on 300 held-out images, mean 97.1 %


def _mlp_activation_dropout(rng: np.random.Generator) -> Data:
    return _mlp_relu(rng) | {"activation": str(rng.choice(["sigmoid", "tanh"])),
                             "dropout": float(rng.choice([0.1, 0.25, 0.5]))}


def _mlp_no_hidden(rng: np.random.Generator) -> Data:
    return {"in_dim": int(rng.integers(1, 20)), "hidden": [], "out_dim": int(rng.integers(1, 12)),
            "activation": str(rng.choice(["relu", "sigmoid", "tanh"])), "dropout": float(rng.choice([0.0, 0.3]))}


def _bad_activations(rng: np.random.Generator) -> Data:
    return {"names": [str(v) for v in rng.choice(["gelu", "softplus", "swish", "elu", "linear"], 2,
                                                  replace=False)] + [""],
            "valid": str(rng.choice(["relu", "sigmoid", "tanh"]))}


def _bad_activation_judge(actual: Data, expected: Data) -> Verdict:
    (valid, built), *unknown = actual
    if built != "model":
        got = f"raised {built}" if built.endswith(("Error", "Exception")) else f"returned a {built}"
        return Verdict(False, f"make_mlp(3, [4], 2, activation={valid!r}) {got}; a known activation "
                              "must build the model (only unknown names raise ValueError)")
    for name, outcome in unknown:
        if outcome != "ValueError":
            return Verdict(False, f"make_mlp(..., activation={name!r}) gave {outcome}; "
                                  "an unknown activation must raise ValueError")
    return Verdict(True)


def _count_tricky(rng: np.random.Generator) -> Data:
    return {"widths": [int(v) for v in rng.integers(2, 40, 4)], "tricky": True}


def _step_classifier(rng: np.random.Generator) -> Data:
    n, d, c = int(rng.integers(8, 33)), int(rng.integers(2, 6)), int(rng.integers(2, 6))
    return {"seed": int(rng.integers(0, 2**31)), "kind": "classifier",
            "x": rng.normal(size=(n, d)).astype(np.float32), "y": labels(rng, n, c),
            "hidden": int(rng.integers(4, 17)), "lr": float(rng.uniform(0.001, 0.01))}


def _fit_variant(rng: np.random.Generator) -> Data:
    return _fit_inputs(rng, float(rng.uniform(0.5, 1.5)), float(rng.uniform(0.5, 1.25)),
                       float(rng.uniform(-0.5, 0.5)))


def _digits(rng: np.random.Generator) -> Data:
    """A seeded split of the digits; a third of its test images validate, the rest are held out."""
    from assignments.datasets import load_digits

    x_train, y_train, x_test, y_test = load_digits(seed=int(rng.integers(0, 1000)))
    perm = rng.permutation(len(x_test))
    val, test = perm[:150], perm[150:]
    settings = {"hidden": [128], "epochs": 30, "lr": 3e-3, "batch_size": 64,
                "seed": int(rng.integers(0, 1000))}
    return {"x_train": x_train, "y_train": y_train, "x_val": x_test[val], "y_val": y_test[val],
            "settings": settings, "held_out": _held_out(x_test[test], y_test[test], settings, 10)}


def _small_spirals(rng: np.random.Generator) -> Data:
    from assignments.datasets import make_spirals

    x, y = make_spirals(40, 3, noise=0.2, seed=int(rng.integers(0, 1000)))
    perm = rng.permutation(len(x))
    return {"x_train": x[perm[30:]], "y_train": y[perm[30:]], "x_val": x[perm[:30]],
            "y_val": y[perm[:30]], "seed": int(rng.integers(0, 1000))}


def _history_judge(actual: Data, expected: Data) -> Verdict:
    first, again, other = actual
    if sorted(first) != ["train_loss", "val_acc"]:
        return Verdict(False, f"history keys are {sorted(first)}, expected ['train_loss', 'val_acc']")
    if any(len(v) != 4 for v in first.values()):
        return Verdict(False, "4 epochs must give 4 values in each history list")
    if not all(np.isfinite(first["train_loss"])) or not all(0 <= a <= 1 for a in first["val_acc"]):
        return Verdict(False, "train_loss must be finite and val_acc a fraction in [0, 1]")
    if first != again:
        return Verdict(False, "two runs with the same seed gave different histories: call "
                              "torch.manual_seed(seed) first and shuffle with a generator seeded by seed")
    if first == other:
        return Verdict(False, "runs with different seeds gave identical histories: is seed used?")
    if not first["train_loss"][-1] < first["train_loss"][0]:
        return Verdict(False, f"the training loss did not go down: {first['train_loss']}")
    return Verdict(True)


def _accuracy_modes_inputs(rng: np.random.Generator) -> Data:
    """A dropout classifier with weights drawn here, so its eval-mode predictions are known
    here (rows whose prediction is a near-tie are left out); the labels are those predictions
    with a random share of them changed. Withheld: the eval-mode accuracy."""
    # more rows and units than the public case, so that dropout changes some predictions
    n, d, c, h = int(rng.integers(200, 400)), int(rng.integers(2, 8)), int(rng.integers(3, 6)), 32
    inputs = {"seed": int(rng.integers(0, 2**31)), "x": rng.normal(size=(n, d)).astype(np.float32),
              "hidden": h, "c": c}
    weights = linear_weights(rng, [d, h, c])
    logits = run_network(network_of(weights, [["ReLU", "Dropout"]]), [d, h, c], inputs["x"])
    keep = clear_rows(logits)
    x, predicted = inputs["x"][keep], np.argmax(logits[keep], axis=1)
    changed = rng.choice(len(x), size=int(rng.integers(len(x) // 5, len(x) // 3 + 1)), replace=False)
    y = predicted.copy()
    y[changed] = (y[changed] + rng.integers(1, c, len(changed))) % c
    return inputs | {"x": x, "y": y.astype(np.int64), "weights": weights,
                     "eval_accuracy": float(np.mean(predicted == y))}


_ACCURACY_MODE_FAULTS = {
    "never called": "accuracy never called the model",
    "train mode": "the model ran in train mode (dropout on): call model.eval() first",
    "grad on": "gradient tracking was on: run the model under torch.no_grad()",
    "not restored": "the model started in {start} mode but was not left in it: "
                    "restore the previous mode (model.train(was_training))",
}


def _modes_judge(actual: Data, expected: Data) -> Verdict:
    # The hook records (mode, gradient tracking, mode afterwards) are the child's own report:
    # they word an honest mistake, but a tampering submission can forge them. What holds
    # against one is the value: this process drew the weights and the labels and knows the
    # eval-mode accuracy, and a model measured in train mode (dropout on) gives another.
    right = float(expected["eval_accuracy"])
    for run in actual:
        fault = mode_fault(run["calls"], run["after_train"], run["start_train"],
                           _ACCURACY_MODE_FAULTS)
        if fault is not None:
            return Verdict(False, fault)
    for run in actual:
        if abs(run["value"] - right) > 1e-6:
            start = "train" if run["start_train"] else "eval"
            return Verdict(False, f"after the model was put in {start} mode, accuracy returned "
                                  f"{run['value']:.4f}; the model in eval mode gives {right:.4f}: "
                                  "measure in eval mode (dropout off)")
    return Verdict(True)


# (target, name, points, make_inputs, description): the target's public case on other inputs
_harder = partial(hidden_variant, PUBLIC_CASES)

HIDDEN_CASES: tuple[Case, ...] = (
    _harder("make_mlp", "make_mlp_activation_dropout", 6, _mlp_activation_dropout,
            "Sigmoid or tanh, with Dropout after each activation."),
    _harder("make_mlp", "make_mlp_no_hidden", 3, _mlp_no_hidden,
            "No hidden layers: a single Linear, whatever the activation and dropout."),
    # Which exception make_mlp raised is the child's own report (nothing of it can be checked
    # here: the exception never leaves the child), so a tampering submission can forge it;
    # hence few points. Its valid-name half keeps an always-raising make_mlp from earning them.
    _case("make_mlp_unknown_activation", "make_mlp", 3, _run_bad_activation, _bad_activation_judge,
          _bad_activations, False, "An unknown activation name raises ValueError.",
          uses_reference=False),
    _harder("count_parameters", "count_parameters_frozen_buffers", 7, _count_tricky,
            "Frozen layers and BatchNorm buffers do not count; bias-free layers."),
    _harder("train_step", "train_step_stale_grads", 8, _step_classifier,
            "Three Adam steps on a classifier whose gradients start non-zero."),
    _harder("fit_function", "fit_function_other", 10, _fit_variant,
            "Another smooth function, fitted to a mean squared error below 1e-3."),
    _case("train_classifier_digits", "train_classifier", 12, _run_classifier,
          _classifier_judge(DIGITS_LIMIT), _digits, False,
          "The 8×8 digits: at least 93 % accuracy on 300 held-out test images.",
          timeout=TRAINING, uses_reference=False, withheld=("held_out",)),
    # Determinism is the child's own report: showing that two runs agree would take running
    # the student's training here, which only the sandbox may do; two weight sets sent back
    # would prove no more than two histories (a tampering child sends the same one twice).
    # Hence few points; the held-out accuracy of the digits case, computed here, carries them.
    _case("train_classifier_history_seed", "train_classifier", 2, _run_history, _history_judge,
          _small_spirals, False, "History has one value per epoch; the same seed gives the same run.",
          timeout=TRAINING, uses_reference=False),
    _case("accuracy_eval_mode_no_grad", "accuracy", 9, _run_accuracy_modes, _modes_judge,
          _accuracy_modes_inputs, False,
          "A dropout model: eval mode and no gradients while measuring, previous mode restored.",
          uses_reference=False, withheld=("eval_accuracy",)),
)
