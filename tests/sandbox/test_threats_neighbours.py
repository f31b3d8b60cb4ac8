"""Hurting the students graded beside it: a /tmp squatter and a detached CPU spinner,
graded with --jobs 2 among correct classmates, cost those classmates nothing, and leave
no process behind. Run with bwrap where it works and without it (as root: a private /tmp
and a uid of its own where the host allows; otherwise the audit hook refuses forking).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from test_threats import REFERENCE, hostile_submission

from grader.classroom.batch import grade_class
from grader.grading.grader import Grader

CORRECT = ("ann", "bob", "cat", "dan")


class WatchedGrader(Grader):
    """A Grader that notes what its zygotes were (pid, uids) before it closes them."""

    zygotes: list[dict] = []

    def close(self) -> None:
        WatchedGrader.zygotes += [z.info | {"host_pid": z.proc.pid}
                                  for z in self.sandbox._zygotes.values()]
        super().close()


def _left_behind(zygotes: list[dict]) -> list[int]:
    """Processes still alive that were the zygotes, or ran under one of their uids."""
    pids = {z["host_pid"] for z in zygotes}  # bwrap's, or the zygote's own without it
    ranges = [z["uid_range"] for z in zygotes if z.get("uid_range")]
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        uid = int(text.split("\nUid:")[1].split()[0])
        if any(low <= uid < high for low, high in ranges) or (
                int(status.parent.name) in pids and "State:\tZ" not in text):
            found.append(int(status.parent.name))
    return found


@pytest.mark.parametrize("use_bwrap", [None, False], ids=["bwrap-if-working", "no-bwrap"])
def test_squatter_and_spinner_cost_their_classmates_nothing(tmp_path, use_bwrap):
    WatchedGrader.zygotes = []
    root = tmp_path / "class"
    hostile_submission(root, "tmp_squatter", student="a1_squatter")
    hostile_submission(root, "cpu_spinner", student="a0_spinner")
    for student in CORRECT:
        (root / student).mkdir(parents=True)
        (root / student / "losses.py").write_text(REFERENCE.read_text())

    result = grade_class(root, db=tmp_path / "gradebook.db", jobs=2,
                         make_grader=lambda: WatchedGrader(use_bwrap=use_bwrap))

    assert not result.batch.errors, [o.error for o in result.batch.errors]
    scores = {r.student: r.score for r in result.records}
    assert all(scores[s] == 100 for s in CORRECT), scores
    assert scores["a1_squatter"] < 100 and scores["a0_spinner"] < 100  # graded first: beside the others
    deadline = time.monotonic() + 5
    assert WatchedGrader.zygotes
    while (left := _left_behind(WatchedGrader.zygotes)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not left, f"left behind: {left}"
    assert not list(Path("/tmp").glob("squat-*")), "the squatter's files are in the real /tmp"
