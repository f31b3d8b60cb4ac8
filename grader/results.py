"""What grading produces: one TestResult per case, gathered in a Report."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Status = Literal["passed", "failed", "skipped"]


@dataclass
class TestResult:
    name: str
    target: str
    points: float
    max_points: float
    status: Status
    message: str
    seconds: float
    visibility: str  # "visible" or "hidden"
    output: str = ""  # what the student's code printed in this case (not stored, not exported)

    __test__ = False  # not a pytest class

    def to_gradescope(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "score": self.points,
            "max_score": self.max_points,
            "status": self.status,
            "output": self.message,
            "visibility": self.visibility,
            "target": self.target,
        }


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

    def to_gradescope(self) -> dict[str, Any]:
        """Gradescope's results.json schema, plus dlgrade's own fields."""
        return {
            "score": self.score,
            "max_score": self.max_score,
            "execution_time": round(self.execution_time, 3),
            "output": "\n".join(self.notes),
            "tests": [t.to_gradescope() for t in self.tests],
            "assignment": self.assignment,
            "student": self.student,
            "sha256": self.sha256,
        }

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"score": self.score, "max_score": self.max_score}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Report:
        tests = [TestResult(**t) for t in data.get("tests", [])]
        keep = {k: data[k] for k in ("assignment", "student", "sha256", "source", "execution_time", "notes") if k in data}
        return cls(tests=tests, **keep)
