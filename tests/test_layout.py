"""The house's layout: grader/'s import graph has no cycle, and its rooms depend one way.

cli -> ui | server -> similarity -> classroom | quiz -> executors -> tools -> interop -> specs
-> grading -> sandbox (similarity reads the class the way grade-batch does and records flags
in the gradebook; a batch grades through an executor, and a cluster's workers run the
doctor's probe), and the top-level modules (errors, catalog, course, sqlite, textfile) are
usable from anywhere because they import none of the rooms. Every import counts, also one
inside a function: a cycle cannot hide behind a deferred import.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from grader.catalog import ROOT

GRADER = ROOT / "grader"
# The course server is an entry point like the terminal's ui: it uses the classroom (the
# gradebook, receipts, feedback) and only cli imports it.
RANK = {"sandbox": 1, "grading": 2, "specs": 3, "interop": 4, "tools": 5, "executors": 6,
        "classroom": 7, "quiz": 7, "similarity": 8, "ui": 9, "server": 9}
TOP_LEVEL = {"grader", "grader.errors", "grader.catalog", "grader.course", "grader.sqlite",
             "grader.textfile"}
SHIMS = {"grader.nbgrader_checks"}  # the import path of notebooks exported before the move
# Imports inside a function that stay there, each for a reason (none of them closes a cycle:
# the graph test below counts them too).
DEFERRED_OK = {
    ("grader.grading.submission", "grader.grading.notebook"): "nbformat costs 0.2 s to import",
    ("grader.classroom.handin", "grader.grading.notebook"): "nbformat costs 0.2 s to import",
    ("grader.similarity.sources", "grader.grading.notebook"): "nbformat costs 0.2 s to import",
    ("grader.server.checks", "grader.grading.notebook"): "nbformat costs 0.2 s to import",
    ("grader.server.public_check", "grader.grading.grader"): "the grading engine starts only "
                                                               "when a course turns the check on",
    ("grader.server.serve", "grader.server.app"): "FastAPI is the optional server extra: "
                                                  "without it, serve says so in one line",
    ("grader.executors", "grader.executors.dask_executor"): "Dask is the optional extra "
                                                            "dlgrade[dask]: without it, --executor "
                                                            "dask says so in one line",
    ("grader.quiz.bank", "grader.quiz.validate"): "a quiz started from the cache skips yaml and pydantic",
    ("grader.quiz.bank", "grader.quiz.lint"): "the content checks (~10 ms of patterns) run only "
                                              "for validate, never at a quiz's start",
    ("grader.sandbox.zygote", "grader.sandbox.protocol"): "the zygote imports after its reaper forks",
    ("grader.sandbox.zygote", "grader.sandbox.child"): "the zygote imports after its reaper forks",
    ("grader.sandbox.zygote", "grader.sandbox"): "the zygote imports after its reaper forks",
    ("grader.sandbox.zygote", "grader.sandbox.limits"): "the zygote imports after its reaper forks",
    ("grader.sandbox.zygote", "grader.sandbox.codec"): "the zygote imports after its reaper forks",
    ("grader.sandbox.zygote", "grader.sandbox.cgroup"): "the zygote imports after its reaper forks",
    ("grader.sandbox.zygote", "grader.sandbox.tmpfs"): "the zygote imports after its reaper forks",
    ("grader.sandbox.zygote", "grader.sandbox.harness"): "the zygote imports after its reaper forks",
    ("grader.sandbox.child", "grader.sandbox.cgroup"): "only a child given a control group needs it",
}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(GRADER.rglob("*.py"))}


def _targets(node: ast.Import | ast.ImportFrom) -> list[str]:
    """The grader modules an import statement loads (a `from package import module` loads
    the module)."""
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
    elif node.level or not node.module:
        return []
    else:
        names = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in MODULES else node.module
                 for a in node.names]
    out = []
    for name in names:
        while name and name not in MODULES:
            name = name.rpartition(".")[0]
        if name.startswith("grader"):
            out.append(name)
    return out


def _is_type_checking(node: ast.If) -> bool:
    return isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"


def imports(path: Path) -> list[tuple[str, bool]]:
    """(module imported, inside a function?) for every run-time import of the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[str, bool]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                continue  # types only, never imported at run time
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                found.extend((t, in_function) for t in _targets(child))
            visit(child, in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)))

    visit(tree, False)
    return found


GRAPH = {name: {t for t, _ in imports(path) if t != name} for name, path in MODULES.items()}


def room(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in RANK) else None


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1 on the path, 2 done
    path: list[str] = []

    def dfs(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (cycle := dfs(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := dfs(start)):
            return cycle
    return None


def test_the_graph_is_built_from_the_whole_package() -> None:
    assert {"grader.grading.grader", "grader.sandbox.pool", "grader.classroom.batch",
            "grader.ui.report", "grader.interop.gradescope"} <= set(MODULES)
    assert "grader.grading.results" in GRAPH["grader.grading.grader"]
    assert "grader.sandbox.codec" in GRAPH["grader.sandbox.pool"]  # `from grader.sandbox import codec`


def test_find_cycle_finds_one() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycle_in_grader() -> None:
    assert find_cycle(GRAPH) is None, " -> ".join(find_cycle(GRAPH) or [])


def test_rooms_depend_one_way() -> None:
    wrong = []
    for module, targets in GRAPH.items():
        if module in SHIMS:
            continue
        for target in targets:
            if target in TOP_LEVEL:
                continue  # usable from anywhere
            if module in TOP_LEVEL:
                wrong.append(f"{module} -> {target} (a top-level module imports a room)")
                continue
            mine, theirs = room(module), room(target)
            if mine != theirs and RANK[theirs] >= RANK[mine]:
                wrong.append(f"{module} -> {target} ({mine} may not depend on {theirs})")
    assert wrong == []


@pytest.mark.parametrize("name", sorted(MODULES))
def test_deferred_imports_of_grader_modules_are_few_and_explained(name: str) -> None:
    deferred = {t for t, in_function in imports(MODULES[name]) if in_function}
    unexplained = sorted(t for t in deferred if (name, t) not in DEFERRED_OK)
    assert unexplained == [], f"{name} imports {unexplained} inside a function"


def test_the_old_nbgrader_checks_path_still_imports() -> None:
    import grader.interop.nbgrader_checks as moved
    import grader.nbgrader_checks as shim

    assert shim.check_target is moved.check_target and shim.award is moved.award


# What runs in the sandbox's child (the zygote, the child, the public harness) is mounted
# alone under bwrap (grader.sandbox.bwrap.child_code): it may import nothing of the course
# tree outside grader/sandbox/, so no spec, check, catalog or reference can reach a child.
CHILD_SIDE = ["grader.sandbox.zygote", "grader.sandbox.child",
              *(m for m in MODULES if m.startswith("grader.sandbox.harness"))]


def test_the_child_side_imports_only_the_sandbox() -> None:
    seen: set[str] = set()
    todo = list(CHILD_SIDE)
    while todo:
        module = todo.pop()
        if module not in seen:
            seen.add(module)
            todo += GRAPH.get(module, ())
    outside = sorted(m for m in seen if m != "grader" and not m.startswith("grader.sandbox"))
    assert outside == []
    assert {"grader.sandbox.harness", "grader.sandbox.codec"} <= seen


def test_the_child_code_mounted_under_bwrap_holds_the_child_side() -> None:
    from grader.sandbox.bwrap import child_code

    mounted = child_code(ROOT)
    for module in CHILD_SIDE:
        path = MODULES[module]
        assert any(path == m or m in path.parents for m in mounted), module
    for private in (GRADER / "specs", GRADER / "grading", ROOT / "reference"):
        assert not any(private == m or m in private.parents for m in mounted), private
