"""The student release: an allow-list of the committed course, never the working copy.

`make_release(out)` reads the last commit (`grader.interop.committed`), not the disk: a
stub with a solution typed in, scratch files, the `submissions/` exchange or an uncommitted
change to `reference/` cannot reach students. What a student gets is `STUDENT_KIT` minus `NEVER`;
a tree whose kit sources differ from the commit is refused unless `allow_dirty`, and even
then the kit holds the committed versions. The public expected outputs
(`grader/specs/expected/<assignment>.json`) are computed from the committed reference, in a
scratch checkout, so `dlgrade check` works inside the kit. The kit gets its own README
(install, check, login, submit). Finally the kit is scanned for any function body of the
reference (committed or working copy), refusing to leave a leaking release behind.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path

from grader.catalog import ASSIGNMENTS, REFERENCE_DIR, ROOT, assignment_names
from grader.errors import UserError
from grader.grading.expected import EXPECTED_DIR, ExpectedStore, build_public_expected
from grader.interop.committed import CommittedTree, refuse_if_changed
from grader.specs import load_spec

# What a student gets (paths of the committed course, fnmatch patterns; * spans folders).
STUDENT_KIT = ("cli.py", "pyproject.toml", "constraints.txt", "LICENSE*",
               "assignments/*", "grader/*")
NEVER = ("grader/specs/hidden/*", "grader/specs/expected/*.json", "*__pycache__*", "*.pyc",
         "*.db", "*.db-wal", "*.db-shm")
# What the kit is computed from: a change here that is not committed is refused.
KIT_SOURCES = (*STUDENT_KIT, "reference/*")
HIDDEN_SPECS = Path("grader") / "specs" / "hidden"
MIN_LEAK_CHARS = 40  # shorter bodies ("return x * k") are too generic to call a leak


@dataclass
class ReleaseSummary:
    out: Path
    files: int
    expected: list[str]
    notes: list[str] = field(default_factory=list)


def write_public_expected(out_dir: Path, reference_dir: Path = REFERENCE_DIR,
                          assignments: list[str] | None = None) -> list[Path]:
    """Write `<out_dir>/<assignment>.json` for every assignment with a reference solution."""
    store = ExpectedStore(reference_dir=reference_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name in assignments or assignment_names():
        if not store.has_reference(name):
            continue
        data = build_public_expected(load_spec(name), store.reference(name))
        path = out_dir / f"{name}.json"
        path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
        written.append(path)
    return written


def build_expected() -> list[Path]:
    """Rebuild grader/specs/expected/*.json in place from reference/."""
    if not REFERENCE_DIR.is_dir():
        raise UserError(f"no reference solutions in {REFERENCE_DIR}: build-expected needs them")
    return write_public_expected(EXPECTED_DIR)


def _bodies(source: str) -> set[str]:
    """Each function's body, without its docstring, as normalised source."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    bodies = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None),
                                                                      ast.Constant):
                body = body[1:]
            text = "\n".join(ast.unparse(stmt) for stmt in body)
            if len(text) >= MIN_LEAK_CHARS and "NotImplementedError" not in text:
                bodies.add(text)
    return bodies


def find_leaks(release: Path, reference_dir: Path = REFERENCE_DIR,
               also: tuple[Path, ...] = ()) -> list[str]:
    """Files of the release that contain a function body of the reference solutions.

    Bodies the stubs give away on purpose (a base class, `__repr__`) are not secret.
    `also`: more reference folders to treat as secret (the working copy's, when it differs).
    """
    secret: set[str] = set()
    for folder in (reference_dir, *also):
        for path in sorted(Path(folder).glob("*.py")):
            secret |= _bodies(path.read_text(encoding="utf-8"))
    for stub in sorted((release / "assignments").glob("*.py")):
        secret -= _bodies(stub.read_text(encoding="utf-8"))
    leaks = []
    for path in sorted(release.rglob("*.py")):
        if _bodies(path.read_text(encoding="utf-8", errors="replace")) & secret:
            leaks.append(str(path.relative_to(release)))
    if (release / "reference").exists():
        leaks.append("reference/")
    if (release / HIDDEN_SPECS).exists():
        leaks.append(str(HIDDEN_SPECS) + "/")
    return leaks


def kit_paths(committed: list[str]) -> list[str]:
    """The committed files a student gets."""
    return sorted(p for p in committed if any(fnmatch(p, k) for k in STUDENT_KIT)
                  and not any(fnmatch(p, n) for n in NEVER))


_EXPECTED_SCRIPT = """
import json, sys
from pathlib import Path
from grader.classroom.release import write_public_expected
print(json.dumps([p.name for p in write_public_expected(Path(sys.argv[1]))]))
"""


def _expected_from_commit(tree: CommittedTree, committed: list[str], out_dir: Path,
                          scratch: Path) -> list[Path]:
    """Public expected outputs computed by the committed code from the committed reference."""
    needed = [p for p in committed if p.split("/", 1)[0] in ("grader", "assignments", "reference")
              or p in ("cli.py", "pyproject.toml")]
    for rel, data in tree.read_many(needed).items():
        target = scratch / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    env = {**os.environ, "PYTHONPATH": str(scratch), "PYTHONDONTWRITEBYTECODE": "1"}
    out_dir.mkdir(parents=True, exist_ok=True)
    done = subprocess.run([sys.executable, "-c", _EXPECTED_SCRIPT, str(out_dir.resolve())],
                          cwd=scratch, env=env, capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise UserError(f"computing the public expected outputs from the committed reference "
                        f"failed: {last}")
    return [out_dir / name for name in json.loads(done.stdout.strip().splitlines()[-1])]


def student_readme(course_name: str, server_url: str | None, commit: str) -> str:
    """The kit's README: what a student installs and runs (not the instructor's README)."""
    server = server_url or "https://<the address your instructor gives you>"
    rows = "\n".join(f"| {a.number} | {a.name} | `assignments/{a.filename}` | {a.title} |"
                      for a in ASSIGNMENTS)
    return f"""# {course_name}: assignments

Everything you need to do the assignments and check your work. (Built from the course's
commit {commit[:10]}.)

## Install (once)

Python 3.10 or newer:

```bash
python3 -m venv .venv
.venv/bin/pip install -e .
source .venv/bin/activate      # then `dlgrade` is on your PATH
```

## Work

| # | assignment | your file | topic |
|---|---|---|---|
{rows}

```bash
dlgrade list                    # the assignments
dlgrade check losses            # run the public cases on assignments/losses.py
dlgrade check losses my.py      # ... or on another file
dlgrade quiz                    # concept quizzes with spaced repetition
```

`check` runs only the public cases; grading also runs hidden ones, on inputs drawn for
you, so a solution that only fits the public cases will lose points.

## Hand in

Your instructor gives you a personal token. Log in once; the token is kept in your user
config folder, readable only by you. Never share it: whoever has it hands in as you.

```bash
dlgrade login --server {server}
dlgrade submit losses           # hands in assignments/losses.py; or: dlgrade submit losses my.py
dlgrade status                  # what the server has received, and when (its clock counts)
dlgrade feedback losses         # your feedback, once your instructor releases it
```

The time that counts for the late policy is the server's, when your upload arrives.
Submitting again replaces your hand-in (the latest one is graded); submitting the same
file twice changes nothing.
"""


def make_release(out: Path, root: Path = ROOT, *, allow_dirty: bool = False,
                 server_url: str | None = None, course_name: str = "Deep learning basics"
                 ) -> ReleaseSummary:
    out = Path(out).resolve()
    root = Path(root).resolve()
    if out == root or out in root.parents:
        raise UserError(f"{out} would contain the course tree itself; choose another folder")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UserError(f"{out} already exists and is not an empty folder")
    tree = CommittedTree.open(root)
    changed = refuse_if_changed(tree, KIT_SOURCES, allow_dirty, "the student kit")
    committed = tree.files()
    if not any(p.startswith("reference/") for p in committed):
        raise UserError(f"no reference solutions committed under {root / 'reference'}: run "
                        "release from the instructor's repository")
    kit = kit_paths(committed)
    executable = tree.executable()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.mkdir(exist_ok=True)
    try:
        for rel, data in tree.read_many(kit).items():
            target = out / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            os.chmod(target, 0o755 if rel in executable else 0o644)
        (out / "README.md").write_text(student_readme(course_name, server_url, tree.commit),
                                       encoding="utf-8")
        with tempfile.TemporaryDirectory(prefix="dlgrade-release-") as scratch:
            written = _expected_from_commit(tree, committed, out / "grader" / "specs" / "expected",
                                            Path(scratch))
            working_ref = root / "reference"
            also = (working_ref,) if working_ref.is_dir() else ()
            leaks = find_leaks(out, Path(scratch) / "reference", also=also)
        if leaks:
            raise UserError(f"the release would leak solutions in {', '.join(leaks)}; nothing written")
    except BaseException:
        shutil.rmtree(out, ignore_errors=True)
        raise
    files = sum(1 for p in out.rglob("*") if p.is_file())
    notes = []
    if changed:
        notes.append(f"uncommitted changes left out (the kit has the committed versions of "
                     f"{', '.join(changed[:5])}{' …' if len(changed) > 5 else ''})")
    left_out = tree.untracked(STUDENT_KIT)
    if left_out:
        notes.append(f"not committed, so not in the kit: {', '.join(left_out[:5])}"
                     f"{' …' if len(left_out) > 5 else ''}")
    return ReleaseSummary(out, files, [p.stem for p in written], notes)
