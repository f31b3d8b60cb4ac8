"""A Jupyter notebook submission as the source of one Python module.

The code cells, in order, become the module; markdown and raw cells are ignored.
IPython syntax that is not Python is dropped with a note each: line magics
(`%matplotlib inline`), shell escapes (`!pip install x`, `files = !ls`), help
(`np.sum?`) and cell magics (`%%bash`; the body of `%%time`, `%%timeit` and
`%%capture` is Python and stays). nbgrader's autograder test cells (grade cells
that are not solution cells) are dropped too: dlgrade grades with its own cases.

A file that is not a notebook raises NotebookError; grading reports it as the
submission failing to import.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from collections.abc import Mapping
from typing import Any

from grader.grading.nbformat_lite import nbformat

CELL_MAGICS_WITH_PYTHON_BODY = frozenset({"time", "timeit", "capture"})
MAX_NOTES_PER_CELL = 10  # a note per dropped line, up to this many; then how many more
CONVERT_SECONDS = 30.0  # the bounded step: any notebook up to the size cap takes far less
CONVERT_MEMORY = 1024 * 1024 * 1024

# `%magic`, `!cmd`, `name = %magic`, `name = !cmd`, `obj?` / `obj??` (help)
_MAGIC_LINE = re.compile(r"^\s*(?:[%!]|[A-Za-z_][\w.,\s]*=\s*[%!])")
_HELP_LINE = re.compile(r"^\s*[?]*[A-Za-z_][\w.]*\s*\?{1,2}\s*$|^\s*\?{1,2}\s*[A-Za-z_][\w.]*\s*$")


class NotebookError(ValueError):
    """The file is not a Jupyter notebook nbformat can read."""


def read_notebook(text: str) -> nbformat.NotebookNode:
    """Parse and validate notebook JSON (any nbformat version nbformat reads, as v4)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotebookError(f"not a Jupyter notebook: invalid JSON ({exc})") from None
    if not isinstance(data, dict) or "nbformat" not in data:
        raise NotebookError("not a Jupyter notebook: the JSON has no 'nbformat' version")
    try:
        notebook = nbformat.reads(text, as_version=4)
        nbformat.validate(notebook)
    except Exception as exc:  # nbformat raises ValidationError, NBFormatError, KeyError, ...
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise NotebookError(f"not a valid Jupyter notebook: {first_line}") from None
    return notebook


def _mapping(value: Any) -> Mapping[str, Any]:
    """Metadata the schema leaves open may hold anything: a mapping, or nothing."""
    return value if isinstance(value, Mapping) else {}


def is_nbgrader_test_cell(cell: nbformat.NotebookNode) -> bool:
    """An nbgrader autograder test: a graded code cell the student does not write."""
    meta = _mapping(_mapping(cell.get("metadata")).get("nbgrader"))
    return meta.get("grade") is True and meta.get("solution") is not True and cell.cell_type == "code"


def notebook_to_source(text: str) -> tuple[str, list[str]]:
    """The module source of a notebook's code cells, and notes on what was dropped."""
    notebook = read_notebook(text)
    language = _mapping(_mapping(notebook.get("metadata")).get("kernelspec")).get("language", "python")
    notes: list[str] = []
    if not isinstance(language, str) or language.lower() != "python":
        notes.append(f"notebook: kernel language is {_short(repr(language))}; its code cells are "
                     "read as Python")
    parts: list[str] = []
    futures: list[str] = []
    dropped_tests = 0
    for number, cell in enumerate(notebook.cells, start=1):
        if cell.cell_type != "code":
            continue
        if is_nbgrader_test_cell(cell):
            dropped_tests += 1
            continue
        code, cell_notes = _cell_to_python(cell.source, number)
        notes.extend(cell_notes[:MAX_NOTES_PER_CELL])
        if len(cell_notes) > MAX_NOTES_PER_CELL:
            notes.append(f"notebook cell {number}: and {len(cell_notes) - MAX_NOTES_PER_CELL} "
                         "more IPython lines dropped")
        code = _hoist_future_imports(code, futures)
        if code.strip():
            parts.append(f"# ---- notebook cell {number}\n{code.rstrip()}\n")
    if dropped_tests:
        notes.append(f"notebook: {dropped_tests} nbgrader test cell(s) not run: "
                     "dlgrade grades with its own cases")
    if futures:  # IPython allows them atop any cell; a module, only atop the file
        parts.insert(0, f"from __future__ import {', '.join(dict.fromkeys(futures))}\n")
    return "\n\n".join(parts), notes


def _hoist_future_imports(code: str, futures: list[str]) -> str:
    """Take `from __future__ import ...` off the top of a cell (into futures), keeping line numbers."""
    try:
        body = ast.parse(code).body
    except SyntaxError:
        return code  # the import reports it
    lines = code.split("\n")
    docstring = bool(body) and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
        and isinstance(body[0].value.value, str)
    for node in body[1:] if docstring else body:
        if not (isinstance(node, ast.ImportFrom) and node.module == "__future__"):
            break
        futures.extend(alias.name for alias in node.names)
        for row in range(node.lineno - 1, node.end_lineno):
            lines[row] = ""
        lines[node.lineno - 1] = "# (its __future__ import moved to the top of the module)"
    return "\n".join(lines)


def _cell_to_python(source: str, number: int) -> tuple[str, list[str]]:
    lines = source.split("\n")
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is not None and lines[first].lstrip().startswith("%%"):
        magic = lines[first].strip()
        name = magic[2:].split(maxsplit=1)[0] if len(magic) > 2 else ""
        if name not in CELL_MAGICS_WITH_PYTHON_BODY:
            return "", [f"notebook cell {number}: cell magic {_short(magic)} dropped with its cell"]
        body, notes = _drop_magic_lines(lines[first + 1:], number)
        return body, [f"notebook cell {number}: cell magic {_short(magic)} dropped (its body kept)",
                      *notes]
    return _drop_magic_lines(lines, number)


def _drop_magic_lines(lines: list[str], number: int) -> tuple[str, list[str]]:
    """Replace IPython-only lines by `pass` (same indent), leaving Python alone. One pass
    over the cell: a line is a magic only where a statement may start (_StatementStarts)."""
    if _parses("\n".join(lines)):  # valid Python has no IPython syntax (`%` may continue a line)
        return "\n".join(lines), []
    out = list(lines)
    notes: list[str] = []
    starts = _StatementStarts()
    i = 0
    while i < len(out):
        line = out[i]
        if not starts.at_start() or not (_MAGIC_LINE.match(line) or _HELP_LINE.match(line)):
            starts.feed(line)
            i += 1
            continue
        end = i
        while out[end].rstrip().endswith("\\") and end + 1 < len(out):  # a continued shell line
            end += 1
        indent = re.match(r"\s*", line).group(0)
        kind = "help" if _HELP_LINE.match(line) else (
            "shell escape" if "!" in line.split("%")[0] else "magic")
        notes.append(f"notebook cell {number}: IPython {kind} dropped: {_short(line.strip())}")
        out[i] = f"{indent}pass  # dropped: IPython {kind}"
        for j in range(i + 1, end + 1):
            out[j] = ""
        i = end + 1
    return "\n".join(out), notes


class _StatementStarts:
    """Whether the next line starts a statement: not inside brackets, a string, or after a
    backslash. Fed line by line, each character looked at once (linear in the cell)."""

    def __init__(self) -> None:
        self.depth = 0
        self.quote = ""  # the open string's delimiter: a quote, or three of them
        self.backslash = False

    def at_start(self) -> bool:
        return self.depth == 0 and not self.quote and not self.backslash

    def feed(self, line: str) -> None:
        self.backslash = False
        i, n = 0, len(line)
        while i < n:
            ch = line[i]
            if self.quote:
                if ch == "\\":
                    i += 2
                    continue
                if line.startswith(self.quote, i):
                    i += len(self.quote)
                    self.quote = ""
                    continue
                i += 1
                continue
            if ch == "#":
                break
            if ch in "\"'":
                self.quote = ch * 3 if line.startswith(ch * 3, i) else ch
                i += len(self.quote)
                continue
            if ch in "([{":
                self.depth += 1
            elif ch in ")]}":
                self.depth = max(self.depth - 1, 0)
            elif ch == "\\" and i == n - 1:
                self.backslash = True
            i += 1
        if len(self.quote) == 1 and not line.endswith("\\"):
            self.quote = ""  # a one-line string ends with its line (unless the newline is escaped)


def _parses(code: str) -> bool:
    try:
        ast.parse(code)
    except (SyntaxError, ValueError):
        return False
    return True


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def notebook_to_source_bounded(data: bytes) -> tuple[str, list[str]]:
    """notebook_to_source in a process of its own, under a time and a memory limit.

    The notebook is untrusted data: however it was built, converting it costs this process
    nothing but the wait, and at most CONVERT_SECONDS. NotebookError for what is not a
    notebook, or takes too long or too much memory to read as one.
    """
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "PYTHONHASHSEED")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    try:
        done = subprocess.run([sys.executable, "-m", "grader.grading.notebook"], input=data,
                              capture_output=True, timeout=CONVERT_SECONDS, env=env)
    except subprocess.TimeoutExpired:
        raise NotebookError(f"not converted: reading it took more than {CONVERT_SECONDS:g} s") from None
    if done.returncode != 0:
        raise NotebookError("not converted: reading it ran out of memory or crashed")
    try:
        answer = json.loads(done.stdout)
        kind, source, notes = answer["kind"], answer["source"], answer["notes"]
        if not (isinstance(source, str) and isinstance(notes, list)
                and all(isinstance(n, str) for n in notes)):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        raise NotebookError("not converted: the converter's answer was unreadable") from None
    if kind == "error":
        raise NotebookError(source)
    return source, notes


def _convert_stdin() -> None:
    """`python -m grader.grading.notebook`: a notebook on stdin, {"kind", "source", "notes"} on stdout."""
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (CONVERT_MEMORY, CONVERT_MEMORY))
    cpu = int(CONVERT_SECONDS)
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    data = sys.stdin.buffer.read()
    try:
        source, notes = notebook_to_source(data.decode("utf-8"))
        answer = {"kind": "module", "source": source, "notes": notes}
    except UnicodeDecodeError as exc:
        answer = {"kind": "error", "notes": [],
                  "source": f"not a Jupyter notebook: the file is not UTF-8 text ({exc.reason})"}
    except NotebookError as exc:
        answer = {"kind": "error", "source": str(exc), "notes": []}
    sys.stdout.write(json.dumps(answer, ensure_ascii=True))


if __name__ == "__main__":
    _convert_stdin()
