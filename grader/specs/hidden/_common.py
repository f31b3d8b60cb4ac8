"""What several hidden spec modules share: judging the records of a model's forward calls in
train mode and in eval mode (grader.sandbox.harness._common.in_both_modes makes them). Never shipped
to students.
"""

from __future__ import annotations

from grader.grading.case import Data


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
