"""course.toml: what it accepts, and one clear error naming the file and key otherwise."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from grader.catalog import ROOT
from grader.course import NoLatePolicy, PerDayPolicy, find_course, load_course
from grader.errors import UserError

FULL = """
name = "Deep learning basics"
exchange = "hand-in"

[late_policy]
kind = "per_day"
percent = 10
cap = 50
grace_minutes = 15

[due]
losses = 2025-03-14T23:59:00+09:00
backprop = 2025-03-21T10:00:00
mlp = 2025-04-04
autodiff = "2025-03-28T12:00:00+09:00"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "course.toml"
    path.write_text(text)
    return path


def test_a_full_config(tmp_path: Path) -> None:
    course = load_course(write(tmp_path, FULL))
    assert course.name == "Deep learning basics"
    assert course.late_policy == PerDayPolicy(kind="per_day", percent=10, cap=50, grace_minutes=15)
    kst = timezone(timedelta(hours=9))
    assert course.due_date("losses") == datetime(2025, 3, 14, 23, 59, tzinfo=kst)
    assert course.due_date("autodiff") == datetime(2025, 3, 28, 12, 0, tzinfo=kst)
    # a date-time without a zone is UTC; a bare date is the end of that day, UTC
    assert course.due_date("backprop") == datetime(2025, 3, 21, 10, 0, tzinfo=timezone.utc)
    assert course.due_date("mlp") == datetime(2025, 4, 4, 23, 59, 59, tzinfo=timezone.utc)
    assert course.due_date("optimizers") is None
    # the exchange folder is relative to the config file, not to the current folder
    assert course.exchange_dir == tmp_path.resolve() / "hand-in"


def test_everything_is_optional(tmp_path: Path) -> None:
    course = load_course(write(tmp_path, ""))
    assert course.late_policy == NoLatePolicy()
    assert course.due == {}
    assert course.exchange_dir == tmp_path.resolve() / "submissions"


def test_the_demo_class_config_loads() -> None:
    course = load_course(ROOT / "examples" / "course.toml")
    assert course.exchange_dir == ROOT / "examples" / "submissions"
    assert {"losses", "backprop", "mlp"} <= set(course.due)


@pytest.mark.parametrize("text, message", [
    ('nmae = "x"', "nmae: unknown key"),
    ("[due]\nlossess = 2025-01-01", "due.lossess: unknown assignment"),
    ("[due]\nlosses = 5", "due.losses: expected a date or date-time"),
    ('[due]\nlosses = "next friday"', "due.losses: not a date or date-time"),
    ('due = "2025-01-01"', "due: Input should be a valid dictionary"),
    ('[late_policy]\nkind = "weekly"', "late_policy: kind must be 'none' or 'per_day'"),
    ('[late_policy]\nkind = "per_day"', "late_policy.percent: Field required"),
    ('[late_policy]\nkind = "per_day"\npercent = 10\ncap = 500', "late_policy.cap: Input should be less than or equal to 100"),
    ('[late_policy]\nkind = "per_day"\npercent = -1', "late_policy.percent: Input should be greater than 0"),
    ('[late_policy]\nkind = "none"\npercent = 3', "late_policy.percent: unknown key"),
    ('name = [', "not valid TOML"),
])
def test_errors_name_the_file_and_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(UserError) as err:
        load_course(path)
    assert str(err.value).startswith(f"{path}: ")
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_find_course(tmp_path: Path) -> None:
    assert find_course(cwd=tmp_path) is None  # none here: fine, no config
    write(tmp_path, 'name = "here"')
    assert find_course(cwd=tmp_path).name == "here"
    with pytest.raises(UserError, match="no course config at"):
        find_course(tmp_path / "missing.toml")
