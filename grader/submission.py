"""A submission's source, and who and what it is for.

`load_source(path)` is the single entry for reading a submission: a `.py` file, or a
notebook (`.ipynb`) whose code cells become the module (grader.notebook).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from grader.catalog import ASSIGNMENTS_DIR, REFERENCE_DIR, assignment_names
from grader.errors import UserError

MAX_SOURCE_BYTES = 2 * 1024 * 1024
ANONYMOUS = "anonymous"
SUFFIXES = (".py", ".ipynb")


def load_source(path: Path) -> tuple[str, list[str]]:
    """(source text, notes) of a submission file; UserError when it cannot be read as one."""
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
    if path.suffix == ".ipynb":
        return _notebook_source(path, data)
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError as exc:
        # still graded: the child reports the failed import; the bytes that are there are kept
        return data.decode("utf-8", "replace"), [f"{path.name} is not valid UTF-8 ({exc.reason})"]


def _notebook_source(path: Path, data: bytes) -> tuple[str, list[str]]:
    """A notebook's code cells as one module (grader.notebook).

    A file that is not a notebook still gets graded, like a .py file that does not
    import: its module is one line that raises, so every case fails with the reason.
    """
    from grader.notebook import NotebookError, notebook_to_source_bounded

    try:  # untrusted data: converted in a process of its own, under time and memory limits
        return notebook_to_source_bounded(data)
    except NotebookError as exc:
        problem = str(exc)
    return f"raise ImportError({problem!r})\n", [f"{path.name}: {problem}"]


def file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


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
    if path.stem in assignment_names() and folder not in (ASSIGNMENTS_DIR, REFERENCE_DIR):
        from grader.submit import STUDENT_ID

        if STUDENT_ID.fullmatch(folder.name):
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
