"""A stand-in grader for the class-scale tests: it reads a submission's text, never runs it.

A line `BUG:<target>` fails the cases of that target; `CRASH` makes the grader itself
raise (an engine failure, not a student's); `SLEEP:<seconds>` makes grading take that long.
The hidden cases' messages quote a secret input, so tests can check it never leaks.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from grader.grading.results import Report, TestResult
from grader.grading.submission import SourceFile

SECRET = "SECRET-INPUT-7f3a"

# (case, target, points, visibility): 100 points, 40 visible and 60 hidden, like the real specs
CASES = (
    ("mse_small", "mse", 10.0, "visible"),
    ("mse_grad_small", "mse_grad", 10.0, "visible"),
    ("softmax_rows", "softmax", 20.0, "visible"),
    ("mse_hidden", "mse", 20.0, "hidden"),
    ("mse_grad_hidden", "mse_grad", 20.0, "hidden"),
    ("softmax_large_logits", "softmax", 20.0, "hidden"),
)


def fake_report(path: Path, assignment: str, student: str | None, text: str | None = None,
                sha256: str | None = None) -> Report:
    if text is None:
        text = path.read_text()
    if sha256 is None:
        sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
    tests = []
    for name, target, points, visibility in CASES:
        bug = re.search(rf"BUG:{target}\b", text) is not None
        message = ""
        if bug:
            message = (f"expected 0.25 for input x={SECRET}, got 0.5 (a factor 2)"
                       if visibility == "hidden" else "max abs error 0.25 at index (0,): a factor 2")
        tests.append(TestResult(name=name, target=target, points=0.0 if bug else points,
                                max_points=points, status="failed" if bug else "passed",
                                message=message, seconds=0.001, visibility=visibility))
    return Report(assignment=assignment, student=student, sha256=sha256,
                  source=str(path), tests=tests, execution_time=0.01)


@dataclass
class FakeGrader:
    """Thread-safe like the real one; counts calls and the most calls at once."""

    calls: list[tuple[str, str]] = field(default_factory=list)
    active: int = 0
    peak: int = 0
    closed: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def grade(self, file: SourceFile, assignment: str | None = None,
              student: str | None = None) -> Report:
        with self._lock:
            self.calls.append((student or "", assignment or ""))
            self.active += 1
            self.peak = max(self.peak, self.active)
        try:
            text = file.source
            if "CRASH" in text:
                raise RuntimeError("sandbox could not start")
            m = re.search(r"SLEEP:([0-9.]+)", text)
            if m:
                time.sleep(float(m.group(1)))
            return fake_report(file.path, assignment or file.path.stem, student, text, file.sha256)
        finally:
            with self._lock:
                self.active -= 1

    def close(self) -> None:
        self.closed = True


def make_class(root: Path, students: dict[str, dict[str, str]]) -> Path:
    """root/<student>/<assignment>.py with the given texts."""
    for student, files in students.items():
        (root / student).mkdir(parents=True, exist_ok=True)
        for assignment, text in files.items():
            (root / student / f"{assignment}.py").write_text(text)
    return root
