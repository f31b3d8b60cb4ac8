"""The mlp grading spec: the reference passes, honest bugs fail their own target only,
the stub fails every case."""

from __future__ import annotations

import types

import pytest
import torch
from torch import nn

from assignments import mlp as stub
from grader import codec
from grader.spec import case_rng, evaluate_trusted
from grader.specs import load_spec
from reference import mlp as ref

ASSIGNMENT = "mlp"
SPEC = load_spec(ASSIGNMENT)  # public cases + hidden ones (grader/specs/hidden/mlp.py)
TRAINING = {c.name for c in SPEC.cases if not c.uses_reference and c.timeout > 10}
CHEAP = [c for c in SPEC.cases if c.name not in TRAINING]


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny models train faster on one thread, and much faster on a busy machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _outcomes(module: types.ModuleType, student: str, cases=SPEC.cases) -> dict[str, bool]:
    results = {}
    for case in cases:
        try:
            results[case.name] = evaluate_trusted(case, module, ref, student, ASSIGNMENT).passed
        except Exception:  # the engine reports an exception in run as a failed case
            results[case.name] = False
    return results


def _through_codec(value):
    """What crosses the sandbox boundary: plain data only, JSON with .npy arrays."""
    return codec.decode(codec.encode(value))


def _judge_through_codec(case, module, student):
    """evaluate_trusted, with inputs and outputs crossing the codec as in real grading."""
    def inputs():
        return _through_codec(case.make_inputs(case_rng(student, ASSIGNMENT, case.name)))

    expected = _through_codec(case.run(ref, inputs())) if case.uses_reference else None
    return case.check(_through_codec(case.run(module, inputs())), expected)


def _with(**replacements) -> types.ModuleType:
    module = types.ModuleType("buggy_mlp")
    module.__dict__.update({k: v for k, v in vars(ref).items() if not k.startswith("__")})
    module.__dict__.update(replacements)
    return module


def _names(target: str) -> set[str]:
    return {c.name for c in SPEC.cases if c.target == target}


def test_spec_shape():
    assert SPEC.name == ASSIGNMENT and SPEC.framework == "torch"
    assert SPEC.max_points == 100
    assert sum(c.points for c in SPEC.cases if c.visible) == 40
    assert {c.target for c in SPEC.cases} == {"make_mlp", "count_parameters", "train_step",
                                              "fit_function", "train_classifier", "accuracy"}
    assert _names("fit_function") | _names("train_classifier") == TRAINING
    assert all(c.description for c in SPEC.cases)


@pytest.mark.slow
@pytest.mark.parametrize("student", ["alice", "bob"])
def test_reference_passes_every_case(student):
    outcomes = _outcomes(ref, student)
    assert all(outcomes.values()), [n for n, ok in outcomes.items() if not ok]


@pytest.mark.slow
def test_reference_passes_through_the_codec():
    """Inputs and outputs are plain data the sandbox can send, and still judge as passing."""
    cases = [c for c in SPEC.cases if not c.needs_cuda or torch.cuda.is_available()]
    verdicts = {c.name: _judge_through_codec(c, ref, "zoe") for c in cases}
    failed = {n: v.message for n, v in verdicts.items() if not v.passed}
    assert not failed, failed


def test_stub_fails_every_case():
    outcomes = _outcomes(stub, "alice")
    assert not any(outcomes.values()), [n for n, ok in outcomes.items() if ok]


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
    ("train_step_no_zero_grad", {"train_step": train_step_no_zero_grad}, _names("train_step")),
    ("train_step_returns_tensor", {"train_step": train_step_returns_tensor}, _names("train_step")),
    ("accuracy_train_mode", {"accuracy": accuracy_in_train_mode}, {"accuracy_eval_mode_no_grad"}),
    ("accuracy_leaves_eval_mode", {"accuracy": accuracy_leaves_eval_mode},
     {"accuracy_eval_mode_no_grad"}),
]


@pytest.mark.parametrize(("bug", "replacements", "failing"), CHEAP_BUGS, ids=[b[0] for b in CHEAP_BUGS])
def test_cheap_bug_fails_exactly_its_cases(bug, replacements, failing):
    """The non-training cases, each bug alone."""
    outcomes = _outcomes(_with(**replacements), "carol", CHEAP)
    assert {n for n, ok in outcomes.items() if not ok} == failing


@pytest.mark.slow
def test_training_cases_ignore_bugs_elsewhere():
    """The training cases with every cheap bug at once: they exercise only their own target
    (the reference's fit_function and train_classifier use the reference's helpers)."""
    everything = {k: v for _, replacements, _ in CHEAP_BUGS for k, v in replacements.items()}
    cases = [c for c in SPEC.cases if c.name in TRAINING]
    outcomes = _outcomes(_with(**everything), "carol", cases)
    assert all(outcomes.values()), outcomes


@pytest.mark.slow
@pytest.mark.parametrize(("bug", "replacements", "failing"), [
    ("fit_function_too_short", {"fit_function": fit_function_too_short}, _names("fit_function")),
    ("train_classifier_renamed", {"train_classifier": train_classifier_renamed},
     _names("train_classifier")),
], ids=["fit_function_too_short", "train_classifier_renamed"])
def test_training_bug_fails_exactly_its_cases(bug, replacements, failing):
    cases = [c for c in SPEC.cases if c.target in ("fit_function", "train_classifier")]
    outcomes = _outcomes(_with(**replacements), "dave", cases)
    assert {n for n, ok in outcomes.items() if not ok} == failing


def test_messages_say_what_is_wrong():
    def message(replacements, name):
        return evaluate_trusted(SPEC.case(name), _with(**replacements), ref, "erin", ASSIGNMENT).message

    dropout_first = message({"make_mlp": make_mlp_dropout_first}, "make_mlp_activation_dropout")
    assert "layer 1: expected" in dropout_first and "got Dropout" in dropout_first
    assert "ValueError" in message({"make_mlp": make_mlp_always_relu}, "make_mlp_unknown_activation")
    assert "frozen" in message({"count_parameters": count_all_parameters},
                               "count_parameters_frozen_buffers")
    assert "zeroed" in message({"train_step": train_step_no_zero_grad}, "train_step_stale_grads")
    assert "loss.item()" in message({"train_step": train_step_returns_tensor}, "train_step_regression")
    assert "eval" in message({"accuracy": accuracy_in_train_mode}, "accuracy_eval_mode_no_grad")
    assert "restore" in message({"accuracy": accuracy_leaves_eval_mode}, "accuracy_eval_mode_no_grad")
