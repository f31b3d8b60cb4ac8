"""A submission: which files in a folder are submissions, whose, for what, and their source.

One rule for each question, shared by `dlgrade grade`, `dlgrade grade-batch`, `check` and
`submit`:
- which files: `find_submissions` (`<folder>/<student>/<assignment>.py|.ipynb`, never a
  link, a FIFO or a device a student placed there);
- whose: a student id is also a folder name (`STUDENT_ID`); `default_student`;
- for what: the file's name (`detect_assignment`);
- the source: `read_submission` reads the file once, under the size cap, and hashes those
  very bytes; a notebook's code cells become the module (grader.grading.notebook).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

from grader.catalog import ASSIGNMENTS_DIR, REFERENCE_DIR, assignment_names, get_assignment
from grader.errors import UserError
from grader.grading.intake import refusal

MAX_SOURCE_BYTES = 2 * 1024 * 1024
ANONYMOUS = "anonymous"
SUFFIXES = (".py", ".ipynb")  # in order of preference when a student has both
STUDENT_ID = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}")


def check_student_id(student: str) -> str:
    """A student id is also a folder name: letters, digits, '.', '_', '-'; no leading dot; ≤ 64."""
    if not STUDENT_ID.fullmatch(student):
        raise UserError(
            f"invalid student id {student!r}: use 1 to 64 of A-Z a-z 0-9 . _ - (not starting with '.')"
        )
    return student


@dataclass(frozen=True)
class SourceFile:
    """A submission as read once: the module's source, notes on reading it, and the sha256
    of exactly the bytes read (so what is recorded is what was graded)."""

    path: Path
    source: str
    notes: tuple[str, ...]
    sha256: str


def read_bytes(path: Path) -> bytes:
    """A submission file's bytes; UserError when it cannot be one (missing, a folder, the
    wrong suffix, over the size cap)."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"no such file: {path}")
    if path.is_dir():
        raise UserError(f"{path} is a folder, not a submission file")
    if path.suffix not in SUFFIXES:
        raise UserError(f"{path}: a submission is a {' or '.join(SUFFIXES)} file")
    data = path.read_bytes()
    if len(data) > MAX_SOURCE_BYTES:
        raise UserError(f"{path} is {len(data) / 1e6:.1f} MB: too large for a submission")
    return data


def read_submission(path: Path) -> SourceFile:
    """The single entry for reading a submission to grade it."""
    path = Path(path)
    data = read_bytes(path)
    sha = hashlib.sha256(data).hexdigest()
    if path.suffix == ".ipynb":
        source, notes = _notebook_source(path, data)
        return SourceFile(path, source, tuple(notes), sha)
    try:
        return SourceFile(path, data.decode("utf-8"), (), sha)
    except UnicodeDecodeError as exc:
        # still graded: the child reports the failed import; the bytes that are there are kept
        return SourceFile(path, data.decode("utf-8", "replace"),
                          (f"{path.name} is not valid UTF-8 ({exc.reason})",), sha)


def _notebook_source(path: Path, data: bytes) -> tuple[str, list[str]]:
    """A notebook's code cells as one module.

    A file that is not a notebook still gets graded, like a .py file that does not
    import: its module is one line that raises, so every case fails with the reason.
    """
    # imported here: nbformat takes about 0.2 s to import, and only notebooks need it
    from grader.grading.notebook import NotebookError, notebook_to_source_bounded

    try:  # untrusted data: converted in a process of its own, under time and memory limits
        return notebook_to_source_bounded(data)
    except NotebookError as exc:
        problem = str(exc)
    return f"raise ImportError({problem!r})\n", [f"{path.name}: {problem}"]


@dataclass(frozen=True)
class Found:
    student: str
    assignment: str
    path: Path


def find_submissions(folder: Path, assignments: list[str] | None = None) -> list[Found]:
    """The submissions in a class folder: `<folder>/<student>/<assignment><suffix>`.

    Only folders whose name is a student id count (not `.git`, not `bad name`); a file
    directly in `folder` is no student's. One file per student and assignment (the .py when
    there is also an .ipynb). Sorted by student, then assignment in catalog order.

    Students control these folders: a student folder that is a link (it would hand one
    student another's work), and a file that is a link, a FIFO, a device, over the size
    cap or sparse (grader.grading.intake) are refused with one line each on the
    `dlgrade.intake` logger, and the rest of the class is found.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise UserError(f"no such folder: {folder}")
    wanted = [get_assignment(a).name for a in assignments] if assignments else assignment_names()
    found = []
    for student_dir in sorted(p for p in folder.iterdir() if p.is_dir()):
        if not STUDENT_ID.fullmatch(student_dir.name):
            continue
        if student_dir.is_symlink():
            _refused(f"{student_dir} is a symbolic link: refused")
            continue
        for assignment in wanted:
            path = next((student_dir / f"{assignment}{s}" for s in SUFFIXES
                         if os.path.lexists(student_dir / f"{assignment}{s}")), None)
            if path is None:
                continue
            problem = refusal(path, MAX_SOURCE_BYTES)
            if problem is not None:
                _refused(problem)
                continue
            found.append(Found(student_dir.name, assignment, path))
    return found


def _refused(line: str) -> None:
    """One line on stderr (logging's last resort when nothing is configured); the class goes on."""
    logging.getLogger("dlgrade.intake").warning(line)


def detect_assignment(path: Path, remedy: str = "pass --assignment") -> str:
    """The assignment a file is for, from its name (losses.py -> "losses")."""
    name = Path(path).stem
    if name not in assignment_names():
        valid = ", ".join(f"{a}.py" for a in assignment_names())
        raise UserError(f"cannot tell the assignment from the file name {Path(path).name!r} "
                        f"(expected one of {valid}); {remedy}")
    return name


def assignment_and_file(assignment: str, path: Path | None,
                        option: Path | None) -> tuple[str, Path | None]:
    """What `check` and `submit` were given, as a student types it: `losses`, `losses my.py`,
    `losses --file my.py`, or the file alone, `losses.py` (the assignment from its name)."""
    if path is not None and option is not None and path != option:
        raise UserError(f"two files given ({path} and --file {option}): give one")
    file = option or path
    if file is None and Path(assignment).suffix in SUFFIXES:
        given = Path(assignment)  # these commands have no --assignment
        return detect_assignment(given, f"give it first, as in `losses {assignment}`"), given
    return assignment, file


def default_student(path: Path) -> str:
    """The student of `<student>/<assignment>.py`: its folder's name; else "anonymous".

    The course's own folders (assignments/, reference/) are not students.
    """
    path = Path(path).resolve()
    folder = path.parent
    if (path.stem in assignment_names() and folder not in (ASSIGNMENTS_DIR, REFERENCE_DIR)
            and STUDENT_ID.fullmatch(folder.name)):
        return folder.name
    return ANONYMOUS


def neighbours(path: Path, keep: tuple[Path, ...]) -> list[Path]:
    """Folders that hold other students' work next to this submission, to hide while it runs.

    The submission's folder, and for `<root>/<student>/<assignment>.py` the root too; never
    a folder that holds any of `keep` (the course tree, the Python installation), nor the
    course's own code (assignments/, grader/), which submissions import.
    """
    path = Path(path).resolve()
    candidates = [path.parent]
    if default_student(path) != ANONYMOUS:
        candidates.append(path.parent.parent)
    code = (ASSIGNMENTS_DIR.resolve(), (ASSIGNMENTS_DIR.parent / "grader").resolve())
    out = []
    for folder in candidates:
        if folder == Path(folder.anchor) or any(folder == k or folder in k.parents
                                                for k in (*keep, *code)):
            continue
        out.append(folder)
    return out
