"""The optional course config, `course.toml`, read by `submit` and `grade-batch`.

```toml
name = "Deep learning basics"
exchange = "submissions"            # relative to this file's folder

[late_policy]                        # or: kind = "none" (the default)
kind = "per_day"
percent = 10                         # of the score per late day
cap = 50                             # never more than this, in percent
grace_minutes = 15

[due]                                # per assignment; a time without a zone is UTC
losses = 2025-03-14T23:59:00+09:00
backprop = 2025-03-21                # a bare date: the end of that day, UTC
```
"""

from __future__ import annotations

import sys
from datetime import date, datetime, time, timezone
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr, ValidationError

from grader.catalog import assignment_names
from grader.errors import UserError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

COURSE_FILE = "course.toml"
DEFAULT_EXCHANGE = Path("submissions")


class NoLatePolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["none"] = "none"


class PerDayPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["per_day"]
    percent: float = Field(gt=0, le=100)
    cap: float = Field(default=100, gt=0, le=100)
    grace_minutes: float = Field(default=0, ge=0)


LatePolicy = NoLatePolicy | PerDayPolicy


def _as_utc_aware(value: Any) -> datetime:
    """TOML gives offset datetimes, local datetimes and local dates: make all of them aware."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value) if "T" in value or " " in value else date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"not a date or date-time: {value!r}") from None
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)
    if isinstance(value, date):
        return datetime.combine(value, time(23, 59, 59), tzinfo=timezone.utc)
    raise ValueError(f"expected a date or date-time (like 2025-03-14T23:59:00+09:00), got {value!r}")


AssignmentName = Literal[tuple(assignment_names())]  # type: ignore[valid-type]
DueDate = Annotated[datetime, BeforeValidator(_as_utc_aware)]


class Course(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = "dlgrade course"
    exchange: Path = DEFAULT_EXCHANGE
    late_policy: Annotated[LatePolicy, Field(discriminator="kind")] = NoLatePolicy()
    due: dict[AssignmentName, DueDate] = Field(default_factory=dict)
    _source: Path | None = PrivateAttr(default=None)  # the file it was read from

    def due_date(self, assignment: str) -> datetime | None:
        return self.due.get(assignment)

    @property
    def exchange_dir(self) -> Path:
        """The exchange folder; a relative one is relative to the folder of course.toml."""
        if self.exchange.is_absolute() or self._source is None:
            return self.exchange
        return self._source.parent / self.exchange


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(part) for part in err["loc"] if part not in ("per_day", "none", "[key]"))
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        msg = "unknown key"
    elif err["type"] == "literal_error" and err["loc"][:1] == ("due",):
        msg = f"unknown assignment (choose from: {', '.join(assignment_names())})"
    elif err["type"] == "union_tag_invalid":
        msg = "kind must be 'none' or 'per_day'"
    return f"{where}: {msg}" if where else msg


def load_course(path: Path) -> Course:
    """Read and validate one course.toml; any problem is a UserError naming the file and key."""
    if not path.is_file():
        raise UserError(f"no course config at {path}")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: not valid TOML: {exc}") from None
    try:
        course = Course.model_validate(data)
    except ValidationError as exc:
        raise UserError(f"{path}: {_first_error(exc)}") from None
    course._source = path.resolve()
    return course


def find_course(path: Path | None = None, cwd: Path | None = None) -> Course | None:
    """`path` when given (it must exist); else ./course.toml when there is one; else None."""
    if path is not None:
        return load_course(path)
    candidate = (cwd or Path.cwd()) / COURSE_FILE
    return load_course(candidate) if candidate.is_file() else None
