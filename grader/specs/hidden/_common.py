"""What several hidden spec modules share: running a model's caller in train mode and in
eval mode while recording the modes of every forward call, and judging those records.
Never shipped to students.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn

from grader.grading.case import Data


@contextmanager
def forward_modes(model: nn.Module) -> Iterator[list[list[bool]]]:
    """[module.training, grad enabled] at every forward call of every module of `model`,
    recorded while inside; the hooks are gone afterwards."""
    seen: list[list[bool]] = []
    handles = [m.register_forward_hook(
        lambda mod, i, o: seen.append([bool(mod.training), torch.is_grad_enabled()]))
        for m in model.modules()]
    try:
        yield seen
    finally:
        for handle in handles:
            handle.remove()


def in_both_modes(model: nn.Module, call: Callable[[], Any]
                  ) -> list[tuple[bool, Data, Any, list[bool]]]:
    """call() with the model put in train mode, then in eval mode. For each: the mode it
    started in, the forward calls' modes (forward_modes), call's result, and the mode of
    every module afterwards."""
    runs = []
    for start_in_train_mode in (True, False):
        model.train(start_in_train_mode)
        with forward_modes(model) as seen:
            result = call()
        after = [bool(m.training) for m in model.modules()]
        runs.append((start_in_train_mode, seen, result, after))
    return runs


def mode_fault(calls: Data, after: list[bool], start_train: bool,
               say: dict[str, str]) -> str | None:
    """What to tell the student about one run of in_both_modes, or None when the model ran
    in eval mode without gradients and was left in the mode it started in. `say` words each
    fault ("never called", "train mode", "grad on", "not restored"); {start} is the mode the
    model started in."""
    if not calls:
        fault = "never called"
    elif any(training for training, _ in calls):
        fault = "train mode"
    elif any(grad for _, grad in calls):
        fault = "grad on"
    elif any(mode != start_train for mode in after):
        fault = "not restored"
    else:
        return None
    return say[fault].format(start="train" if start_train else "eval")
