"""The mlp grading spec: the reference passes, honest bugs fail their own target only,
the stub fails every case."""

from __future__ import annotations

import pytest
import torch
from spec_helpers import SpecBench, one_thread_fixture, whole_spec_tests
from torch import nn

from assignments import mlp as stub
from grader.grading.case import case_rng, child_inputs, withheld_inputs
from grader.specs import load_spec
from grader.specs._common import network_rows, run_network
from reference import mlp as ref

ASSIGNMENT = "mlp"
SPEC = load_spec(ASSIGNMENT)  # public cases + hidden ones (grader/specs/hidden/mlp.py)
BENCH = SpecBench(SPEC, ref, stub)
TRAINING = {c.name for c in SPEC.cases if not c.uses_reference and c.timeout > 10}
CHEAP = [c for c in SPEC.cases if c.name not in TRAINING]

one_thread = one_thread_fixture()


def test_spec_shape():
    assert SPEC.name == ASSIGNMENT and SPEC.framework == "torch"
    assert SPEC.max_points == 100
    assert sum(c.points for c in SPEC.cases if c.visible) == 40
    assert {c.target for c in SPEC.cases} == {"make_mlp", "count_parameters", "train_step",
                                              "fit_function", "train_classifier", "accuracy"}
    assert BENCH.names("fit_function") | BENCH.names("train_classifier") == TRAINING
    assert all(c.description for c in SPEC.cases)


# the tests every spec passes (spec_helpers), under this module's name
(test_reference_passes_every_case, test_reference_passes_through_the_codec,
 test_stub_fails_every_case) = whole_spec_tests(BENCH, slow=True)


# ---------------------------------------------------------------- honest bugs


def make_mlp_dropout_first(in_dim, hidden, out_dim, activation="relu", dropout=0.0):
    model = ref.make_mlp(in_dim, hidden, out_dim, activation, dropout)
    layers = list(model)
    for i in range(len(layers) - 1):
        if isinstance(layers[i + 1], nn.Dropout):
            layers[i], layers[i + 1] = layers[i + 1], layers[i]
    return nn.Sequential(*layers)


def make_mlp_always_relu(in_dim, hidden, out_dim, activation="relu", dropout=0.0):
    return ref.make_mlp(in_dim, hidden, out_dim, "relu", dropout)


def count_all_parameters(model):
    return sum(p.numel() for p in model.parameters())


def train_step_no_zero_grad(model, x, y, loss_fn, optimizer):
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()
    return loss.item()


def train_step_returns_tensor(model, x, y, loss_fn, optimizer):
    ref.train_step(model, x, y, loss_fn, optimizer)
    return loss_fn(model(x), y)


def accuracy_in_train_mode(model, x, y):
    with torch.no_grad():
        predicted = model(torch.as_tensor(x)).argmax(dim=1)
    return (predicted == torch.as_tensor(y)).float().mean().item()


def accuracy_leaves_eval_mode(model, x, y):
    result = ref.accuracy(model, x, y)
    model.eval()
    return result


def fit_function_too_short(fn, hidden=64, steps=3000, lr=1e-2, seed=0, x_range=(-3.14, 3.14)):
    return ref.fit_function(fn, hidden=hidden, steps=50, lr=lr, seed=seed)


def train_classifier_renamed(*args, **kwargs):
    model, history = ref.train_classifier(*args, **kwargs)
    return model, {"loss": history["train_loss"], "val_acc": history["val_acc"]}


CHEAP_BUGS = [
    ("make_mlp_dropout_first", {"make_mlp": make_mlp_dropout_first}, {"make_mlp_activation_dropout"}),
    ("make_mlp_always_relu", {"make_mlp": make_mlp_always_relu},
     {"make_mlp_activation_dropout", "make_mlp_unknown_activation"}),
    ("count_includes_frozen", {"count_parameters": count_all_parameters},
     {"count_parameters_frozen_buffers"}),
    ("train_step_no_zero_grad", {"train_step": train_step_no_zero_grad}, BENCH.names("train_step")),
    ("train_step_returns_tensor", {"train_step": train_step_returns_tensor}, BENCH.names("train_step")),
    ("accuracy_train_mode", {"accuracy": accuracy_in_train_mode}, {"accuracy_eval_mode_no_grad"}),
    ("accuracy_leaves_eval_mode", {"accuracy": accuracy_leaves_eval_mode},
     {"accuracy_eval_mode_no_grad"}),
]


@pytest.mark.parametrize(("bug", "replacements", "failing"), CHEAP_BUGS, ids=[b[0] for b in CHEAP_BUGS])
def test_cheap_bug_fails_exactly_its_cases(bug, replacements, failing):
    """The non-training cases, each bug alone."""
    assert BENCH.failing(BENCH.copy_with(**replacements), "carol", CHEAP) == failing


@pytest.mark.slow
def test_training_cases_ignore_bugs_elsewhere():
    """The training cases with every cheap bug at once: they exercise only their own target
    (the reference's fit_function and train_classifier use the reference's helpers)."""
    everything = {k: v for _, replacements, _ in CHEAP_BUGS for k, v in replacements.items()}
    cases = [c for c in SPEC.cases if c.name in TRAINING]
    outcomes = BENCH.outcomes(BENCH.copy_with(**everything), "carol", cases)
    assert all(outcomes.values()), outcomes


@pytest.mark.slow
@pytest.mark.parametrize(("bug", "replacements", "failing"), [
    ("fit_function_too_short", {"fit_function": fit_function_too_short}, BENCH.names("fit_function")),
    ("train_classifier_renamed", {"train_classifier": train_classifier_renamed},
     BENCH.names("train_classifier")),
], ids=["fit_function_too_short", "train_classifier_renamed"])
def test_training_bug_fails_exactly_its_cases(bug, replacements, failing):
    cases = [c for c in SPEC.cases if c.target in ("fit_function", "train_classifier")]
    assert BENCH.failing(BENCH.copy_with(**replacements), "dave", cases) == failing


def test_messages_say_what_is_wrong():
    def message(replacements, name):
        return BENCH.verdict(name, BENCH.copy_with(**replacements), "erin").message

    dropout_first = message({"make_mlp": make_mlp_dropout_first}, "make_mlp_activation_dropout")
    assert "layer 1: expected" in dropout_first and "got Dropout" in dropout_first
    assert "ValueError" in message({"make_mlp": make_mlp_always_relu}, "make_mlp_unknown_activation")
    assert "frozen" in message({"count_parameters": count_all_parameters},
                               "count_parameters_frozen_buffers")
    assert "zeroed" in message({"train_step": train_step_no_zero_grad}, "train_step_stale_grads")
    assert "loss.item()" in message({"train_step": train_step_returns_tensor}, "train_step_regression")
    assert "eval" in message({"accuracy": accuracy_in_train_mode}, "accuracy_eval_mode_no_grad")
    assert "restore" in message({"accuracy": accuracy_leaves_eval_mode}, "accuracy_eval_mode_no_grad")


# ---------------------------------------------------------------- verdicts computed here

def _case(name):
    return SPEC.case(name)


def _withheld(name, student="frank"):
    case = _case(name)
    return withheld_inputs(case, case.make_inputs(case_rng(student, ASSIGNMENT, case.name)))


def test_the_fit_is_measured_here_from_the_weights_not_from_the_childs_numbers():
    untrained = nn.Sequential(nn.Linear(1, 64), nn.Tanh(), nn.Linear(64, 1))
    # what a child with a monkeypatched np.mean would have reported: a perfect fit
    forged = {"mse": 0.0, "network": network_rows(untrained), "own_mse": 0.0}
    verdict = _case("fit_function_sin").judge(forged, _withheld("fit_function_sin"))
    assert not verdict.passed and "mean squared error on [-π, π] is" in verdict.message


def test_classifier_accuracy_is_measured_here_on_withheld_points():
    held = _withheld("train_classifier_spirals")["held_out"]
    assert set(held) == {"x", "y", "widths"} and held["widths"] == [2, 64, 64, 3]
    torch.manual_seed(0)
    untrained = nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(),
                              nn.Linear(64, 3))
    forged = {"epochs": 100, "keys": ["train_loss", "val_acc"], "lengths": [100, 100],
              "network": network_rows(untrained), "accuracy": 1.0}
    verdict = _case("train_classifier_spirals").judge(forged, {"held_out": held})
    assert not verdict.passed and "held-out accuracy" in verdict.message
    # the child never sees the held-out points
    case = _case("train_classifier_spirals")
    assert "held_out" not in child_inputs(case, {"held_out": held, "x_train": 1})


@pytest.mark.parametrize("network", [
    [["Linear", torch.zeros(10**6, 1).double().numpy(), None]],  # a huge product, refused unrun
    [["model", "MyNet"]],
    [["Linear", torch.zeros(64, 1).double().numpy(), None], ["GELU"],
     ["Linear", torch.zeros(1, 64).double().numpy(), None]],
])
def test_networks_that_are_not_the_asked_for_mlp_are_refused_before_any_arithmetic(network):
    why = run_network(network, [1, 64, 1], torch.zeros(5, 1).double().numpy())
    assert isinstance(why, str)


def test_forged_mode_records_do_not_hide_an_accuracy_in_train_mode():
    """The records say eval mode without gradients, restored; the value is the model's in
    train mode: the accuracy known here from the weights and labels tells."""
    case = _case("accuracy_eval_mode_no_grad")
    inputs = case.make_inputs(case_rng("ivan", ASSIGNMENT, case.name))
    runs = case.run(BENCH.copy_with(accuracy=accuracy_in_train_mode), child_inputs(case, inputs))
    for run in runs:
        run["calls"] = [[False, False]]
        run["after_train"] = [run["start_train"]] * len(run["after_train"])
    verdict = case.judge(runs, withheld_inputs(case, inputs))
    assert not verdict.passed and "measure in eval mode" in verdict.message
    assert "eval_accuracy" not in child_inputs(case, inputs)
