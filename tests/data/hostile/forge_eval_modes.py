# Threat (cuda_training and mlp): measuring in train mode (dropout on), and the harness's
# mode recorders rewritten, in every grading module this process has loaded, to report eval
# mode whenever gradients are off and the model's mode restored. The forged records must
# earn nothing: the values give train mode away.
import sys

import torch


def _train_mode_logits(model, x):
    model.train()  # dropout on: what the forged records hide
    return model(torch.as_tensor(x))


@torch.no_grad()
def evaluate(model, loader, device):
    total, correct, n = 0.0, 0, 0
    for xb, yb in loader:
        logits = _train_mode_logits(model, xb)
        total += torch.nn.functional.cross_entropy(logits, yb, reduction="sum").item()
        correct += int((logits.argmax(1) == yb).sum())
        n += len(yb)
    return total / n, correct / n


def accuracy(model, x, y):
    logits = _train_mode_logits(model, x)
    return float((logits.argmax(1) == torch.as_tensor(y)).float().mean())


def _forged_in_both_modes(model, call):
    runs = []
    for start in (True, False):
        model.train(start)
        result = call()
        model.train(start)
        runs.append((start, [[False, False]], result, [start for _ in model.modules()]))
    return runs


for _name, _module in list(sys.modules.items()):
    if _name.startswith("grader") and callable(getattr(_module, "in_both_modes", None)):
        _module.in_both_modes = _forged_in_both_modes


def _forged_hook_calls(model):
    """Records of train's forward calls: "train mode" exactly when gradients are on."""
    seen = []
    model.register_forward_hook(lambda m, i, o: seen.append(
        [torch.is_grad_enabled(), torch.is_grad_enabled(), str(o.dtype)]))
    return seen


for _name, _module in list(sys.modules.items()):
    if _name.startswith("grader") and callable(getattr(_module, "_hook_calls", None)):
        _module._hook_calls = _forged_hook_calls
