"""The student release: the course tree without what students must not see.

`make_release(out)` copies the tree minus `reference/` (the solutions), the hidden specs
(`grader/specs/hidden/`), the project's own tests, benchmarks and examples (they hold
solutions too), version control, environments and caches; it then writes the public
expected outputs (`grader/specs/expected/<assignment>.json`) from the reference, so that
`dlgrade check` works inside the release, and finally scans the release for any function
body of the reference, refusing to leave a leaking release behind.
"""

from __future__ import annotations

import ast
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from grader.catalog import REFERENCE_DIR, ROOT, assignment_names
from grader.errors import UserError
from grader.grading.expected import EXPECTED_DIR, ExpectedStore, build_public_expected
from grader.specs import load_spec

TOP_LEVEL_EXCLUDED = frozenset({
    "reference", "tests", "benchmarks", "examples", "notes", ".git", ".venv", "venv", ".ci",
    "build", "dist", "out", "demo-out", ".pytest_cache", ".ruff_cache", ".hypothesis",
    ".mypy_cache", "dlgrade.egg-info",
})
EXCLUDED_ANYWHERE = ("__pycache__", "*.pyc", "*.db", "*.db-wal", "*.db-shm", "*.egg-info", ".DS_Store")
HIDDEN_SPECS = Path("grader") / "specs" / "hidden"
MIN_LEAK_CHARS = 40  # shorter bodies ("return x * k") are too generic to call a leak


@dataclass
class ReleaseSummary:
    out: Path
    files: int
    expected: list[str]


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


def _ignore(root: Path, out: Path):
    def ignore(folder: str, names: list[str]) -> set[str]:
        here = Path(folder).resolve()
        skipped = set(shutil.ignore_patterns(*EXCLUDED_ANYWHERE)(folder, names))
        if here == root:
            skipped |= TOP_LEVEL_EXCLUDED & set(names)
        if here == (root / HIDDEN_SPECS).parent:
            skipped.add(HIDDEN_SPECS.name)
        skipped |= {n for n in names if (here / n).resolve() == out}  # never copy into itself
        return skipped

    return ignore


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


def find_leaks(release: Path, reference_dir: Path = REFERENCE_DIR) -> list[str]:
    """Files of the release that contain a function body of the reference solutions.

    Bodies the stubs give away on purpose (a base class, `__repr__`) are not secret.
    """
    secret: set[str] = set()
    for path in sorted(reference_dir.glob("*.py")):
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


def make_release(out: Path, root: Path = ROOT) -> ReleaseSummary:
    out = Path(out).resolve()
    if out == root or out in root.parents:
        raise UserError(f"{out} would contain the course tree itself; choose another folder")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UserError(f"{out} already exists and is not an empty folder")
    if not (root / "reference").is_dir():
        raise UserError(f"no reference solutions in {root / 'reference'}: run release from the "
                        "instructor's tree")
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.exists():
        out.rmdir()
    shutil.copytree(root, out, ignore=_ignore(root.resolve(), out), symlinks=False)
    try:
        expected_dir = out / "grader" / "specs" / "expected"
        for stale in expected_dir.glob("*.json"):
            stale.unlink()
        written = write_public_expected(expected_dir, reference_dir=root / "reference")
        leaks = find_leaks(out, root / "reference")
        if leaks:
            raise UserError(f"the release would leak solutions in {', '.join(leaks)}; nothing written")
    except BaseException:
        shutil.rmtree(out, ignore_errors=True)
        raise
    files = sum(1 for p in out.rglob("*") if p.is_file())
    return ReleaseSummary(out, files, [p.stem for p in written])
