"""The child never owns a judgement: it runs a public harness on plain-data inputs and
returns raw observations; cases, checks, thresholds and withheld data stay here.

A submission that rewrites every piece of grading code it can reach to report success for
the training cases (property cases: a threshold on a trained model) gets no points for
them, because the trusted process runs the returned network itself on data the child
never saw. Run with bwrap where it works and without it (the other layers alone).
"""

from __future__ import annotations

import pytest
from test_threats import hostile_submission

from grader.grading.grader import Grader
from grader.sandbox import bwrap

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
