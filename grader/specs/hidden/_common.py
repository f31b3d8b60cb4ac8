"""What several hidden spec modules share: judging the records of a model's forward calls in
train mode and in eval mode (grader.sandbox.harness._common.in_both_modes makes them), and
models whose weights this process draws, so that it knows their outputs. Never shipped to
students.
"""

from __future__ import annotations

import numpy as np

from grader.grading.case import Data


def mode_fault(calls: Data, after: list[bool], start_train: bool,
               say: dict[str, str]) -> str | None:
    """What to tell the student about one run of in_both_modes, or None when the model ran
    in eval mode without gradients and was left in the mode it started in. `say` words each
    fault ("never called", "train mode", "grad on", "not restored"); {start} is the mode the
    model started in. The records are the child's own report: they word an honest mistake,
    and a case that must hold against a forged report judges values computed here as well."""
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


# --------------------------------------------------------------- models whose outputs are known here


def linear_weights(rng: np.random.Generator, widths: list[int]) -> list[list[np.ndarray]]:
    """[weight (out, in), bias] in float32 for each Linear layer of these widths, drawn like
    torch's default initialisation. The child's model is given these weights, so this
    process knows that model and computes its eval-mode outputs itself (run_network)."""
    pairs = []
    for fan_in, fan_out in zip(widths, widths[1:], strict=False):
        bound = 1.0 / np.sqrt(fan_in)
        pairs.append([rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32),
                      rng.uniform(-bound, bound, fan_out).astype(np.float32)])
    return pairs


def network_of(weights: list[list[np.ndarray]], between: list[list[str]]) -> list[list[Data]]:
    """The rows run_network reads: Linear layers with these weights, `between[i]` (layer
    names such as ["ReLU", "Dropout"]) after the i-th."""
    rows: list[list[Data]] = []
    for i, (weight, bias) in enumerate(weights):
        rows.append(["Linear", weight.astype(np.float64), bias.astype(np.float64)])
        rows += [[name] for name in (between[i] if i < len(between) else [])]
    return rows


def clear_rows(logits: np.ndarray, gap: float = 1e-3) -> np.ndarray:
    """The rows whose two largest logits differ by more than `gap`: their predicted class is
    the same in float32 there and float64 here, so an accuracy can be compared exactly."""
    top = np.sort(logits, axis=1)
    return top[:, -1] - top[:, -2] > gap
