"""Grading one submission against the hidden reference: the API the CLI and batch grading use.

The trusted process (this one) loads the spec, makes each case's inputs from
case_rng(student, assignment, case), gets the expected output from the reference (or the
shipped public outputs), and sends source and inputs, as plain data, to a sandboxed
child (grader.sandbox); it compares what comes back with grader.grading.compare-based judges and
scores. Student code never runs here, and nothing it prints is read.

Student ids: `student=` when given; otherwise the name of the submission's folder when the
path looks like `<student>/<assignment>.py`; otherwise "anonymous". The inputs of
`cases="visible"` grading (`dlgrade check`) are always those of
grader.grading.case.PUBLIC_STUDENT, the seed owner of the shipped expected outputs.
"""

from __future__ import annotations

import hashlib
import importlib
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

from grader.catalog import ROOT, get_assignment
from grader.errors import UserError
from grader.grading.case import PUBLIC_STUDENT, AssignmentSpec, Case, child_inputs
from grader.grading.cuda import cuda_available
from grader.grading.expected import ExpectedStore, GradingError
from grader.grading.results import Report, TestResult
from grader.grading.submission import (
    ANONYMOUS,
    SourceFile,
    default_student,
    detect_assignment,
    find_submissions,
    neighbours,
    read_submission,
)
from grader.sandbox import bwrap, codec, gpu_lease
from grader.sandbox.harness import Harness
from grader.sandbox.limits import Limits
from grader.sandbox.pool import CaseRequest, Sandbox, SandboxConfig

IMPORT_TIMEOUT = 5.0  # seconds to import a submission (before timeout_scale); numpy, torch
# and the datasets are already imported in the warm process, so an import takes milliseconds

DEFAULT_SPEC_LOADER = "grader.specs:load_spec"

__all__ = ["DEFAULT_SPEC_LOADER", "Grader", "GradingError", "grade_path"]


class Grader:
    """Context manager that owns the warm sandbox (zygote processes) and the expected-output cache.

    Thread-safe: grade_file may be called from many threads at once (one child per call).
    `protect`: more paths to hide from student code besides reference/ (the gradebook's
    folder, the folder of submissions). `limits`: the children's resource limits
    (grader.sandbox.limits.Limits: memory, file size, processes).
    `spec_loader`: "module:function" returning an assignment's spec, loaded here in the
    trusted process only (a child receives a public harness's name, never a spec).
    `store`: where expected outputs come from (the reference, or the shipped ones).
    """

    def __init__(self, *, cases: Literal["all", "visible"] = "all", require_cuda: bool = False,
                 timeout_scale: float = 1.0, use_bwrap: bool | None = None,
                 protect: Iterable[Path] = (), limits: Limits | None = None,
                 spec_loader: str = DEFAULT_SPEC_LOADER,
                 store: ExpectedStore | None = None) -> None:
        if cases not in ("all", "visible"):
            raise ValueError(f"cases must be 'all' or 'visible', not {cases!r}")
        if not timeout_scale > 0:
            raise UserError(f"timeout scale must be positive, got {timeout_scale}")
        self.cases = cases  # which cases run: every one, or the visible ones (dlgrade check)
        self.require_cuda = require_cuda
        self.timeout_scale = float(timeout_scale)
        self.store = store or ExpectedStore()
        module_name, _, function = spec_loader.partition(":")
        self._load_spec = getattr(importlib.import_module(module_name), function or "load_spec")
        self._specs: dict[str, AssignmentSpec] = {}
        self._lock = threading.Lock()
        self._gpu_leases: gpu_lease.GpuLeases | None = None
        self.sandbox = Sandbox(SandboxConfig(
            use_bwrap=use_bwrap, hide=tuple(Path(p).resolve() for p in protect),
            limits=limits or Limits()))

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self) -> Grader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.sandbox.close()

    # ------------------------------------------------------------------ grading

    def gpu_leases(self) -> gpu_lease.GpuLeases | None:
        """The leases of this machine's visible GPUs (None without CUDA), made once."""
        with self._lock:
            if self._gpu_leases is None and cuda_available():
                self._gpu_leases = gpu_lease.GpuLeases(gpu_lease.visible_devices())
            return self._gpu_leases

    def spec(self, assignment: str) -> AssignmentSpec:
        with self._lock:
            if assignment not in self._specs:
                self._specs[assignment] = self._load_spec(assignment)
            return self._specs[assignment]

    def grade_file(self, path: Path, assignment: str | None = None,
                   student: str | None = None) -> Report:
        return self.grade(read_submission(Path(path)), assignment, student)

    def grade(self, file: SourceFile, assignment: str | None = None,
              student: str | None = None) -> Report:
        """Grade a submission already read (its sha256 is that of the bytes graded)."""
        name = assignment or detect_assignment(file.path)
        get_assignment(name)
        who = student or default_student(file.path)
        keep = (ROOT, Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve())
        return self._grade(file.source, name, who, origin=str(file.path), sha256=file.sha256,
                           notes=list(file.notes), protect=neighbours(file.path, keep))

    def grade_source(self, source: str, assignment: str, student: str | None,
                     origin: str = "<string>") -> Report:
        sha = hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest()
        return self._grade(source, assignment, student or ANONYMOUS, origin=origin, sha256=sha,
                           notes=[], protect=[])

    def _expected_into(self, out: dict[str, Any], cases: Sequence[Case], student: str,
                       assignment: str, inputs: dict[str, Any]) -> None:
        try:
            for case in cases:
                out[case.name] = self.store.expected(case, student, assignment, inputs[case.name])
        except BaseException as exc:  # noqa: BLE001  re-raised in the grading thread
            out[""] = exc

    def _grade(self, source: str, assignment: str, student: str, *, origin: str, sha256: str,
               notes: list[str], protect: Sequence[Path]) -> Report:
        started = time.perf_counter()
        spec = self.spec(assignment)
        cases = spec.cases if self.cases == "all" else spec.visible_cases
        seed_owner = PUBLIC_STUDENT if self.cases == "visible" else student
        notes = list(notes) + self.sandbox.notes

        skipped: list[Case] = []
        if any(c.needs_cuda for c in cases) and not cuda_available():
            skipped = [c for c in cases if c.needs_cuda]
            if self.require_cuda:
                raise UserError(f"{len(skipped)} case(s) of {assignment} need CUDA, and CUDA is not "
                                "available here")
            notes.append(f"{len(skipped)} CUDA case(s) skipped (no CUDA); left out of the maximum")
        skipped_names = {c.name for c in skipped}
        to_run = [c for c in cases if c.name not in skipped_names]

        inputs = {c.name: self.store.inputs(c, seed_owner, assignment) for c in to_run}
        requests = [CaseRequest(c.name, c.target, child_inputs(c, inputs[c.name]),
                                c.timeout * self.timeout_scale, **_harness_request(c))
                    for c in to_run]
        # the expected outputs are computed here while the child runs the submission; the
        # helper starts once the child has been asked for, so that the child's start never
        # waits behind the reference for this process's GIL
        expected: dict[str, Any] = {}
        helper = threading.Thread(target=self._expected_into, name="expected", daemon=True,
                                  args=(expected, to_run, seed_owner, assignment, inputs))
        # only a child with CUDA cases sees a GPU, and only while it holds that GPU's lease
        cuda = any(c.needs_cuda for c in to_run)
        lease: gpu_lease.Lease | None = None
        try:
            with gpu_lease.maybe_hold(cuda, self.gpu_leases() if cuda else None) as lease:
                outcomes = self.sandbox.run(
                    framework=spec.framework, assignment=assignment, source=source,
                    filename=f"{assignment}.py", cases=requests,
                    import_timeout=IMPORT_TIMEOUT * self.timeout_scale, protect=protect,
                    cuda=cuda, cuda_device=lease.device if lease else None,
                    while_running=helper.start) if requests else {}
        finally:
            if helper.ident is not None:
                helper.join()
        if "" in expected:  # the reference itself failed: a grader bug, not the student's
            raise expected[""]

        shown_name = Path(origin).name if Path(origin).suffix == ".py" else f"{assignment}.py"
        results = []
        for case in cases:
            if case.name in skipped_names:
                results.append(TestResult(case.name, case.target, 0.0, case.points, "skipped",
                                          "skipped (no CUDA)", 0.0, case.visibility))
                continue
            outcome = outcomes[case.name]
            if outcome.ok:
                passed, message = judge(case, outcome.value, expected[case.name])
            else:
                passed, message = False, outcome.error
            if not passed and shown_name != f"{assignment}.py":
                # the child runs the file as <assignment>.py; say the name the student knows
                message = message.replace(f"{assignment}.py", shown_name)
            if lease is not None and case.needs_cuda and not passed:
                message = gpu_lease.own_oom(message)
            # a message may quote the child's data: made safe for a terminal, JSON, HTML, SQLite
            results.append(TestResult(case.name, case.target, case.points if passed else 0.0,
                                      case.points, "passed" if passed else "failed",
                                      codec.clean_text(message), round(outcome.seconds, 4),
                                      case.visibility, output=outcome.output))
        return Report(assignment=assignment, student=student, sha256=sha256, source=origin,
                      tests=results, execution_time=time.perf_counter() - started, notes=notes)


def _harness_request(case: Case) -> dict[str, Any]:
    """What a child needs to run `case`: its public harness's name and parameters."""
    if not isinstance(case.run, Harness):
        raise GradingError(f"case {case.name}: its run is not a public harness "
                           "(grader.sandbox.harness.Harness), so it cannot run in the sandbox")
    request = case.run.request()
    return {"harness": request["harness"], "params": request["params"]}


def judge(case: Case, actual: Any, expected: Any) -> tuple[bool, str]:
    """The case's judge, here in the trusted process, on decoded (validated) plain data.

    Whatever the answer holds, this returns: an answer whose structure the judge cannot
    read (a missing key, an int where a float was expected, a string too long to print)
    fails the case as a malformed answer."""
    try:
        verdict = case.judge(actual, expected)
        return bool(verdict.passed), str(verdict.message)
    except Exception as exc:  # noqa: BLE001
        try:
            detail = f"{type(exc).__name__}: {exc}"
        except Exception:  # noqa: BLE001  an exception whose message itself cannot be built
            detail = type(exc).__name__
        return False, f"malformed answer: the answer has an unexpected structure ({detail})"


def grade_path(path: Path, assignment: str | None = None, student: str | None = None,
               on_report: Callable[[Report, int, int], None] | None = None,
               allow_weak_sandbox: bool = False, **grader_kwargs: Any) -> list[Report]:
    """Grade a file, or every submission in a class folder (`find_submissions`).

    A folder is a class: without a working bwrap it is refused (UserError) unless
    `allow_weak_sandbox` (or an explicit use_bwrap=False).

    `on_report(report, done, total)` is called after each submission (a progress bar).
    """
    path = Path(path)
    if assignment is not None:
        get_assignment(assignment)
    if not path.exists():
        raise UserError(f"no such file or folder: {path}")
    if path.is_dir():
        if student is not None:
            raise UserError("--student names the student of one file, not of a folder")
        files = [f.path for f in find_submissions(path, [assignment] if assignment else None)]
        if not files:
            want = f"{assignment}.py" if assignment else "<assignment>.py"
            raise UserError(f"no submissions (<student>/{want}) in {path}; to grade one file, "
                            "give the file")
        protect = [path.resolve(), *grader_kwargs.pop("protect", ())]
        if (not bwrap.status().working and grader_kwargs.get("use_bwrap") is not False
                and not allow_weak_sandbox):
            raise UserError(bwrap.weak_mode_refusal())
    else:
        files, protect = [path], list(grader_kwargs.pop("protect", ()))
    reports = []
    with Grader(protect=protect, **grader_kwargs) as grader:
        for f in files:
            reports.append(grader.grade_file(f, assignment, student))
            if on_report is not None:
                on_report(reports[-1], len(reports), len(files))
    return reports
