"""Export the assignments as an nbgrader course: `COURSE_DIR/source/<A>/<A>.ipynb`.

Each notebook is built from the stub, the hidden reference and the spec:
- the stub's lesson (its module docstring) as markdown;
- the stub's given code (imports, constants, complete classes) as read-only cells;
- per function or class of the API, a solution cell: the stub's signature and
  docstring, and the reference's body between `### BEGIN SOLUTION` / `### END
  SOLUTION`, so `nbgrader generate_assignment` releases exactly the stub. Module-level
  helpers and imports of the reference that a body needs go inside its solution block,
  so no solution block sits at module level (its released `raise` would stop the cell);
- per target, a read-only grade cell worth the target's points that runs the public
  cases and, between `### BEGIN HIDDEN TESTS` / `### END HIDDEN TESTS`, the hidden ones
  (grader.interop.nbgrader_checks), placed after the code its cases call.
Plus `COURSE_DIR/nbgrader_config.py`.
"""

from __future__ import annotations

import ast
import json
import math
import os
import re
import textwrap
import types
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from grader import __version__
from grader.catalog import ROOT, Assignment, assignment_names, get_assignment
from grader.errors import UserError
from grader.grading.case import AssignmentSpec, Case
from grader.grading.nbformat_lite import nbformat
from grader.interop.committed import CommittedTree, refuse_if_changed
from grader.specs import load_spec

new_code_cell, new_markdown_cell, new_notebook = (
    nbformat.v4.new_code_cell, nbformat.v4.new_markdown_cell, nbformat.v4.new_notebook)

COURSE_ID = "dlgrade"
CONFIG_MARKER = "# nbgrader configuration written by `dlgrade nbgrader export`"
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
BEGIN_SOLUTION, END_SOLUTION = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
TIMEOUT_MARGIN_S = 30  # kernel start, imports and the reference's runs, on top of the cases' limits

_SECTION_COMMENT = re.compile(r"^#\s*-{3,}\s*(.*?)\s*-*\s*$")
_UNDERLINE = re.compile(r"^\s*(-{3,}|={3,})\s*$")
_GRADE_ID = re.compile(r"[^A-Za-z0-9_-]+")

HOW_TO = """\
**How this notebook works.** Write your code in each solution cell, in place of
`raise NotImplementedError()`. The read-only cell after each part runs its public
test cases (`dlgrade check` runs the same ones); the grader adds hidden cases.
A test cell prints what failed and why; when some cases pass it shows the points
earned so far. Before you submit: *Kernel → Restart & Run All*."""


@dataclass
class Exported:
    assignment: str
    path: Path
    points: float
    grade_cells: int
    solution_cells: int


def export_course(course_dir: Path, assignments: Sequence[str] | None = None, *,
                  root: Path = ROOT, allow_dirty: bool = False) -> list[Exported]:
    """Write the source notebooks and the config; the assignments default to all six.

    Stubs and solutions are read from the last commit of `root`, never the working copy:
    a stub solved locally would otherwise become a locked, visible "given" cell.
    """
    names = [get_assignment(a).name for a in assignments] if assignments else assignment_names()
    names = list(dict.fromkeys(names))
    if course_dir.exists() and not course_dir.is_dir():
        raise UserError(f"{course_dir} exists and is not a folder")
    tree = CommittedTree.open(root)
    sources = [f"{folder}/{get_assignment(n).filename}" for n in names
               for folder in ("assignments", "reference")]
    refuse_if_changed(tree, sources, allow_dirty, "the nbgrader export")
    committed = set(tree.files())

    def read_committed(path: Path) -> str:
        rel = path.resolve().relative_to(ROOT.resolve()).as_posix()
        if rel not in committed:
            raise UserError(f"{rel} is not committed: export needs the instructor's committed tree")
        return tree.read(rel).decode("utf-8")

    built = [(name, build_notebook(name, read_committed)) for name in names]  # errors before writes
    exported = []
    for name, (notebook, spec) in built:
        path = course_dir / "source" / name / f"{name}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, str(path))
        cells = [c.metadata.get("nbgrader", {}) for c in notebook.cells]
        exported.append(Exported(name, path, spec.max_points,
                                 sum(1 for m in cells if m.get("grade")),
                                 sum(1 for m in cells if m.get("solution"))))
    write_config(course_dir, names)
    return exported


def build_notebook(name: str, read: Callable[[Path], str] | None = None
                   ) -> tuple[nbformat.NotebookNode, AssignmentSpec]:
    """The source notebook of one assignment (validated), and the spec it grades with.

    `read` gives the text of the stub and the reference (default: the files on disk)."""
    read = read or (lambda path: path.read_text(encoding="utf-8"))
    assignment = get_assignment(name)
    for path, what in ((assignment.stub_path, "stub"), (assignment.reference_path, "reference")):
        if not path.is_file():
            raise UserError(f"{name}: no {what} at {path}: export needs the instructor's tree")
    try:
        spec = load_spec(name)
    except ModuleNotFoundError as exc:
        if not (exc.name or "").startswith("grader.specs"):
            raise
        raise UserError(f"{name}: no grading spec installed ({exc.name})") from None
    if not any(not c.visible for c in spec.cases):
        raise UserError(f"{name}: the hidden cases are not installed: export needs the instructor's tree")
    stub_text = read(assignment.stub_path)
    ref_text = read(assignment.reference_path)
    for text, what in ((stub_text, "stub"), (ref_text, "reference")):
        if "BEGIN SOLUTION" in text or "BEGIN HIDDEN TESTS" in text:
            raise UserError(f"{name}: the {what} contains an nbgrader marker; nbgrader would misread it")

    cells = _lesson_cells(assignment, ast.get_docstring(ast.parse(stub_text)) or "")
    cells.append(new_markdown_cell(HOW_TO))
    code_cells, defined_in = _code_cells(name, stub_text, ref_text)
    cells += _place_tests(name, spec, code_cells, defined_in, _uses(ast.parse(ref_text)))

    notebook = new_notebook(cells=cells, metadata={
        "kernelspec": dict(KERNELSPEC),
        "language_info": {"name": "python"},
    })
    nbformat.validate(notebook)
    points = sum(c.metadata["nbgrader"]["points"] for c in cells
                 if c.metadata.get("nbgrader", {}).get("grade"))
    if not math.isclose(points, spec.max_points, abs_tol=1e-6):
        raise ValueError(f"{name}: grade cells hold {points} points, the spec {spec.max_points}")
    return notebook, spec


def execute_timeout(specs: Iterable[AssignmentSpec]) -> int:
    """nbgrader's per-cell timeout: the slowest grade cell's cases, each at its own limit."""
    worst = 0.0
    for spec in specs:
        per_target: dict[str, float] = {}
        for case in spec.cases:
            per_target[case.target] = per_target.get(case.target, 0.0) + case.timeout
        worst = max(worst, *per_target.values())
    return int(math.ceil(worst)) + TIMEOUT_MARGIN_S


def write_config(course_dir: Path, names: Sequence[str]) -> Path | None:
    """Write nbgrader_config.py, unless one that dlgrade did not write is already there.

    It lists every assignment exported so far, and its cell timeout covers all of them.
    """
    path = course_dir / "nbgrader_config.py"
    if path.exists() and not path.read_text(encoding="utf-8").startswith(CONFIG_MARKER):
        return None
    previous = _configured_assignments(path)
    listed = list(dict.fromkeys([*previous, *names]))
    timeout = execute_timeout(load_spec(a) for a in listed)
    path.write_text(f"""{CONFIG_MARKER} (dlgrade {__version__}).
# dlgrade rewrites it on the next export while the first line is unchanged.
# Run nbgrader from the Python environment where dlgrade is installed: the grade
# cells import grader.interop.nbgrader_checks, which needs the reference and the hidden specs.
c = get_config()  # noqa: F821  (nbgrader defines get_config)

c.CourseDirectory.course_id = {COURSE_ID!r}

# The assignments in source/ (nbgrader adds each to its gradebook on generate_assignment):
#   for a in {" ".join(listed)}; do nbgrader generate_assignment $a; done
DLGRADE_ASSIGNMENTS = {listed!r}

# Seconds a cell may run: the slowest grade cell's cases at their own time limits, plus
# {TIMEOUT_MARGIN_S} s for the kernel and the reference. A cell over it scores zero.
c.Execute.timeout = {timeout}
""", encoding="utf-8")
    return path


def _configured_assignments(path: Path) -> list[str]:
    if not path.exists():
        return []
    match = re.search(r"^DLGRADE_ASSIGNMENTS = (\[.*\])$", path.read_text(encoding="utf-8"), re.M)
    if not match:
        return []
    try:
        listed = ast.literal_eval(match.group(1))
    except (ValueError, SyntaxError):
        return []
    return [a for a in listed if a in assignment_names()]


# ---------------------------------------------------------------- the lesson


def _lesson_cells(assignment: Assignment, docstring: str) -> list[nbformat.NotebookNode]:
    """The module docstring as markdown: a cell per section, indented blocks as code."""
    lines = docstring.strip("\n").split("\n")
    title = lines[0].strip() if lines else assignment.title
    sections: list[list[str]] = [[f"# {title}", ""]]
    body = lines[1:]
    i = 0
    while i < len(body):
        if i + 1 < len(body) and body[i].strip() and _UNDERLINE.match(body[i + 1]):
            sections.append([f"## {body[i].strip()}", ""])
            i += 2
            continue
        sections[-1].append(body[i])
        i += 1
    kept = [sections[0], *(s for s in sections[1:] if any(line.strip() for line in s[1:]))]
    return [new_markdown_cell(_to_markdown(s)) for s in kept]


def _to_markdown(lines: list[str]) -> str:
    """reST-flavoured docstring text as markdown: ``code`` -> `code`; indented runs -> fences."""
    out: list[str] = []
    block: list[str] = []

    def flush() -> None:
        if block:
            out.extend(["```text", *textwrap.dedent("\n".join(block)).split("\n"), "```"])
            block.clear()

    in_list = False
    for line in lines:
        stripped = line.strip()
        if not stripped:
            flush()
            in_list = False
            out.append("")
            continue
        if stripped[:2] in ("* ", "- ") and not line.startswith(" "):
            in_list = True
        if line.startswith(" ") and not in_list and not stripped.startswith(("#", "*", "-")):
            block.append(line)
            continue
        flush()
        out.append(line.replace("``", "`") if not line.startswith(" ") else "  " + stripped.replace("``", "`"))
    flush()
    return "\n".join(out).strip("\n")


# ---------------------------------------------------------------- code cells


@dataclass
class _Cell:
    cell: nbformat.NotebookNode
    names: tuple[str, ...] = ()  # the top-level names the cell defines


def _code_cells(name: str, stub_text: str, ref_text: str) -> tuple[list[_Cell], dict[str, int]]:
    """The stub's code in cells: given code read-only, API definitions as solution cells."""
    stub_lines = stub_text.split("\n")
    stub_tree, ref_tree = ast.parse(stub_text), ast.parse(ref_text)
    reference = _Reference(ref_text, ref_tree, _bound_names(stub_tree.body))
    cells: list[_Cell] = []
    given: list[str] = []
    given_names: list[str] = []
    counter = {"given": 0}

    def flush_given() -> None:
        text = "\n".join(given).strip("\n")
        if text.strip():
            counter["given"] += 1
            cells.append(_Cell(_given_cell(text, f"{name}_given_{counter['given']}"), tuple(given_names)))
        given.clear()
        given_names.clear()

    body = stub_tree.body
    if body and _is_docstring(body[0]):
        body = body[1:]
    previous_end = _docstring_end(stub_tree)
    for node in body:
        start = _first_line(node)
        for line in stub_lines[previous_end:start - 1]:  # comments and blank lines between
            section = _SECTION_COMMENT.match(line)
            if section:
                flush_given()
                if section.group(1):
                    cells.append(_Cell(new_markdown_cell(f"## {section.group(1)}")))
            else:
                given.append(line)
        previous_end = node.end_lineno
        source_lines = stub_lines[start - 1:node.end_lineno]
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            solution = _with_solutions(node, source_lines, start, reference)
            if solution is None:  # complete in the stub: given code
                given.extend(source_lines)
                given_names.append(node.name)
                continue
            flush_given()
            cells.append(_Cell(new_markdown_cell(f"### `{node.name}`")))
            cells.append(_Cell(_solution_cell(solution, f"{name}_{_grade_id(node.name)}"), (node.name,)))
        else:
            given.extend(source_lines)
            given_names.extend(_bound_names([node]))
    flush_given()
    defined_in = {n: i for i, c in enumerate(cells) for n in c.names}
    return cells, defined_in


def _given_cell(text: str, grade_id: str) -> nbformat.NotebookNode:
    return new_code_cell(text, metadata={
        "deletable": False, "editable": False,
        "nbgrader": {"grade": False, "solution": False, "locked": True, "task": False,
                     "grade_id": grade_id, "schema_version": 3},
    })


def _solution_cell(text: str, grade_id: str) -> nbformat.NotebookNode:
    return new_code_cell(text, metadata={
        "nbgrader": {"grade": False, "solution": True, "locked": False, "task": False,
                     "grade_id": grade_id, "schema_version": 3},
    })


def _test_cell(text: str, grade_id: str, points: float) -> nbformat.NotebookNode:
    return new_code_cell(text, metadata={
        "deletable": False, "editable": False,
        "nbgrader": {"grade": True, "solution": False, "locked": True, "task": False,
                     "grade_id": grade_id, "points": points, "schema_version": 3},
    })


def _grade_id(text: str) -> str:
    return _GRADE_ID.sub("_", text).strip("_")


class _Reference:
    """The reference module's definitions, and the module-level helpers each one needs."""

    def __init__(self, text: str, tree: ast.Module, stub_names: set[str]) -> None:
        self.lines = text.split("\n")
        self.defs = {n.name: n for n in tree.body
                     if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
        # reference-only module-level names (helpers, constants, imports), in source order
        self.helpers: dict[str, tuple[int, ast.stmt]] = {}
        for index, node in enumerate(tree.body):
            if isinstance(node, ast.ImportFrom) and node.module == "__future__":
                continue
            for bound in _bound_names([node]):
                if bound not in stub_names:
                    self.helpers.setdefault(bound, (index, node))

    def helper_source(self, body: Sequence[ast.stmt]) -> list[str]:
        """The helper statements `body` needs (transitively), dedented, in source order."""
        needed: dict[str, tuple[int, ast.stmt]] = {}
        todo = [n for n in _free_names(body) if n in self.helpers]
        while todo:
            name = todo.pop()
            if name in needed:
                continue
            needed[name] = self.helpers[name]
            todo += [n for n in _free_names([needed[name][1]]) if n in self.helpers and n not in needed]
        out: list[str] = []
        seen: set[int] = set()
        for name, (index, node) in sorted(needed.items(), key=lambda kv: kv[1][0]):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                out.append(_import_of(node, name))
                continue
            if index in seen:
                continue
            seen.add(index)
            out += [*_dedent(self.lines[_first_line(node) - 1:node.end_lineno]), ""]
        return out

    def body_source(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
        """The function's body without its docstring (keeping comments before the first line)."""
        start = node.body[0].end_lineno + 1 if _is_docstring(node.body[0]) else node.body[0].lineno
        return _dedent(self.lines[start - 1:node.end_lineno], strip_blank=True)


def _with_solutions(node: ast.stmt, lines: list[str], first_line: int, reference: _Reference) -> str | None:
    """The stub definition with reference bodies in solution blocks; None when nothing differs."""
    ref = reference.defs.get(node.name)
    if ref is None or type(ref) is not type(node):
        return None
    if isinstance(node, ast.ClassDef):
        ref_methods = {m.name: m for m in ref.body if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))}
        replacements = [(m, ref_methods[m.name]) for m in node.body
                        if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef)) and m.name in ref_methods
                        and _body_dump(m) != _body_dump(ref_methods[m.name])]
        extra = [m for m in ref.body if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))
                 and m.name not in {s.name for s in node.body if hasattr(s, "name")}]
    else:
        replacements = [(node, ref)] if _body_dump(node) != _body_dump(ref) else []
        extra = []
    if not replacements and not extra:
        return None
    out = list(lines)
    for stub_fn, ref_fn in sorted(replacements, key=lambda p: p[0].lineno, reverse=True):
        stub_body = stub_fn.body[1:] if _is_docstring(stub_fn.body[0]) else stub_fn.body
        indent = " " * stub_fn.body[0].col_offset
        start = (stub_body[0].lineno if stub_body else stub_fn.end_lineno + 1) - first_line
        end = stub_fn.end_lineno - first_line + 1
        block = [*reference.helper_source(ref_fn.body), *reference.body_source(ref_fn)]
        out[start:end] = [f"{indent}{BEGIN_SOLUTION}",
                          *[f"{indent}{line}" if line.strip() else "" for line in block],
                          f"{indent}{END_SOLUTION}"]
    if extra:  # methods only the reference has: a class-level block (rare; the stub should list them)
        indent = " " * node.body[0].col_offset
        block: list[str] = []
        for method in extra:
            block += [*_dedent(reference.lines[_first_line(method) - 1:method.end_lineno]), ""]
        out += ["", f"{indent}{BEGIN_SOLUTION}", *[f"{indent}{x}" if x.strip() else "" for x in block],
                f"{indent}{END_SOLUTION}"]
    return "\n".join(out).rstrip("\n")


# ---------------------------------------------------------------- test cells


def _place_tests(name: str, spec: AssignmentSpec, cells: list[_Cell], defined_in: dict[str, int],
                 uses: dict[str, set[str]]) -> list[nbformat.NotebookNode]:
    """Each target's grade cell after the last cell its cases need.

    A case needs its target's definition, what its own code names, and, transitively,
    what the reference's definitions of those call (Value.backward calls topological_order).
    """
    targets: dict[str, list[Case]] = {}
    for case in spec.cases:
        targets.setdefault(case.target, []).append(case)
    after: dict[int, list[nbformat.NotebookNode]] = {}
    for target, cases in targets.items():
        needed = {target.split(".")[0]}
        for case in cases:
            needed |= _names_used(getattr(case.run, "function", case.run)) & set(defined_in)
        todo = list(needed)
        while todo:
            for used in uses.get(todo.pop(), set()) & set(defined_in):
                if used not in needed:
                    needed.add(used)
                    todo.append(used)
        position = max((defined_in[n] for n in needed if n in defined_in), default=len(cells) - 1)
        after.setdefault(position, []).append(_target_cell(name, target, cases))
    out: list[nbformat.NotebookNode] = []
    for i, cell in enumerate(cells):
        out.append(cell.cell)
        out += after.get(i, [])
    return out


def _target_cell(name: str, target: str, cases: list[Case]) -> nbformat.NotebookNode:
    public = [c for c in cases if c.visible]
    hidden = [c for c in cases if not c.visible]
    points = round(sum(c.points for c in cases), 6)
    lines = [f"# Tests of `{target}`: {len(public)} public and {len(hidden)} hidden case(s), "
             f"{points:g} points.",
             "from grader.interop.nbgrader_checks import award, check_target",
             "",
             f"_result = check_target({name!r}, {target!r}, globals())"]
    if hidden:
        lines += [BEGIN_HIDDEN,
                  f"_result += check_target({name!r}, {target!r}, globals(), hidden=True)",
                  END_HIDDEN]
    lines.append("award(_result)")
    return _test_cell("\n".join(lines), f"{name}_test_{_grade_id(target)}", points)


def _names_used(func: object, depth: int = 0) -> set[str]:
    """Attribute and global names a case's code uses, through the spec's own helpers."""
    code = getattr(func, "__code__", None)
    if code is None or depth > 3:
        return set()
    names: set[str] = set()
    stack = [code]
    while stack:
        c = stack.pop()
        names |= set(c.co_names)
        for const in c.co_consts:
            if isinstance(const, types.CodeType):
                stack.append(const)
            elif isinstance(const, str) and const.isidentifier():
                names.add(const)  # getattr(module, "Adam")
    module_globals = getattr(func, "__globals__", {})
    for n in list(names):
        helper = module_globals.get(n)
        if isinstance(helper, types.FunctionType) and helper is not func:
            names |= _names_used(helper, depth + 1)
    return names


# ---------------------------------------------------------------- ast helpers


def _uses(tree: ast.Module) -> dict[str, set[str]]:
    """For each top-level definition, the module-level names its code refers to."""
    return {node.name: set(_free_names([node])) - {node.name} for node in tree.body
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}


def _is_docstring(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


def _docstring_end(tree: ast.Module) -> int:
    return tree.body[0].end_lineno if tree.body and _is_docstring(tree.body[0]) else 0


def _first_line(node: ast.stmt) -> int:
    decorators = getattr(node, "decorator_list", [])
    return min([node.lineno, *(d.lineno for d in decorators)])


def _body_dump(node: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    body = node.body[1:] if _is_docstring(node.body[0]) else node.body
    return ast.dump(ast.Module(body=body, type_ignores=[]))


def _bound_names(nodes: Iterable[ast.stmt]) -> set[str]:
    names: set[str] = set()
    for node in nodes:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                names |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
    return names


def _free_names(nodes: Iterable[ast.AST]) -> list[str]:
    return sorted({n.id for node in nodes for n in ast.walk(node) if isinstance(n, ast.Name)})


def _import_of(node: ast.Import | ast.ImportFrom, name: str) -> str:
    """The import statement, narrowed to the one name the solution needs."""
    aliases = [a for a in node.names if (a.asname or a.name).split(".")[0] == name]
    if isinstance(node, ast.Import):
        return ast.unparse(ast.Import(names=aliases))
    return ast.unparse(ast.ImportFrom(module=node.module, names=aliases, level=node.level))


def _dedent(lines: list[str], strip_blank: bool = False) -> list[str]:
    text = textwrap.dedent("\n".join(lines))
    out = text.split("\n")
    if strip_blank:
        while out and not out[0].strip():
            out.pop(0)
        while out and not out[-1].strip():
            out.pop()
    return out


# ---------------------------------------------------------------- working with the output


def without_markers(source: str) -> str:
    """A solution cell's source as its author wrote it: the solution, markers removed."""
    return "\n".join(line for line in source.split("\n")
                     if BEGIN_SOLUTION not in line and END_SOLUTION not in line)


def fill_in(release: nbformat.NotebookNode, source: nbformat.NotebookNode,
            replace: dict[str, str] | None = None) -> nbformat.NotebookNode:
    """The released notebook as a student who wrote the reference solution submits it.

    `replace` maps a solution cell's grade_id to other code for that cell (a wrong answer).
    """
    solutions = {c.metadata["nbgrader"]["grade_id"]: without_markers(c.source)
                 for c in source.cells if c.metadata.get("nbgrader", {}).get("solution")}
    filled = nbformat.from_dict(release)
    for cell in filled.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.metadata.get("nbgrader", {}).get("solution") and grade_id in solutions:
            cell.source = (replace or {}).get(grade_id, solutions[grade_id])
    return filled


def jupyter_environment(root: Path, python: str, base: dict[str, str]) -> dict[str, str]:
    """Environment variables under which nbgrader runs its kernels with `python`.

    A private kernelspec (`python3` -> this interpreter) and private Jupyter config,
    data and runtime folders under `root`, so no user- or system-wide kernel or
    nbgrader config is picked up; `python`'s bin folder first on PATH (nbgrader calls
    alembic from there).
    """
    kernels = root / "share" / "kernels" / "python3"
    kernels.mkdir(parents=True, exist_ok=True)
    (kernels / "kernel.json").write_text(json.dumps({
        "argv": [python, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (dlgrade)", "language": "python",
    }), encoding="utf-8")
    env = dict(base)
    for var, sub in (("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_DATA_DIR", "data"),
                     ("JUPYTER_RUNTIME_DIR", "runtime")):
        (root / sub).mkdir(parents=True, exist_ok=True)
        env[var] = str(root / sub)
    env["JUPYTER_PATH"] = str(root / "share")
    env["JUPYTER_PLATFORM_DIRS"] = "1"
    env["PATH"] = os.pathsep.join([str(Path(python).parent), base.get("PATH", "")])
    env.pop("PYTHONPATH", None)
    return env
