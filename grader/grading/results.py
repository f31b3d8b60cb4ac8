"""What grading produces: one TestResult per case, gathered in a Report."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

from grader.grading.case import Visibility

Status = Literal["passed", "failed", "skipped"]
HIDDEN_MESSAGE = "hidden case"  # what a student sees instead of a hidden case's message


@dataclass
class TestResult:
    name: str
    target: str
    points: float
    max_points: float
    status: Status
    message: str
    seconds: float
    visibility: Visibility
    output: str = ""  # what the student's code printed in this case (not stored, not exported)

    __test__ = False  # not a pytest class

    @property
    def student_message(self) -> str | None:
        """What the student may read of the message: nothing of a hidden case (its
        message can quote the withheld inputs)."""
        return None if self.visibility == "hidden" else self.message


@dataclass
class Report:
    assignment: str
    student: str | None
    sha256: str
    source: str
    tests: list[TestResult] = field(default_factory=list)
    execution_time: float = 0.0
    notes: list[str] = field(default_factory=list)  # e.g. "2 CUDA cases skipped (no CUDA)"

    @property
    def score(self) -> float:
        return round(sum(t.points for t in self.tests), 6)

    @property
    def max_score(self) -> float:
        """Skipped cases (GPU cases without CUDA) are left out of the maximum."""
        return round(sum(t.max_points for t in self.tests if t.status != "skipped"), 6)

    def by_target(self) -> dict[str, list[TestResult]]:
        groups: dict[str, list[TestResult]] = {}
        for t in self.tests:
            groups.setdefault(t.target, []).append(t)
        return groups

    def for_students(self) -> Report:
        """A copy for students: hidden cases keep their status and points, lose their message."""
        tests = [t if t.student_message is not None
                 else replace(t, message=HIDDEN_MESSAGE if t.message else "", output="")
                 for t in self.tests]
        return replace(self, tests=tests)

    def to_dict(self) -> dict[str, Any]:
        """Plain data (str, numbers, lists, dicts): how a report comes back from a cluster
        worker, never as a pickled object."""
        return asdict(self) | {"score": self.score, "max_score": self.max_score}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Report:
        tests = [TestResult(**t) for t in data.get("tests", [])]
        keep = {k: data[k] for k in ("assignment", "student", "sha256", "source",
                                     "execution_time", "notes") if k in data}
        return cls(tests=tests, **keep)
