"""Handing in: copy a student's file into the exchange folder with a manifest.

Layout of the exchange folder:
```
<exchange>/<student>/<assignment>.py           the current submission
<exchange>/<student>/manifest.json             {assignment: {student, assignment, sha256, submitted_at, ...}}
<exchange>/<student>/history/<assignment>-<UTC timestamp>.py   earlier ones, each with its .json
```
The file is only compiled, never imported or run here: a submission is untrusted code.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from grader import __version__
from grader.catalog import get_assignment
from grader.errors import UserError
from grader.grading.submission import SUFFIXES, check_student_id, read_bytes

MANIFEST = "manifest.json"
HISTORY = "history"


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def iso_utc(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def parse_iso(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def check_parses(path: Path, data: bytes) -> None:
    """Refuse a file that is not Python at all (or a notebook whose code is not); compile only."""
    source: bytes | str = data
    if path.suffix == ".ipynb":
        # imported here: nbformat takes about 0.2 s to import, and only notebooks need it
        from grader.grading.notebook import NotebookError, notebook_to_source

        try:
            source, _ = notebook_to_source(data.decode("utf-8"))
        except UnicodeDecodeError:
            raise UserError(f"{path} is not a Jupyter notebook: the file is not UTF-8 text") from None
        except NotebookError as exc:
            detail = str(exc).removeprefix("not a Jupyter notebook: ")
            raise UserError(f"{path} is not a Jupyter notebook: {detail}") from None
    try:
        compile(source, str(path), "exec", dont_inherit=True)
    except SyntaxError as exc:
        where = f" (line {exc.lineno})" if exc.lineno else ""
        raise UserError(f"{path} is not valid Python{where}: {exc.msg}") from None
    except ValueError as exc:  # null bytes, bad encoding declaration
        raise UserError(f"{path} is not valid Python: {exc}") from None


def read_manifest(student_dir: Path) -> dict[str, dict[str, Any]]:
    """The manifest of one student folder: assignment -> entry; {} when absent or unreadable."""
    try:
        data = json.loads((student_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in data.items() if isinstance(v, dict)} if isinstance(data, dict) else {}


def _write_json_atomic(path: Path, data: Any) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """Two submits into one student folder at once take turns (flock on the folder itself)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


@dataclass(frozen=True)
class Submitted:
    path: Path
    entry: dict[str, Any]  # the manifest entry written
    previous: Path | None  # where the replaced submission went, if any

    @property
    def submitted_at(self) -> datetime:
        return parse_iso(self.entry["submitted_at"])


def _archive(student_dir: Path, assignment: str, current: Path, entry: dict[str, Any] | None) -> Path:
    """Move the current submission (and its manifest entry) into history/; return its new path."""
    history = student_dir / HISTORY
    history.mkdir(exist_ok=True)
    when = parse_iso(entry["submitted_at"]) if entry and "submitted_at" in entry else \
        datetime.fromtimestamp(current.stat().st_mtime, timezone.utc)
    stamp = when.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    stem, n = f"{assignment}-{stamp}", 1
    while (history / f"{stem}{current.suffix}").exists():
        n += 1
        stem = f"{assignment}-{stamp}-{n}"
    target = history / f"{stem}{current.suffix}"
    os.replace(current, target)
    if entry is not None:
        _write_json_atomic(target.with_suffix(".json"), entry)
    return target


def default_file(assignment: str, cwd: Path | None = None) -> Path:
    """Where a student's working copy usually is: assignments/<A>.py, else ./<A>.py."""
    cwd = cwd or Path.cwd()
    for candidate in (cwd / "assignments" / f"{assignment}.py", cwd / f"{assignment}.py"):
        if candidate.is_file():
            return candidate
    raise UserError(f"no assignments/{assignment}.py or {assignment}.py here; pass --file PATH")


def submit(assignment: str, student: str, file: Path, exchange: Path,
           now: datetime | None = None) -> Submitted:
    """Copy `file` into `<exchange>/<student>/<assignment>.py` and record it in the manifest."""
    get_assignment(assignment)
    check_student_id(student)
    data = read_bytes(file)  # read once: what is checked is what is stored and hashed
    check_parses(file, data)
    if exchange.exists() and not exchange.is_dir():
        raise UserError(f"exchange {exchange} is not a folder")

    student_dir = exchange / student
    target = student_dir / f"{assignment}{file.suffix}"
    if target.exists() and target.resolve() == file.resolve():
        raise UserError(f"{file} is already the submission in the exchange; submit your working copy")
    student_dir.mkdir(parents=True, exist_ok=True)
    with _locked(student_dir):
        manifest = read_manifest(student_dir)
        previous = None
        for old in (student_dir / f"{assignment}{s}" for s in SUFFIXES):
            if old.exists():
                previous = _archive(student_dir, assignment, old, manifest.get(assignment))
        tmp = student_dir / f".{target.name}.tmp"
        tmp.write_bytes(data)
        entry = {
            "student": student,
            "assignment": assignment,
            "file": target.name,
            "sha256": hashlib.sha256(data).hexdigest(),
            "submitted_at": iso_utc(now or utc_now()),
            "dlgrade_version": __version__,
        }
        os.replace(tmp, target)
        manifest[assignment] = entry
        _write_json_atomic(student_dir / MANIFEST, manifest)
    return Submitted(path=target, entry=entry, previous=previous)
