"""The reference MLP assignment: structure, one training step, and training that works."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from spec_helpers import one_thread_fixture
from torch import nn

from assignments import datasets as ds
from reference import mlp

one_thread = one_thread_fixture()  # tiny models: one torch thread, restored afterwards


def _layout(model: nn.Sequential) -> list[tuple]:
    out = []
    for layer in model:
        if isinstance(layer, nn.Linear):
            out.append(("Linear", layer.in_features, layer.out_features))
        elif isinstance(layer, nn.Dropout):
            out.append(("Dropout", layer.p))
        else:
            out.append((type(layer).__name__,))
    return out


@pytest.mark.parametrize(("activation", "layer"), [("relu", "ReLU"), ("sigmoid", "Sigmoid"),
                                                   ("tanh", "Tanh")])
def test_make_mlp_layers(activation, layer):
    model = mlp.make_mlp(2, [16, 8], 3, activation)
    assert isinstance(model, nn.Sequential)
    assert _layout(model) == [("Linear", 2, 16), (layer,), ("Linear", 16, 8), (layer,),
                              ("Linear", 8, 3)]


def test_make_mlp_dropout_after_each_activation():
    model = mlp.make_mlp(2, [16, 8], 3, "tanh", dropout=0.25)
    assert _layout(model) == [("Linear", 2, 16), ("Tanh",), ("Dropout", 0.25),
                              ("Linear", 16, 8), ("Tanh",), ("Dropout", 0.25), ("Linear", 8, 3)]


def test_make_mlp_no_hidden_is_one_linear():
    assert _layout(mlp.make_mlp(5, [], 2)) == [("Linear", 5, 2)]
    assert _layout(mlp.make_mlp(5, (), 2, dropout=0.5)) == [("Linear", 5, 2)]


def test_make_mlp_unknown_activation():
    with pytest.raises(ValueError, match="gelu"):
        mlp.make_mlp(2, [4], 1, activation="gelu")


def test_count_parameters_skips_frozen():
    model = mlp.make_mlp(3, [5], 2)
    assert mlp.count_parameters(model) == (3 * 5 + 5) + (5 * 2 + 2)
    for p in model[0].parameters():
        p.requires_grad_(False)
    assert mlp.count_parameters(model) == 5 * 2 + 2
    model[2].bias.requires_grad_(False)
    assert mlp.count_parameters(model) == 5 * 2


def test_train_step_equals_one_manual_step():
    torch.manual_seed(0)
    model = mlp.make_mlp(4, [8], 3)
    twin = mlp.make_mlp(4, [8], 3)
    twin.load_state_dict(model.state_dict())
    x, y = torch.randn(10, 4), torch.randint(0, 3, (10,))
    loss_fn = nn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
    twin_opt = torch.optim.SGD(twin.parameters(), lr=0.5, momentum=0.9)
    for p in model.parameters():  # stale gradients must be cleared, not added to
        p.grad = torch.ones_like(p)
    for _ in range(2):
        loss = mlp.train_step(model, x, y, loss_fn, opt)
        twin_opt.zero_grad()
        expected = loss_fn(twin(x), y)
        expected.backward()
        twin_opt.step()
        assert isinstance(loss, float)
        assert loss == pytest.approx(expected.item(), rel=1e-6)  # the loss before the step
        for a, b in zip(model.parameters(), twin.parameters(), strict=True):
            torch.testing.assert_close(a, b)


@pytest.mark.slow
def test_fit_function_sin():
    model, mse = mlp.fit_function(np.sin)
    assert isinstance(mse, float) and mse < 1e-3
    grid = torch.linspace(-np.pi, np.pi, 333).unsqueeze(1)
    with torch.no_grad():
        own = torch.mean((model(grid) - torch.sin(grid)) ** 2).item()
    assert own < 1e-3
    assert [type(m) for m in model] == [nn.Linear, nn.Tanh, nn.Linear]
    assert model[0].out_features == 64


def test_fit_function_needs_enough_steps():
    """Existence is not a recipe: the same network, barely trained, does not fit."""
    _, mse = mlp.fit_function(np.sin, steps=5)
    assert mse > 1e-2


def _spirals_split(seed: int):
    x, y = ds.make_spirals(200, 3, noise=0.15, seed=seed)
    perm = np.random.default_rng(seed).permutation(len(x))
    val, train = perm[:150], perm[150:]
    return x[train], y[train], x[val], y[val]


@pytest.mark.slow
def test_train_classifier_spirals():
    x_tr, y_tr, x_val, y_val = _spirals_split(0)
    model, history = mlp.train_classifier(x_tr, y_tr, x_val, y_val, hidden=(64, 64), epochs=60,
                                          lr=1e-2, batch_size=32, seed=0)
    assert set(history) == {"train_loss", "val_acc"}
    assert len(history["train_loss"]) == len(history["val_acc"]) == 60
    assert history["train_loss"][-1] < history["train_loss"][0] / 5
    assert history["val_acc"][-1] >= 0.95
    assert mlp.accuracy(model, x_val, y_val) == pytest.approx(history["val_acc"][-1])


@pytest.mark.slow
def test_train_classifier_digits_defaults():
    x_tr, y_tr, x_te, y_te = ds.load_digits()
    model, history = mlp.train_classifier(x_tr, y_tr, x_te, y_te)
    assert len(history["val_acc"]) == 30
    assert mlp.accuracy(model, x_te, y_te) >= 0.95


def test_train_classifier_deterministic_per_seed():
    x_tr, y_tr, x_val, y_val = _spirals_split(1)
    runs = [mlp.train_classifier(x_tr, y_tr, x_val, y_val, hidden=(16,), epochs=3, seed=s)[1]
            for s in (7, 7, 8)]
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]


def _dropout_model() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 32), nn.ReLU(), nn.Dropout(0.5), nn.Linear(32, 3))


def _record_modes(model: nn.Module) -> list[tuple[bool, bool]]:
    seen: list[tuple[bool, bool]] = []
    for m in model.modules():
        m.register_forward_hook(lambda mod, i, o: seen.append((mod.training, torch.is_grad_enabled())))
    return seen


@pytest.mark.parametrize("start_in_train_mode", [True, False])
def test_accuracy_eval_mode_no_grad_and_restores_mode(start_in_train_mode):
    model = _dropout_model()
    model.train(start_in_train_mode)
    seen = _record_modes(model)
    x = np.random.default_rng(0).normal(size=(64, 4)).astype(np.float32)
    with torch.no_grad():
        model.eval()
        y = model(torch.from_numpy(x)).argmax(1).numpy()
    model.train(start_in_train_mode)
    y[:16] = (y[:16] + 1) % 3  # a quarter wrong
    seen.clear()
    acc = mlp.accuracy(model, x, y)
    assert acc == pytest.approx(0.75)  # exact only with dropout off
    assert seen and all(training is False and grad is False for training, grad in seen)
    assert model.training is start_in_train_mode
    assert all(m.training is start_in_train_mode for m in model.modules())


def test_accuracy_accepts_tensors():
    model = _dropout_model()
    x = torch.randn(20, 4)
    with torch.no_grad():
        model.eval()
        y = model(x).argmax(1)
    assert mlp.accuracy(model, x, y) == 1.0
