"""The cuda_training grading spec: the reference passes, honest bugs fail their own target only,
the stub fails every case. CUDA cases run only where a GPU is."""

from __future__ import annotations

import time

import pytest
import torch
from spec_helpers import SpecBench, one_thread_fixture, whole_spec_tests

from assignments import cuda_training as stub
from grader.grading.case import case_rng, child_inputs, withheld_inputs
from grader.sandbox.harness.cuda_training import _model
from grader.specs import load_spec
from grader.specs._common import network_rows
from reference import cuda_training as ref

ASSIGNMENT = "cuda_training"
SPEC = load_spec(ASSIGNMENT)  # public cases + hidden ones (grader/specs/hidden/cuda_training.py)
BENCH = SpecBench(SPEC, ref, stub)
HAS_CUDA = torch.cuda.is_available()
RUNNABLE = BENCH.runnable
CHEAP = [c for c in RUNNABLE if c.target != "train"]

one_thread = one_thread_fixture()


def test_spec_shape():
    assert SPEC.name == ASSIGNMENT and SPEC.framework == "torch"
    assert SPEC.max_points == 100
    assert sum(c.points for c in SPEC.cases if c.visible) == 41
    assert {c.target for c in SPEC.cases} == {"get_device", "move_to", "set_seed", "make_loaders",
                                              "train", "evaluate", "measure_throughput"}
    cuda = {c.name for c in SPEC.cases if c.needs_cuda}
    assert cuda == {"train_cuda_device", "train_amp_float16", "train_amp_bfloat16",
                    "measure_throughput_cuda"}
    assert not any(SPEC.case(n).visible for n in cuda)  # `check` must work on any laptop
    assert all(c.description for c in SPEC.cases)


# the tests every spec passes (spec_helpers), under this module's name
(test_reference_passes_every_case, test_reference_passes_through_the_codec,
 test_stub_fails_every_case) = whole_spec_tests(BENCH, slow=True)


@pytest.mark.cuda
@pytest.mark.skipif(not HAS_CUDA, reason="no CUDA")
def test_cuda_cases_pass_on_the_reference():
    cases = [c for c in SPEC.cases if c.needs_cuda]
    outcomes = BENCH.outcomes(ref, "carol", cases)
    assert all(outcomes.values()), outcomes


# ---------------------------------------------------------------- honest bugs


def get_device_never_fails(prefer="auto"):
    try:
        return ref.get_device(prefer)
    except ValueError:
        return torch.device("cpu")


def move_to_skips_tuples(obj, device):
    if isinstance(obj, tuple):
        return obj
    if isinstance(obj, torch.Tensor):
        return obj.to(device)
    if isinstance(obj, dict):
        return {k: move_to_skips_tuples(v, device) for k, v in obj.items()}
    if isinstance(obj, list):
        return [move_to_skips_tuples(v, device) for v in obj]
    return obj


def move_to_in_place(obj, device):
    if isinstance(obj, dict):
        for k, v in obj.items():
            obj[k] = move_to_in_place(v, device)
        return obj
    return ref.move_to(obj, device)


def set_seed_without_numpy(seed):
    import random

    random.seed(seed)
    torch.manual_seed(seed)


def make_loaders_fixed_split(x, y, batch_size, val_fraction=0.2, seed=0, pin_memory=None):
    """Validation is always the first samples, whatever the seed."""
    x, y = torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(y, dtype=torch.int64)
    n_val = round(len(x) * val_fraction)
    from torch.utils.data import DataLoader, TensorDataset

    pin = torch.cuda.is_available() if pin_memory is None else pin_memory
    return (DataLoader(TensorDataset(x[n_val:], y[n_val:]), batch_size=batch_size, shuffle=True,
                       generator=torch.Generator().manual_seed(seed), pin_memory=pin),
            DataLoader(TensorDataset(x[:n_val], y[:n_val]), batch_size=batch_size, pin_memory=pin))


def train_forgets_train_mode(model, train_loader, val_loader, *, epochs, lr, device, amp=False,
                             seed=0):
    """The reference's loop without model.train(): after a start in eval mode, it never trains
    in train mode (evaluate restores the mode it found)."""
    ref.set_seed(seed)
    model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    history = {"train_loss": [], "val_loss": [], "val_acc": []}
    for _ in range(epochs):
        total, count = 0.0, 0
        for xb, yb in train_loader:
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(xb), yb)
            loss.backward()
            optimizer.step()
            total, count = total + loss.item() * len(yb), count + len(yb)
        val_loss, val_acc = ref.evaluate(model, val_loader, device)
        history["train_loss"].append(total / count)
        history["val_loss"].append(val_loss)
        history["val_acc"].append(val_acc)
    return history


def evaluate_in_train_mode(model, loader, device):
    total, correct, count = 0.0, 0, 0
    with torch.no_grad():
        for xb, yb in loader:
            logits = model(xb)
            total += torch.nn.functional.cross_entropy(logits, yb, reduction="sum").item()
            correct += (logits.argmax(1) == yb).sum().item()
            count += len(yb)
    return total / count, correct / count


def evaluate_mean_of_batches(model, loader, device):
    was = model.training
    model.eval()
    losses, accs = [], []
    with torch.no_grad():
        for xb, yb in loader:
            logits = model(xb)
            losses.append(torch.nn.functional.cross_entropy(logits, yb).item())
            accs.append((logits.argmax(1) == yb).float().mean().item())
    model.train(was)
    return sum(losses) / len(losses), sum(accs) / len(accs)


def throughput_steps_per_second(model, batch_size, in_dim, device, steps=50, warmup=5, amp=False):
    start = time.perf_counter()
    ref.measure_throughput(model, batch_size, in_dim, device, steps=steps, warmup=warmup, amp=amp)
    return steps / (time.perf_counter() - start)


CHEAP_BUGS = [
    ("get_device_never_fails", {"get_device": get_device_never_fails}, {"get_device_unavailable"}),
    ("move_to_skips_tuples", {"move_to": move_to_skips_tuples}, BENCH.names("move_to")),
    ("move_to_in_place", {"move_to": move_to_in_place}, BENCH.names("move_to")),
    ("set_seed_without_numpy", {"set_seed": set_seed_without_numpy}, BENCH.names("set_seed")),
    ("make_loaders_fixed_split", {"make_loaders": make_loaders_fixed_split}, {"make_loaders_seeded"}),
    ("evaluate_in_train_mode", {"evaluate": evaluate_in_train_mode}, BENCH.names("evaluate")),
    # the mode case judges the values too (computed here from weights it drew)
    ("evaluate_mean_of_batches", {"evaluate": evaluate_mean_of_batches}, BENCH.names("evaluate")),
    ("throughput_steps_per_second", {"measure_throughput": throughput_steps_per_second},
     {"measure_throughput_cpu"}),
]


@pytest.mark.parametrize(("bug", "replacements", "failing"), CHEAP_BUGS, ids=[b[0] for b in CHEAP_BUGS])
def test_cheap_bug_fails_exactly_its_cases(bug, replacements, failing):
    assert BENCH.failing(BENCH.copy_with(**replacements), "dave", CHEAP) == failing


@pytest.mark.slow
def test_train_cases_with_bugs_elsewhere_and_in_train():
    """Every cheap bug at once leaves the train cases passing (they build their own loaders and
    the reference's train uses the reference's helpers); a train that never calls model.train()
    fails exactly the mode case."""
    everything = {k: v for _, replacements, _ in CHEAP_BUGS for k, v in replacements.items()}
    train_cases = [c for c in RUNNABLE if c.target == "train"]
    assert all(BENCH.outcomes(BENCH.copy_with(**everything), "erin", train_cases).values())
    failing = BENCH.failing(BENCH.copy_with(train=train_forgets_train_mode), "erin", train_cases)
    assert failing == {"train_modes"}


def test_messages_say_what_is_wrong():
    def message(replacements, name):
        return BENCH.verdict(name, BENCH.copy_with(**replacements), "frank").message

    assert "ValueError" in message({"get_device": get_device_never_fails}, "get_device_unavailable")
    assert "a tensor on cpu" in message({"move_to": move_to_skips_tuples}, "move_to_nested")
    assert "modified its input" in message({"move_to": move_to_in_place}, "move_to_deep")
    assert "another seed" in message({"make_loaders": make_loaders_fixed_split}, "make_loaders_seeded")
    assert "train mode" in message({"evaluate": evaluate_in_train_mode}, "evaluate_eval_mode_no_grad")
    assert "samples/s" in message({"measure_throughput": throughput_steps_per_second},
                                  "measure_throughput_cpu")


def test_train_accuracy_is_measured_here_from_the_returned_weights():
    case = SPEC.case("train_history")
    inputs = case.make_inputs(case_rng("grace", ASSIGNMENT, case.name))
    untrained = _model(0)
    # a forged history that claims a perfect model, and the untrained weights
    forged = {"history": {"train_loss": [1.0] + [0.1] * 19, "val_loss": [0.1] * 20,
                          "val_acc": [1.0] * 20},
              "calls": [], "devices": ["cpu"], "epochs": 20, "train_batches": 1, "val_batches": 1,
              "network": network_rows(untrained)}
    verdict = case.judge(forged, withheld_inputs(case, inputs))
    assert not verdict.passed and "on the validation data, below" in verdict.message


def test_forged_mode_records_do_not_hide_an_evaluation_in_train_mode():
    """The records say eval mode without gradients, restored; the values are those of the
    model in train mode: the loss and accuracy computed here from the weights tell."""
    case = SPEC.case("evaluate_eval_mode_no_grad")
    inputs = case.make_inputs(case_rng("heidi", ASSIGNMENT, case.name))
    module = BENCH.copy_with(evaluate=evaluate_in_train_mode)
    runs = case.run(module, child_inputs(case, inputs))
    for run in runs:
        run["calls"] = [[False, False]]
        run["after"] = [run["start_train"]] * len(run["after"])
    verdict = case.judge(runs, withheld_inputs(case, inputs))
    assert not verdict.passed and "evaluate in eval mode" in verdict.message
    assert "eval_values" not in child_inputs(case, inputs)
