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

import ast
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
from grader.catalog import ASSIGNMENTS_DIR, assignment_names, get_assignment
from grader.classroom.timestamps import iso_utc, parse_iso, utc_now
from grader.errors import UserError
from grader.grading.intake import IntakeRefused, read_file
from grader.grading.submission import STUDENT_ID, SUFFIXES, check_student_id, read_bytes

MANIFEST = "manifest.json"
HISTORY = "history"


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
    try:  # never follows a link, never blocks on a FIFO named manifest.json
        data = json.loads(read_file(student_dir / MANIFEST, 1024 * 1024).decode("utf-8"))
    except (OSError, ValueError, IntakeRefused):
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
    entry: dict[str, Any]  # the manifest entry written (or, when unchanged, the one kept)
    previous: Path | None  # where the replaced submission went, if any
    unchanged: bool = False  # identical to the current submission: nothing new was recorded

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


def find_working_copy(file: Path, cwd: Path | None = None) -> Path:
    """`file` as given; a bare name that is not here but is in assignments/ (the repository
    root's `dlgrade check losses.py`) is that one."""
    cwd = cwd or Path.cwd()
    if (cwd / file).exists() or file.is_absolute() or len(file.parts) != 1:
        return file
    candidate = cwd / "assignments" / file
    return candidate.relative_to(cwd) if candidate.is_file() else file


def identical_submission(entry: dict[str, Any] | None, current: Path, file: Path) -> dict[str, Any] | None:
    """The manifest entry when `file` is byte for byte the current submission, else None."""
    if not entry or not current.is_file():
        return None
    sha = _sha256(file)
    return entry if entry.get("sha256") == sha == _sha256(current) else None


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def unchanged_entry(assignment: str, student: str, file: Path, exchange: Path) -> dict[str, Any] | None:
    """The manifest entry of the current hand-in when `file` is identical to it, else None."""
    if not STUDENT_ID.fullmatch(student) or not file.is_file():
        return None
    student_dir = exchange / student
    entry = read_manifest(student_dir).get(assignment)
    current = student_dir / f"{assignment}{file.suffix}"
    if entry and current.resolve() == file.resolve():
        return None  # the exchange copy itself: submit says so
    return identical_submission(entry, current, file)


# ---------------------------------------------------------------- warnings before handing in


def _functions(tree: ast.AST) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    return [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]


def _only_raises_not_implemented(func: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """The stub's body: an optional docstring, then a bare `raise NotImplementedError`."""
    body = list(func.body)
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        body = body[1:]
    if len(body) != 1 or not isinstance(body[0], ast.Raise) or body[0].exc is None:
        return False
    exc = body[0].exc
    if isinstance(exc, ast.Call) and not exc.args and not exc.keywords:
        exc = exc.func
    return isinstance(exc, ast.Name) and exc.id == "NotImplementedError"


def public_names(tree: ast.Module) -> set[str]:
    """Top-level functions and classes a module offers (not the _private ones)."""
    return {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            and not n.name.startswith("_")}


def _assignment_api(name: str) -> set[str]:
    """The names of an assignment, read from its stub in assignments/ (empty when absent)."""
    try:
        return public_names(ast.parse((ASSIGNMENTS_DIR / f"{name}.py").read_text(encoding="utf-8")))
    except (OSError, SyntaxError, ValueError):
        return set()


def _listed(names: list[str], limit: int = 4) -> str:
    return ", ".join(names[:limit]) + (", …" if len(names) > limit else "")


def submission_warnings(assignment: str, file: Path) -> list[str]:
    """One line each for what a student most likely did not mean to hand in: the stub as it
    came (its functions still raise NotImplementedError), or another assignment's code."""
    if file.suffix != ".py":
        return []
    try:
        tree = ast.parse(file.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return []  # check_parses says so
    warnings = []
    functions = [f for f in _functions(tree) if not f.name.startswith("_")]
    stubbed = [f.name for f in functions if _only_raises_not_implemented(f)]
    if stubbed and len(stubbed) == len([f for f in functions if f.name != "__init__"]):
        warnings.append(f"this looks like the untouched stub: all {len(stubbed)} functions still "
                        f"raise NotImplementedError ({_listed(stubbed)})")
    elif stubbed:
        warnings.append(f"{len(stubbed)} function(s) still raise NotImplementedError ({_listed(stubbed)})")
    defined = public_names(tree)
    own = _assignment_api(assignment)
    if own and not defined & own:
        for other in assignment_names():
            theirs = _assignment_api(other) - own if other != assignment else set()
            if len(defined & theirs) >= 2 or (theirs and defined & theirs == theirs):
                warnings.append(f"this file defines functions of {other} ({_listed(sorted(defined & theirs))}), "
                                f"none of {assignment}'s: is it the right file?")
                break
    return warnings


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
        same = identical_submission(manifest.get(assignment), target, file)
        if same is not None:  # no new entry and, above all, no new (maybe late) time
            return Submitted(path=target, entry=same, previous=None, unchanged=True)
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
