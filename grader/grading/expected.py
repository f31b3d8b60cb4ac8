"""Expected outputs: the reference run in the trusted process, or the shipped public ones.

Where `reference/` exists, a case's expected output is its `run` on the reference module,
on the same plain-data inputs the student's child gets (decoded from the same encoding),
cached by (assignment, case, seed). The student release has no `reference/`: there,
public cases use `grader/specs/expected/<assignment>.json`, which `dlgrade release` and
`dlgrade build-expected` write from the reference, holding each public case's inputs (for
the seed owner grader.grading.case.PUBLIC_STUDENT) and its expected output.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import sys
import threading
from pathlib import Path
from types import ModuleType
from typing import Any

from grader.catalog import REFERENCE_DIR, ROOT
from grader.errors import UserError
from grader.grading.case import (
    PUBLIC_STUDENT,
    AssignmentSpec,
    Case,
    case_rng,
    case_seed,
    child_inputs,
    withheld_inputs,
)
from grader.sandbox import codec

EXPECTED_DIR = ROOT / "grader" / "specs" / "expected"
FORMAT = 1


class GradingError(RuntimeError):
    """The grader's own side failed (a reference or a spec): not the student's fault."""


def inputs_digest(inputs_json: Any) -> str:
    text = json.dumps(inputs_json, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def make_inputs(case: Case, student: str, assignment: str) -> Any:
    """A case's inputs for `student`, JSON-ready (what the child will decode)."""
    try:
        return codec.to_jsonable(case.make_inputs(case_rng(student, assignment, case.name)))
    except codec.CodecError as exc:
        raise GradingError(f"{assignment}/{case.name}: make_inputs returned {exc}") from None


class ExpectedStore:
    """Expected outputs for one grading session (thread-safe)."""

    def __init__(self, reference_dir: Path = REFERENCE_DIR, shipped_dir: Path = EXPECTED_DIR) -> None:
        self.reference_dir = reference_dir
        self.shipped_dir = shipped_dir
        self._cache: dict[tuple[str, str, int], Any] = {}
        self._modules: dict[str, ModuleType] = {}
        self._shipped: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def has_reference(self, assignment: str) -> bool:
        return self._reference_path(assignment) is not None

    @functools.cache  # noqa: B019  one answer per session: asked twice a case, a stat each
    def _reference_path(self, assignment: str) -> Path | None:
        path = self.reference_dir / f"{assignment}.py"
        return path if path.is_file() else None

    def reference(self, assignment: str) -> ModuleType:
        """reference/<assignment>.py, imported here in the trusted process only."""
        with self._lock:
            if assignment not in self._modules:
                path = self.reference_dir / f"{assignment}.py"
                name = f"reference.{assignment}"
                module = sys.modules.get(name)
                if module is None or Path(getattr(module, "__file__", "")).resolve() != path.resolve():
                    spec = importlib.util.spec_from_file_location(name, path)
                    assert spec is not None and spec.loader is not None
                    module = importlib.util.module_from_spec(spec)
                    spec.loader.exec_module(module)
                self._modules[assignment] = module
            return self._modules[assignment]

    def shipped(self, assignment: str) -> dict[str, Any]:
        with self._lock:
            if assignment not in self._shipped:
                path = self.shipped_dir / f"{assignment}.json"
                try:
                    data = json.loads(path.read_text())
                except FileNotFoundError:
                    raise UserError(f"no reference solution and no shipped expected outputs for "
                                    f"{assignment} ({path} is missing)") from None
                except ValueError as exc:
                    raise UserError(f"{path} is not valid JSON: {exc}") from None
                if data.get("format") != FORMAT or data.get("assignment") != assignment:
                    raise UserError(f"{path} is not an expected-outputs file for {assignment}")
                self._shipped[assignment] = data
            return self._shipped[assignment]

    def inputs(self, case: Case, student: str, assignment: str) -> Any:
        """The JSON-ready inputs of `case`: shipped ones in a release, else generated."""
        if not self.has_reference(assignment) and case.uses_reference and student == PUBLIC_STUDENT:
            entry = self.shipped(assignment).get("cases", {}).get(case.name)
            if entry is not None:
                return entry["inputs"]
        return make_inputs(case, student, assignment)

    def expected(self, case: Case, student: str, assignment: str, inputs_json: Any) -> Any:
        """The decoded expected output of `case` on these inputs; None for property cases."""
        if not case.uses_reference:
            return codec.from_jsonable(withheld_inputs(case, inputs_json))
        key = (assignment, case.name, case_seed(student, assignment, case.name))
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        if self.has_reference(assignment):
            value = run_reference(case, self.reference(assignment), inputs_json, assignment)
        else:
            entry = self.shipped(assignment).get("cases", {}).get(case.name)
            if entry is None or student != PUBLIC_STUDENT:
                raise UserError(f"no reference solution here (reference/ is absent) and no shipped "
                                f"expected output for {assignment}/{case.name}: grade that with the "
                                "instructor's tree")
            value = codec.from_jsonable(entry["expected"])
        with self._lock:
            self._cache[key] = value
        return value


# One reference run at a time: the torch cases seed torch's global generator and set its
# thread count, which concurrent grading threads would otherwise change under each other.
_REFERENCE_RUN = threading.Lock()


def run_reference(case: Case, reference: ModuleType, inputs_json: Any, assignment: str) -> Any:
    """`case.run` on the reference, as plain data normalised exactly as a child's answer is."""
    try:
        inputs = codec.from_jsonable(child_inputs(case, inputs_json))
        with _REFERENCE_RUN:
            value = case.run(reference, inputs)
        return codec.from_jsonable(codec.to_jsonable(value))
    except Exception as exc:
        raise GradingError(f"the reference failed on {assignment}/{case.name}: "
                           f"{type(exc).__name__}: {exc}") from exc


def build_public_expected(spec: AssignmentSpec, reference: ModuleType) -> dict[str, Any]:
    """The shipped file's content: every public reference case's inputs and expected output."""
    cases: dict[str, Any] = {}
    for case in spec.visible_cases:
        if not case.uses_reference:
            continue
        inputs_json = make_inputs(case, PUBLIC_STUDENT, spec.name)
        expected = run_reference(case, reference, inputs_json, spec.name)
        cases[case.name] = {"inputs_sha256": inputs_digest(inputs_json), "inputs": inputs_json,
                            "expected": codec.to_jsonable(expected)}
    return {"format": FORMAT, "assignment": spec.name, "student": PUBLIC_STUDENT, "cases": cases}
