"""The cuda_training grading spec: the reference passes, honest bugs fail their own target only,
the stub fails every case. CUDA cases run only where a GPU is."""

from __future__ import annotations

import time
import types

import pytest
import torch

from assignments import cuda_training as stub
from grader import codec
from grader.spec import case_rng, evaluate_trusted
from grader.specs import load_spec
from reference import cuda_training as ref

ASSIGNMENT = "cuda_training"
SPEC = load_spec(ASSIGNMENT)  # public cases + hidden ones (grader/specs/hidden/cuda_training.py)
HAS_CUDA = torch.cuda.is_available()
RUNNABLE = [c for c in SPEC.cases if HAS_CUDA or not c.needs_cuda]
CHEAP = [c for c in RUNNABLE if c.target != "train"]


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _outcomes(module: types.ModuleType, student: str, cases=RUNNABLE) -> dict[str, bool]:
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
    module = types.ModuleType("buggy_cuda_training")
    module.__dict__.update({k: v for k, v in vars(ref).items() if not k.startswith("__")})
    module.__dict__.update(replacements)
    return module


def _names(target: str) -> set[str]:
    return {c.name for c in RUNNABLE if c.target == target}


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


@pytest.mark.cuda
@pytest.mark.skipif(not HAS_CUDA, reason="no CUDA")
def test_cuda_cases_pass_on_the_reference():
    cases = [c for c in SPEC.cases if c.needs_cuda]
    outcomes = _outcomes(ref, "carol", cases)
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
    ("move_to_skips_tuples", {"move_to": move_to_skips_tuples}, _names("move_to")),
    ("move_to_in_place", {"move_to": move_to_in_place}, _names("move_to")),
    ("set_seed_without_numpy", {"set_seed": set_seed_without_numpy}, _names("set_seed")),
    ("make_loaders_fixed_split", {"make_loaders": make_loaders_fixed_split}, {"make_loaders_seeded"}),
    ("evaluate_in_train_mode", {"evaluate": evaluate_in_train_mode}, _names("evaluate")),
    ("evaluate_mean_of_batches", {"evaluate": evaluate_mean_of_batches}, {"evaluate_value"}),
    ("throughput_steps_per_second", {"measure_throughput": throughput_steps_per_second},
     {"measure_throughput_cpu"}),
]


@pytest.mark.parametrize(("bug", "replacements", "failing"), CHEAP_BUGS, ids=[b[0] for b in CHEAP_BUGS])
def test_cheap_bug_fails_exactly_its_cases(bug, replacements, failing):
    outcomes = _outcomes(_with(**replacements), "dave", CHEAP)
    assert {n for n, ok in outcomes.items() if not ok} == failing


@pytest.mark.slow
def test_train_cases_with_bugs_elsewhere_and_in_train():
    """Every cheap bug at once leaves the train cases passing (they build their own loaders and
    the reference's train uses the reference's helpers); a train that never calls model.train()
    fails exactly the mode case."""
    everything = {k: v for _, replacements, _ in CHEAP_BUGS for k, v in replacements.items()}
    train_cases = [c for c in RUNNABLE if c.target == "train"]
    assert all(_outcomes(_with(**everything), "erin", train_cases).values())
    outcomes = _outcomes(_with(train=train_forgets_train_mode), "erin", train_cases)
    assert {n for n, ok in outcomes.items() if not ok} == {"train_modes"}


def test_messages_say_what_is_wrong():
    def message(replacements, name):
        return evaluate_trusted(SPEC.case(name), _with(**replacements), ref, "frank", ASSIGNMENT).message

    assert "ValueError" in message({"get_device": get_device_never_fails}, "get_device_unavailable")
    assert "a tensor on cpu" in message({"move_to": move_to_skips_tuples}, "move_to_nested")
    assert "modified its input" in message({"move_to": move_to_in_place}, "move_to_deep")
    assert "another seed" in message({"make_loaders": make_loaders_fixed_split}, "make_loaders_seeded")
    assert "train mode" in message({"evaluate": evaluate_in_train_mode}, "evaluate_eval_mode_no_grad")
    assert "samples/s" in message({"measure_throughput": throughput_steps_per_second},
                                  "measure_throughput_cpu")
