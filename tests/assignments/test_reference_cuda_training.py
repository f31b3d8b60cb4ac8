"""The reference cuda_training assignment, on CPU; the CUDA parts where a GPU is present."""

from __future__ import annotations

import random
from collections import namedtuple

import numpy as np
import pytest
import torch
from spec_helpers import one_thread_fixture
from torch import nn

from assignments import datasets as ds
from reference import cuda_training as ct

HAS_CUDA = torch.cuda.is_available()
skip_without_cuda = pytest.mark.skipif(not HAS_CUDA, reason="no CUDA")


one_thread = one_thread_fixture()  # tiny models: one torch thread, restored afterwards


def _model(seed: int = 0, dropout: float = 0.2) -> nn.Sequential:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Dropout(dropout), nn.Linear(64, 64),
                         nn.ReLU(), nn.Linear(64, 3))


def _spirals(n_per_class: int = 200):
    return ds.make_spirals(n_per_class, 3, noise=0.15, seed=0)


# ---------------------------------------------------------------- devices


def test_get_device_auto_and_cpu():
    expected = "cuda" if HAS_CUDA else ("mps" if torch.backends.mps.is_available() else "cpu")
    assert ct.get_device() == torch.device(expected)
    assert ct.get_device("auto").type == expected
    assert ct.get_device("cpu") == torch.device("cpu")


@pytest.mark.skipif(HAS_CUDA, reason="CUDA is available here")
def test_get_device_cuda_unavailable_is_value_error():
    with pytest.raises(ValueError, match="cuda"):
        ct.get_device("cuda")


@pytest.mark.skipif(torch.backends.mps.is_available(), reason="MPS is available here")
def test_get_device_mps_unavailable_is_value_error():
    with pytest.raises(ValueError, match="mps"):
        ct.get_device("mps")


def test_get_device_unknown_name():
    with pytest.raises(ValueError, match="tpu"):
        ct.get_device("tpu")


# ---------------------------------------------------------------- move_to


def test_move_to_nested_keeps_structure_and_leaves():
    Pair = namedtuple("Pair", "a b")
    arr = np.ones(2)
    obj = {"x": torch.ones(2), "rest": [torch.zeros(1), (torch.ones(3), 7, "s", None, arr)],
           "pair": Pair(torch.ones(1), 2.5)}
    moved = ct.move_to(obj, "meta")  # a device every machine has; tensors visibly move
    assert moved["x"].device.type == "meta"
    assert isinstance(moved["rest"], list) and isinstance(moved["rest"][1], tuple)
    assert moved["rest"][0].device.type == "meta" and moved["rest"][1][0].device.type == "meta"
    assert moved["rest"][1][1:4] == (7, "s", None) and moved["rest"][1][4] is arr
    assert isinstance(moved["pair"], Pair) and moved["pair"].a.device.type == "meta"
    assert moved["pair"].b == 2.5
    assert obj["x"].device.type == "cpu" and obj["rest"][0].device.type == "cpu"  # not modified


def test_move_to_plain_tensor_and_leaf():
    assert ct.move_to(torch.ones(1), torch.device("meta")).device.type == "meta"
    assert ct.move_to(3, "meta") == 3


# ---------------------------------------------------------------- seeds and loaders


def test_set_seed_seeds_python_numpy_torch():
    draws = []
    for _ in range(2):
        ct.set_seed(123)
        draws.append((random.random(), np.random.rand(), torch.rand(1).item()))
    assert draws[0] == draws[1]
    ct.set_seed(124)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) != draws[0]


def _batches(loader) -> list[list[float]]:
    return [xb[:, 0].tolist() for xb, _ in loader]


def test_make_loaders_sizes_split_and_dtypes():
    n = 103
    x = np.stack([np.arange(n), np.zeros(n)], 1).astype(np.float32)  # x[:, 0] names the sample
    y = np.arange(n) % 3
    train, val = ct.make_loaders(x, y, batch_size=10, val_fraction=0.2, seed=5)
    assert len(val.dataset) == round(n * 0.2) == 21 and len(train.dataset) == 82
    seen_train = sorted(v for b in _batches(train) for v in b)
    seen_val = sorted(v for b in _batches(val) for v in b)
    assert sorted(seen_train + seen_val) == list(range(n))  # a partition
    assert len(_batches(train)) == 9 and len(_batches(train)[-1]) == 2  # last batch kept
    xb, yb = next(iter(train))
    assert xb.dtype == torch.float32 and yb.dtype == torch.int64
    assert torch.equal(yb, (xb[:, 0].long() % 3))  # labels travel with their samples


def test_make_loaders_seeded_order():
    x = np.arange(200, dtype=np.float32).reshape(100, 2)
    y = np.zeros(100, dtype=np.int64)
    a_train, a_val = ct.make_loaders(x, y, 16, seed=1)
    b_train, b_val = ct.make_loaders(x, y, 16, seed=1)
    c_train, c_val = ct.make_loaders(x, y, 16, seed=2)
    assert _batches(a_train) == _batches(b_train)  # same seed, same order
    assert _batches(a_val) == _batches(b_val)
    assert _batches(a_val) != _batches(c_val)  # another seed, another split
    first, second = _batches(a_train), _batches(a_train)
    assert first != second  # reshuffled every epoch
    assert sorted(sum(first, [])) == sorted(sum(second, []))
    assert _batches(a_val) == _batches(a_val)  # validation is not shuffled


def test_make_loaders_pin_memory():
    x, y = np.zeros((10, 2), np.float32), np.zeros(10, np.int64)
    assert ct.make_loaders(x, y, 4)[0].pin_memory is HAS_CUDA
    assert ct.make_loaders(x, y, 4, pin_memory=False)[0].pin_memory is False
    assert ct.make_loaders(torch.from_numpy(x), torch.from_numpy(y), 4)[1].pin_memory is HAS_CUDA


# ---------------------------------------------------------------- train and evaluate


def _hooks(model: nn.Module) -> list[tuple[bool, bool]]:
    seen: list[tuple[bool, bool]] = []
    model.register_forward_hook(lambda m, i, o: seen.append((m.training, torch.is_grad_enabled())))
    return seen


@pytest.mark.slow
def test_train_history_and_modes():
    x, y = _spirals()
    train_loader, val_loader = ct.make_loaders(x, y, 32, seed=0)
    model = _model()
    seen = _hooks(model)
    history = ct.train(model, train_loader, val_loader, epochs=25, lr=1e-2, device="cpu")
    assert set(history) == {"train_loss", "val_loss", "val_acc"}
    assert all(len(v) == 25 for v in history.values())
    assert all(isinstance(v, float) for vs in history.values() for v in vs)
    assert history["train_loss"][-1] < history["train_loss"][0] / 4
    assert history["val_loss"][-1] < history["val_loss"][0] / 4
    assert history["val_acc"][-1] >= 0.95
    train_calls = [s for s in seen if s[1]]
    eval_calls = [s for s in seen if not s[1]]
    assert len(train_calls) == 25 * len(train_loader) and all(t for t, _ in train_calls)
    assert len(eval_calls) == 25 * len(val_loader) and not any(t for t, _ in eval_calls)
    assert next(model.parameters()).device.type == "cpu"


def test_train_same_seed_same_history():
    x, y = _spirals(30)
    runs = []
    for _ in range(2):
        loaders = ct.make_loaders(x, y, 16, seed=3)
        runs.append(ct.train(_model(), *loaders, epochs=2, lr=1e-2, device="cpu", seed=4))
    assert runs[0] == runs[1]


def test_train_amp_is_ignored_on_cpu():
    x, y = _spirals(30)
    history = ct.train(_model(), *ct.make_loaders(x, y, 16), epochs=2, lr=1e-2,
                       device=torch.device("cpu"), amp=True)
    assert all(np.isfinite(v) for vs in history.values() for v in vs)


@pytest.mark.parametrize("start_in_train_mode", [True, False])
def test_evaluate_eval_mode_no_grad_restores_mode(start_in_train_mode):
    x, y = _spirals(40)
    _, val_loader = ct.make_loaders(x, y, 7, val_fraction=0.5, seed=0)  # 60 samples, uneven batches
    model = _model(dropout=0.5)
    model.train(start_in_train_mode)
    seen = _hooks(model)
    loss, acc = ct.evaluate(model, val_loader, "cpu")
    assert seen and all(t is False and g is False for t, g in seen)
    assert model.training is start_in_train_mode and model[2].training is start_in_train_mode
    xs = torch.cat([xb for xb, _ in val_loader])
    ys = torch.cat([yb for _, yb in val_loader])
    model.eval()
    with torch.no_grad():
        logits = model(xs)
    assert isinstance(loss, float) and isinstance(acc, float)
    assert loss == pytest.approx(nn.functional.cross_entropy(logits, ys).item(), rel=1e-5)
    assert acc == pytest.approx((logits.argmax(1) == ys).float().mean().item())


def test_measure_throughput_cpu():
    model = _model()
    calls = _hooks(model)
    before = [p.detach().clone() for p in model.parameters()]
    rate = ct.measure_throughput(model, batch_size=64, in_dim=2, device="cpu", steps=10, warmup=2)
    assert np.isfinite(rate) and rate > 0
    assert len(calls) == 1 + 2 + 10  # one forward for the class count, warm-up, timed steps
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))


# ---------------------------------------------------------------- CUDA only


@pytest.mark.parametrize("amp", [torch.float16, torch.bfloat16, True], ids=["fp16", "bf16", "true"])
@pytest.mark.cuda
@skip_without_cuda
def test_train_amp_on_cuda(amp):
    if amp == torch.bfloat16 and not torch.cuda.is_bf16_supported():
        pytest.skip("no bfloat16 on this GPU")
    x, y = _spirals()
    model = _model()
    history = ct.train(model, *ct.make_loaders(x, y, 32), epochs=20, lr=1e-2, device="cuda",
                       amp=amp)
    assert next(model.parameters()).device.type == "cuda"
    assert all(np.isfinite(v) for vs in history.values() for v in vs)
    assert history["val_acc"][-1] >= 0.9


@pytest.mark.cuda
@skip_without_cuda
def test_loaders_pin_on_cuda_and_train_ends_on_cuda():
    x, y = _spirals(50)
    train_loader, val_loader = ct.make_loaders(x, y, 32)
    assert train_loader.pin_memory and val_loader.pin_memory
    xb, _ = next(iter(train_loader))
    assert xb.is_pinned()
    model = _model()
    ct.train(model, train_loader, val_loader, epochs=1, lr=1e-2, device=ct.get_device())
    assert all(p.device.type == "cuda" for p in model.parameters())
    assert ct.move_to({"a": [torch.ones(1)]}, "cuda")["a"][0].is_cuda


@pytest.mark.cuda
@skip_without_cuda
def test_throughput_gpu_beats_cpu():
    def wide():
        return nn.Sequential(nn.Linear(512, 2048), nn.ReLU(), nn.Linear(2048, 2048), nn.ReLU(),
                             nn.Linear(2048, 10))

    cpu = ct.measure_throughput(wide(), 512, 512, "cpu", steps=3, warmup=1)
    gpu = ct.measure_throughput(wide(), 512, 512, "cuda", steps=20, warmup=5)
    gpu_amp = ct.measure_throughput(wide(), 512, 512, "cuda", steps=20, warmup=5, amp=True)
    assert gpu > 2 * cpu and gpu_amp > 0
