"""The learner's quiz settings: `quiz.toml` next to the progress database.

```toml
desired_retention = 0.9     # FSRS schedules each review for this chance of remembering
new_per_day = 20            # new questions introduced per day
reviews_per_day = 200       # reviews per day
leech_lapses = 8            # a card forgotten this many times is suspended (a leech)
learn_ahead_minutes = 20    # a missed card due within this is asked again in the same session
```

Every key is optional. FSRS parameters fitted by `quiz optimize` live in the progress
database, next to the review log they were fitted to.
"""

from __future__ import annotations

import os
import sys
from dataclasses import asdict, fields, replace
from pathlib import Path

from grader.errors import UserError
from grader.quiz.scheduler import Settings

CONFIG_NAME = "quiz.toml"

# key -> (type, low, high): what a learner may set, and its sensible range
LIMITS: dict[str, tuple[type, float, float]] = {
    "desired_retention": (float, 0.7, 0.99),
    "new_per_day": (int, 0, 9999),
    "reviews_per_day": (int, 0, 99999),
    "leech_lapses": (int, 2, 99),
    "learn_ahead_minutes": (int, 0, 1440),
}


def default_config_path() -> Path:
    """$DLGRADE_HOME/quiz.toml, else quiz.toml in the user config directory."""
    home = os.environ.get("DLGRADE_HOME")
    if home:
        return Path(home).expanduser() / CONFIG_NAME
    from platformdirs import user_config_dir

    return Path(user_config_dir("dlgrade", appauthor=False)) / CONFIG_NAME


def _checked(key: str, value: object, where: str) -> int | float:
    if key not in LIMITS:
        raise UserError(f"{where}: unknown setting {key!r} (known: {', '.join(LIMITS)})")
    kind, low, high = LIMITS[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or (kind is int and not isinstance(value, int)):
        raise UserError(f"{where}: {key} must be {'a whole number' if kind is int else 'a number'}, "
                        f"got {value!r}")
    if not low <= value <= high:
        raise UserError(f"{where}: {key} must be between {low:g} and {high:g}, got {value}")
    return kind(value)


def load_settings(path: Path | None = None) -> Settings:
    """Settings from `path` (default: the learner's quiz.toml); defaults where it says nothing."""
    path = default_config_path() if path is None else path
    if not path.exists():
        return Settings()
    if sys.version_info >= (3, 11):  # imported only when there is a file to read (start-up)
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{path} is not valid TOML: {exc}") from None
    return replace(Settings(), **{k: _checked(k, v, str(path)) for k, v in data.items()})


def parse_assignment(text: str) -> tuple[str, int | float]:
    """`key=value` from the command line, checked like the file's keys."""
    key, sep, raw = text.partition("=")
    key = key.strip().replace("-", "_")
    if not sep:
        raise UserError(f"--set needs key=value, got {text!r}")
    try:
        value: int | float = int(raw) if raw.strip().lstrip("-").isdigit() else float(raw)
    except ValueError:
        raise UserError(f"--set {key}: {raw!r} is not a number") from None
    return key, _checked(key, value, "--set")


def save_settings(settings: Settings, path: Path | None = None) -> Path:
    """Write every tunable setting (never the fitted parameters) as flat TOML, atomically."""
    path = default_config_path() if path is None else path
    values = asdict(settings)
    lines = ["# dlgrade quiz settings (see `dlgrade quiz config --help`)"]
    lines += [f"{f.name} = {values[f.name]!r}" for f in fields(Settings) if f.name in LIMITS]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror}") from None
    return path
