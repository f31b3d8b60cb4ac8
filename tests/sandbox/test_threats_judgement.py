"""The child never owns a judgement: it runs a public harness on plain-data inputs and
returns raw observations; cases, checks, thresholds and withheld data stay here.

A submission that rewrites every piece of grading code it can reach to report success for
the training cases (property cases: a threshold on a trained model) gets no points for
them, because the trusted process runs the returned network itself on data the child
never saw. Run with bwrap where it works and without it (the other layers alone).
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from test_threats import hostile_submission

from grader.catalog import ROOT
from grader.grading.case import AssignmentSpec
from grader.grading.grader import Grader
from grader.sandbox import bwrap
from grader.specs import load_spec

SETTINGS = [pytest.param(None, id="bwrap-if-working"), pytest.param(False, id="no-bwrap")]
PROPERTY_CASES = ("fit_function_sin", "fit_function_other", "train_classifier_spirals",
                  "train_classifier_digits")


@pytest.mark.parametrize("use_bwrap", SETTINGS)
def test_forged_harness_earns_nothing_for_property_cases(tmp_path, use_bwrap):
    path = hostile_submission(tmp_path, "forge_harness", assignment="mlp")
    with Grader(use_bwrap=use_bwrap) as grader:
        report = grader.grade_file(path, "mlp")
        spec = grader.spec("mlp")
    results = {t.name: t for t in report.tests}
    for name in PROPERTY_CASES:
        assert spec.case(name).run.name.startswith("mlp."), name  # judged here from weights
        assert results[name].status == "failed", (name, results[name].message)
        assert results[name].points == 0
    assert "mean squared error on [-π, π] is" in results["fit_function_sin"].message
    assert "held-out accuracy of the trained model is" in results["train_classifier_spirals"].message
    # the rest of the submission is the reference: its other targets still pass
    others = [t for t in report.tests if t.target not in ("fit_function", "train_classifier")]
    assert others and all(t.status == "passed" for t in others), [
        (t.name, t.message) for t in others if t.status != "passed"]


SPEC_PROBE = """
import sys

def mse(pred, target):
    loaded = sorted(m for m in sys.modules if m.startswith(("grader.grading.case", "reference")))
    importable = []
    for name in ("grader.specs", "grader.specs.losses", "grader.specs.hidden.losses", "reference"):
        try:
            __import__(name)
            importable.append(name)
        except Exception:
            pass
    raise RuntimeError(f"LOADED {loaded} IMPORTABLE {importable} END")
"""


@pytest.mark.parametrize("use_bwrap", SETTINGS)
def test_the_child_holds_no_spec_and_cannot_import_one(tmp_path, use_bwrap):
    if use_bwrap is None and not bwrap.status().working:
        pytest.skip(f"bwrap {bwrap.status().detail}")
    path = tmp_path / "mallory" / "losses.py"
    path.parent.mkdir()
    path.write_text(SPEC_PROBE)
    with Grader(use_bwrap=use_bwrap) as grader:
        report = grader.grade_file(path, "losses")
    message = next(t.message for t in report.tests if t.name == "mse_matrix")
    assert "LOADED [] IMPORTABLE [] END" in message, message


# ------------------------------------------------ property cases judged from values computed here


def mode_cases(assignment: str) -> AssignmentSpec:
    """The spec of `assignment` cut down to the cases that measure a dropout model in eval
    mode (and one other case of each, to see the rest of a submission judged as usual):
    enough for these tests, a few seconds to grade."""
    spec = load_spec(assignment)
    keep = {"cuda_training": ("evaluate_value", "evaluate_eval_mode_no_grad", "train_modes"),
            "mlp": ("accuracy_value", "accuracy_eval_mode_no_grad")}[assignment]
    return replace(spec, cases=tuple(spec.case(name) for name in keep))


def grade_beside_reference(tmp_path, threat: str, assignment: str, use_bwrap) -> tuple[dict, dict]:
    """The hostile submission and the honest reference, graded by one Grader: {case: result}."""
    hostile = hostile_submission(tmp_path, threat, assignment=assignment)
    honest = tmp_path / "alice" / f"{assignment}.py"
    honest.parent.mkdir()
    honest.write_text((ROOT / "reference" / f"{assignment}.py").read_text())
    with Grader(use_bwrap=use_bwrap, spec_loader=f"{__name__}:mode_cases") as grader:
        reports = [grader.grade_file(path, assignment) for path in (hostile, honest)]
    return tuple({t.name: t for t in report.tests} for report in reports)


@pytest.mark.parametrize("use_bwrap", SETTINGS)
def test_forged_mode_records_earn_nothing_for_evaluate_and_train_in_eval_mode(tmp_path, use_bwrap):
    hostile, honest = grade_beside_reference(tmp_path, "forge_eval_modes", "cuda_training",
                                             use_bwrap)
    forged = hostile["evaluate_eval_mode_no_grad"]
    assert forged.status == "failed" and forged.points == 0, forged.message
    # the forged records said eval mode; the values, computed here from the weights, did not
    assert "evaluate in eval mode" in forged.message, forged.message
    # train validates with that evaluate: the records said eval mode, the last epoch's values
    # are not the returned model's in eval mode, computed here
    forged = hostile["train_modes"]
    assert forged.status == "failed" and forged.points == 0, forged.message
    assert "the returned model in eval mode gives" in forged.message, forged.message
    assert all(t.status == "passed" and t.points == t.max_points for t in honest.values()), [
        (t.name, t.message) for t in honest.values()]


@pytest.mark.parametrize("use_bwrap", SETTINGS)
def test_forged_mode_records_earn_nothing_for_accuracy_in_eval_mode(tmp_path, use_bwrap):
    hostile, honest = grade_beside_reference(tmp_path, "forge_eval_modes", "mlp", use_bwrap)
    forged = hostile["accuracy_eval_mode_no_grad"]
    assert forged.status == "failed" and forged.points == 0, forged.message
    # the forged records said eval mode; the accuracy, known here from the weights, did not
    assert "measure in eval mode" in forged.message, forged.message
    assert all(t.status == "passed" and t.points == t.max_points for t in honest.values()), [
        (t.name, t.message) for t in honest.values()]
