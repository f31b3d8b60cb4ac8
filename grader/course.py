"""The optional course config, `course.toml`, read by `submit`, `grade-batch` and the gradebook.

```toml
name = "Deep learning basics"
exchange = "submissions"            # relative to this file's folder
timezone = "Asia/Seoul"              # for due dates without a zone, and every time shown (default UTC)
language = "en"                      # of the feedback pages: en or ko
roster = "roster.csv"                # or a list: ["ada", "ben"]; non-submitters then show as missing

[late_policy]                        # or: kind = "none" (the default)
kind = "per_day"
percent = 10                         # of the score per late day
cap = 50                             # never more than this, in percent
grace_minutes = 15

[due]                                # per assignment
losses = 2025-03-14T23:59:00+09:00
backprop = 2025-03-21T23:59:00       # no zone: the course's timezone (a one-line notice says so)
mlp = 2025-04-04                     # a bare date: the end of that day, in the course's timezone

[server]                             # dlgrade serve (all optional)
host = "127.0.0.1"                   # loopback by default: put a TLS reverse proxy in front
port = 8000
data = "server-data"                 # relative to this file's folder
uploads_per_minute = 10              # per student
public_check = false                 # run the public cases on each hand-in (sandboxed)
public_check_jobs = 1                # at most this many at once
```
"""

from __future__ import annotations

import sys
from datetime import date, datetime, time, timezone, tzinfo
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from grader.catalog import assignment_names, did_you_mean
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


def _as_datetime(value: Any) -> datetime | date:
    """TOML gives offset datetimes, local datetimes and local dates; strings are parsed too.

    Zone-less values stay naive here: the course's timezone is applied once the whole
    file is read (the `timezone` key may come after `[due]`).
    """
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value) if "T" in value or " " in value else date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"not a date or date-time: {value!r}") from None
    if isinstance(value, (datetime, date)):
        return value
    raise ValueError(f"expected a date or date-time (like 2025-03-14T23:59:00+09:00), got {value!r}")


AssignmentName = Literal[tuple(assignment_names())]  # type: ignore[valid-type]
DueDate = Annotated[datetime | date, BeforeValidator(_as_datetime)]


def zone_named(name: str) -> tzinfo:
    """"UTC", an IANA name like "Asia/Seoul", or a fixed offset like "+09:00"."""
    if name.upper() in ("UTC", "Z"):
        return timezone.utc
    if name[:1] in "+-":
        try:
            return datetime.fromisoformat(f"2000-01-01T00:00:00{name}").tzinfo or timezone.utc
        except ValueError:
            pass
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r} (use an IANA name like Asia/Seoul, "
                         "or an offset like +09:00)") from None


class ServerSettings(BaseModel):
    """Where `dlgrade serve` listens and keeps its data; the CLI's options override these."""

    model_config = ConfigDict(extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    data: Path = Path("server-data")
    certfile: Path | None = None
    keyfile: Path | None = None
    uploads_per_minute: int = Field(default=10, ge=1)
    public_check: bool = False  # run the public cases on each hand-in and answer with the score
    public_check_jobs: int = Field(default=1, ge=1)  # at most this many at once


class Course(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = "dlgrade course"
    exchange: Path = DEFAULT_EXCHANGE
    timezone: str = "UTC"
    language: Literal["en", "ko"] = "en"
    roster: list[str] | Path | None = None
    late_policy: Annotated[LatePolicy, Field(discriminator="kind")] = NoLatePolicy()
    due: dict[AssignmentName, DueDate] = Field(default_factory=dict)
    server: ServerSettings = Field(default_factory=ServerSettings)
    _source: Path | None = PrivateAttr(default=None)  # the file it was read from
    _notices: list[str] = PrivateAttr(default_factory=list)  # said once when the file is read

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        zone_named(value)
        return value

    @model_validator(mode="after")
    def _zone_the_due_dates(self) -> Course:
        zone = self.tz
        assumed = []
        for name, when in list(self.due.items()):
            if not isinstance(when, datetime):  # a bare date: the end of that day
                when = datetime.combine(when, time(23, 59, 59))
            if when.tzinfo is None:
                assumed.append(name)
                when = when.replace(tzinfo=zone)
            self.due[name] = when
        if assumed:
            self._notices.append(
                f"due dates without a time zone ({', '.join(assumed)}) are taken as {self.timezone}"
                + ("" if "timezone" in self.model_fields_set else
                   " (set timezone = \"Asia/Seoul\" or the like in course.toml, or write +09:00)"))
        return self

    @property
    def tz(self) -> tzinfo:
        return zone_named(self.timezone)

    @property
    def notices(self) -> list[str]:
        """One-line remarks about how the file was read (e.g. a zone assumed)."""
        where = f"{self._source.name}: " if self._source else ""
        return [where + n for n in self._notices]

    def due_date(self, assignment: str) -> datetime | None:
        when = self.due.get(assignment)
        return when if isinstance(when, datetime) else None

    def show_time(self, moment: datetime | str | None) -> str:
        """A time as people read it: in the course's timezone, to the minute, zone named."""
        return show_time(moment, self.tz)

    @property
    def exchange_dir(self) -> Path:
        """The exchange folder; a relative one is relative to the folder of course.toml."""
        return self.relative(self.exchange)

    def relative(self, path: Path) -> Path:
        """A path from the config, relative to the folder of course.toml."""
        if path.is_absolute() or self._source is None:
            return path
        return self._source.parent / path

    @property
    def roster_file(self) -> Path | None:
        """The roster CSV (relative to the folder of course.toml), when the roster is a file."""
        return self.relative(self.roster) if isinstance(self.roster, Path) else None


def show_time(moment: datetime | str | None, zone: tzinfo = timezone.utc) -> str:
    """`2025-03-14 23:59 +09:00 (Asia/Seoul)`-style text; '?' for no time."""
    if moment is None or moment == "":
        return "?"
    if isinstance(moment, str):
        try:
            moment = datetime.fromisoformat(moment.replace("Z", "+00:00"))
        except ValueError:
            return moment
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    local = moment.astimezone(zone)
    name = getattr(zone, "key", None) or ("UTC" if zone is timezone.utc else None)
    offset = local.strftime("%z")
    offset = "UTC" if offset == "+0000" and name == "UTC" else f"{offset[:3]}:{offset[3:]}"
    return local.strftime("%Y-%m-%d %H:%M ") + offset + (f" ({name})" if name and name != "UTC" else "")


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(part) for part in err["loc"]
                     if part not in ("per_day", "none", "[key]", "datetime", "date", "list[str]", "path"))
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        msg = "unknown key"
    elif err["type"] == "literal_error" and err["loc"][:1] == ("due",):
        hint = did_you_mean(str(err["loc"][1]), assignment_names()) if len(err["loc"]) > 1 else ""
        msg = f"unknown assignment{hint} (choose from: {', '.join(assignment_names())})"
    elif err["type"] == "union_tag_invalid":
        msg = "kind must be 'none' or 'per_day'"
    elif err["loc"][:1] == ("roster",):
        msg = "expected a list of student ids or the name of a CSV file"
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
