"""The class's submissions as source text, read the way grade-batch finds them.

`DIR/<student>/<assignment>.py` or `.ipynb` (grader.grading.submission.find_submissions); a
notebook's code cells become its source (grader.grading.notebook). What cannot be compared
— an empty file, a binary one, a notebook that does not parse, one over the size cap, a
symbolic link — is set aside with one line saying why, and the rest of the class is compared.
A flag's sha256 is that of the very bytes compared."""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from grader.catalog import ASSIGNMENTS_DIR, REFERENCE_DIR, ROOT
from grader.grading.submission import MAX_SOURCE_BYTES, find_submissions

DEFAULT_MAX_BYTES = 512 * 1024  # far above any hand-written solution; keeps one file from costing minutes


@dataclass(frozen=True)
class Source:
    student: str
    assignment: str
    path: Path
    sha256: str
    text: str


@dataclass(frozen=True)
class SetAside:
    """A submission left out of the comparison, and why (one line)."""

    student: str
    assignment: str
    path: Path
    reason: str


def collect(root: Path, assignments: Sequence[str] | None = None,
            max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[list[Source], list[SetAside]]:
    """Every readable submission under `root`, and those set aside."""
    max_bytes = min(max_bytes, MAX_SOURCE_BYTES)
    sources: list[Source] = []
    aside: list[SetAside] = []
    for sub in find_submissions(root, list(assignments) if assignments else None):
        read = read_source(sub.path, max_bytes)
        if isinstance(read, Problem):
            aside.append(SetAside(sub.student, sub.assignment, sub.path, read.reason))
        else:
            text, sha256 = read
            sources.append(Source(sub.student, sub.assignment, sub.path, sha256, text))
    return sources, aside


@dataclass(frozen=True)
class Problem:
    reason: str


def read_source(path: Path, max_bytes: int) -> tuple[str, str] | Problem:
    """A submission's Python source and the sha256 of the bytes it came from, or the
    one-line reason it cannot be compared."""
    if path.is_symlink():
        return Problem("a symbolic link: not followed")
    try:
        with path.open("rb") as fh:
            data = fh.read(max_bytes + 1)  # one read: what is hashed is what is compared
    except OSError as exc:
        return Problem(f"cannot be read ({exc.strerror})")
    if len(data) > max_bytes:
        size = max(path.stat().st_size, len(data))
        return Problem(f"{size / 1024:.0f} KiB, over the size cap of {max_bytes / 1024:.0f} KiB")
    sha256 = hashlib.sha256(data).hexdigest()
    if not data.strip():
        return Problem("empty file")
    if b"\x00" in data:
        return Problem("a binary file, not source code")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Problem(f"not UTF-8 text ({exc.reason} at byte {exc.start})")
    if path.suffix == ".ipynb":
        # imported here: nbformat takes about 0.2 s to import, and only notebooks need it
        from grader.grading.notebook import NotebookError, notebook_to_source

        try:
            text, _notes = notebook_to_source(text)
        except NotebookError as exc:
            return Problem(str(exc))
        if not text.strip():
            return Problem("a notebook without code")
    return text, sha256


def committed_stub(assignment: str) -> tuple[str, str]:
    """The stub as committed (`git show HEAD:assignments/<A>.py`), and where it came from.

    The committed stub is what students were given; the working copy may hold an
    instructor's edits. Outside a git checkout (a copied course folder) the file is read.
    """
    rel = f"assignments/{assignment}.py"
    try:
        done = subprocess.run(["git", "-C", str(ROOT), "show", f"HEAD:{rel}"], capture_output=True,
                              timeout=30, check=False)
        if done.returncode == 0:
            return done.stdout.decode("utf-8", "replace"), f"{rel} at HEAD"
    except (OSError, subprocess.TimeoutExpired):
        pass
    path = ASSIGNMENTS_DIR / f"{assignment}.py"
    if path.is_file():
        return path.read_text(encoding="utf-8", errors="replace"), f"{rel} (working copy: not in git)"
    return "", "no stub found"


def reference_source(assignment: str) -> str | None:
    """The hidden reference solution, when this course tree has one (a student kit has not)."""
    path = REFERENCE_DIR / f"{assignment}.py"
    return path.read_text(encoding="utf-8", errors="replace") if path.is_file() else None
