"""dlgrade against nbgrader, side by side: one class of notebook submissions, one machine.

The losses assignment is exported as an nbgrader course (`dlgrade nbgrader export`) and
released with the real `nbgrader generate_assignment`. A class of 30 notebooks is made
from the release: correct ones (the reference, other correct styles, notebooks with
magics, shell escapes and scratch cells), buggy ones (a classic mistake in a different
function each), the untouched release, one with an infinite loop in one function, and
two that attack the grader: one patches numpy's comparisons (np.allclose & co.), one
patches the grade cells' own check (grader.interop.nbgrader_checks.award).

The same files are graded by `nbgrader autograde losses` (a fresh kernel per notebook,
the grade cells running in-process next to the student's code) and by
`dlgrade grade-batch --jobs 2` (a sandboxed child per submission, comparison in the
trusted process). Printed: the wall time of each, the ratio, and every student's two
scores, with the cells and cases behind every disagreement.

    python benchmarks/vs_nbgrader.py [--jobs 2] [--keep DIR] [--no-loop]
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.interop.nbgrader_export import export_course, fill_in, jupyter_environment  # noqa: E402

ASSIGNMENT = "losses"
AFTER_IMPORTS = -2  # an extra cell's position: right after the (read-only) imports cell
BIN = Path(sys.executable).parent


@dataclass
class Student:
    id: str
    kind: str  # correct / buggy / empty / infinite loop / attack
    what: str  # what the submission does, in a sentence
    replace: dict[str, str] = field(default_factory=dict)  # solution grade_id -> code
    extra_cells: list[tuple[int, nbformat.NotebookNode]] = field(default_factory=list)  # index, -1 = end
    untouched: bool = False
    same_code_as: str | None = None  # an attack: the honest student whose functions it has

    @property
    def honest(self) -> bool:
        return self.kind != "attack"


def _fn(name: str, body: str, args: str = "pred, target") -> tuple[str, str]:
    return f"{ASSIGNMENT}_{name}", f"def {name}({args}):\n" + "\n".join(
        "    " + line for line in body.strip("\n").split("\n")) + "\n"


BUGS: list[tuple[str, str, tuple[str, str]]] = [
    ("mse", "sums over the batch instead of averaging (forgot 1/N)",
     _fn("mse", "return float(np.sum((target - pred) ** 2))")),
    ("mse_grad", "wrong sign", _fn("mse_grad", "return 2.0 / pred.shape[0] * (target - pred)")),
    ("mse_grad", "forgot the factor 2", _fn("mse_grad", "return -(target - pred) / pred.shape[0]")),
    ("l1", "averages over every element (1/(N·D)), right only for (N,) inputs",
     _fn("l1", "return float(np.mean(np.abs(target - pred)))")),
    ("l1_grad", "forgot 1/N", _fn("l1_grad", "return np.sign(pred - target)")),
    ("huber", "swapped the quadratic and the linear branch",
     _fn("huber", "r = np.abs(pred - target)\n"
                  "per = np.where(r <= delta, delta * (r - 0.5 * delta), 0.5 * r**2)\n"
                  "return float(np.sum(per) / pred.shape[0])", "pred, target, delta=1.0")),
    ("huber_grad", "does not clip the residual", _fn("huber_grad", "return (pred - target) / pred.shape[0]",
                                                      "pred, target, delta=1.0")),
    ("softmax", "no max subtraction: overflows for large logits",
     _fn("softmax", "e = np.exp(logits)\nreturn e / e.sum(axis=-1, keepdims=True)", "logits")),
    ("log_softmax", "log of softmax: -inf for large logits",
     _fn("log_softmax", "z = logits - logits.max(axis=-1, keepdims=True)\n"
                        "return np.log(np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True))", "logits")),
    ("cross_entropy", "sums over the batch instead of averaging",
     _fn("cross_entropy", "n = logits.shape[0]\nreturn float(-log_softmax(logits)[np.arange(n), labels].sum())",
         "logits, labels")),
    ("cross_entropy_grad", "forgot 1/N",
     _fn("cross_entropy_grad", "g = softmax(logits)\ng[np.arange(logits.shape[0]), labels] -= 1.0\nreturn g",
         "logits, labels")),
    ("binary_cross_entropy_with_logits", "log of sigmoid: overflows for large logits",
     _fn("binary_cross_entropy_with_logits",
         "s = 1.0 / (1.0 + np.exp(-logits))\n"
         "per = -(targets * np.log(s) + (1 - targets) * np.log(1 - s))\n"
         "return float(np.sum(per) / logits.shape[0])", "logits, targets")),
    ("binary_cross_entropy_with_logits_grad", "wrong sign",
     _fn("binary_cross_entropy_with_logits_grad",
         "return (targets - np.exp(-np.logaddexp(0.0, -logits))) / logits.shape[0]", "logits, targets")),
    ("gaussian_nll", "left out the ½·log(2π·var) term",
     _fn("gaussian_nll", "return float(np.sum((target - mean) ** 2 / (2.0 * var)) / mean.shape[0])",
         "mean, target, var=1.0")),
    ("gaussian_nll_grad", "returns dvar as an array when var is a scalar",
     _fn("gaussian_nll_grad", "n = mean.shape[0]\n"
                              "dmean = (mean - target) / (var * n)\n"
                              "dvar = (1.0 / (2.0 * var) - (target - mean) ** 2 / (2.0 * var**2)) / n\n"
                              "return dmean, dvar", "mean, target, var=1.0")),
    ("mse", "right value, but subtracts in place: modifies pred",
     _fn("mse", "pred -= target\nreturn float(np.sum(pred ** 2) / pred.shape[0])")),
]

OTHER_STYLE = dict([
    _fn("mse", "flat = ((target - pred) ** 2).reshape(len(pred), -1)\nreturn float(flat.sum(axis=1).mean())"),
    _fn("l1", "return float(np.abs(target - pred).reshape(len(pred), -1).sum(axis=1).mean())"),
    _fn("log_softmax", "return logits - np.logaddexp.reduce(logits, axis=-1, keepdims=True)", "logits"),
    _fn("binary_cross_entropy_with_logits",
        "return float(np.sum(np.logaddexp(0.0, logits) - logits * targets) / len(logits))", "logits, targets"),
])

SCRATCH = new_code_cell("x = np.linspace(-3, 3, 7)\nprint('mse', mse(x, 0 * x), 'softmax', softmax(x[None]))")
MAGICS = new_code_cell("%precision 4\n!echo checking my work\nimport math\nmath.pi")
ALLCLOSE_PATCH = new_code_cell(
    "# make every numpy comparison say 'equal'\n"
    "np.allclose = lambda *args, **kwargs: True\n"
    "np.isclose = lambda a, b, *args, **kwargs: np.ones(np.broadcast(a, b).shape, dtype=bool)\n"
    "np.array_equal = lambda *args, **kwargs: True\n"
    "np.testing.assert_allclose = lambda *args, **kwargs: None\n")
CHECK_PATCH = new_code_cell(
    "# the grade cells run `from grader.interop.nbgrader_checks import award, check_target`\n"
    "try:\n"
    "    import grader.interop.nbgrader_checks as _checks\n"
    "    _checks.award = lambda result: None  # no output = nbgrader's full points\n"
    "except ImportError:\n"
    "    pass\n")


def make_class() -> list[Student]:
    students = [Student("s01", "correct", "the reference solution")]
    students += [Student(f"s{i:02d}", "correct", "the reference solution") for i in range(2, 6)]
    students.append(Student("s06", "correct", "correct, in other styles (reshape, logaddexp)",
                            replace=OTHER_STYLE))
    students.append(Student("s07", "correct", "correct, with %precision, a shell escape and a value cell",
                            extra_cells=[(AFTER_IMPORTS, MAGICS)]))
    students.append(Student("s08", "correct", "correct, with scratch cells that call its functions",
                            extra_cells=[(-1, SCRATCH), (-1, new_markdown_cell("My notes."))]))
    students.append(Student("s09", "correct", "correct, other styles plus magics",
                            replace=OTHER_STYLE, extra_cells=[(AFTER_IMPORTS, MAGICS)]))
    students.append(Student("s10", "correct", "the reference solution"))
    for i, (target, what, (grade_id, code)) in enumerate(BUGS, start=11):
        students.append(Student(f"s{i:02d}", "buggy", f"{target}: {what}", replace={grade_id: code}))
    n = len(students) + 1
    wrong_sign = next(s for s in students if s.what == "mse_grad: wrong sign")
    students.append(Student(f"s{n:02d}", "empty", "the release, untouched (every function raises)",
                            untouched=True))
    students.append(Student(f"s{n + 1:02d}", "infinite loop", "l1_grad loops forever, the rest is right",
                            replace=dict([_fn("l1_grad", "while True:\n    pass")])))
    students.append(Student(f"s{n + 2:02d}", "attack",
                            "mse_grad has the wrong sign, and numpy's comparisons are patched to say equal",
                            replace=dict(wrong_sign.replace), extra_cells=[(AFTER_IMPORTS, ALLCLOSE_PATCH)],
                            same_code_as=wrong_sign.id))
    students.append(Student(f"s{n + 3:02d}", "attack",
                            "writes nothing (every function raises) and patches the grade cells' award",
                            untouched=True, extra_cells=[(AFTER_IMPORTS, CHECK_PATCH)],
                            same_code_as=f"s{n:02d}"))
    return students


def notebook_of(student: Student, release: nbformat.NotebookNode,
                source: nbformat.NotebookNode) -> nbformat.NotebookNode:
    notebook = nbformat.from_dict(release) if student.untouched else fill_in(release, source, student.replace)
    imports = next(i for i, c in enumerate(notebook.cells)
                   if c.metadata.get("nbgrader", {}).get("grade_id") == f"{ASSIGNMENT}_given_1")
    for position, cell in student.extra_cells:
        at = {AFTER_IMPORTS: imports + 1, -1: len(notebook.cells)}.get(position, position)
        notebook.cells.insert(at, nbformat.from_dict(cell))
    return notebook


def run(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess]:
    started = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    return time.perf_counter() - started, done


def nbgrader_scores(course: Path, students: list[Student]) -> dict[str, tuple[float, dict[str, float]]]:
    from nbgrader.api import Gradebook

    out = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", course_id="dlgrade") as gb:
        for s in students:
            notebook = gb.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, s.id)
            cells = {g.name.removeprefix(f"{ASSIGNMENT}_test_"): float(g.score) for g in notebook.grades}
            out[s.id] = (float(notebook.score), cells)
    return out


def nbgrader_times(course: Path, students: list[Student], started: float) -> dict[str, float]:
    """Seconds nbgrader spent per notebook: it writes each graded notebook when done with it."""
    finished = {s.id: (course / "autograded" / s.id / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").stat().st_mtime
                for s in students}
    times, previous = {}, started
    for student, when in sorted(finished.items(), key=lambda kv: kv[1]):
        times[student], previous = when - previous, when
    return times


def dlgrade_scores(db: Path) -> dict[str, tuple[float, dict[str, float], dict[str, list[str]], float]]:
    from grader.classroom.gradebook import Gradebook

    out = {}
    with Gradebook(db, create=False) as gb:
        for record in gb.current(assignments=[ASSIGNMENT]):
            targets: dict[str, float] = {}
            messages: dict[str, list[str]] = {}
            for t in record.report.tests:
                key = t.target.replace(".", "_")
                targets[key] = targets.get(key, 0.0) + t.points
                if t.status != "passed":
                    messages.setdefault(key, []).append(f"{t.name}: {t.message}")
            out[record.student] = (float(record.score), targets, messages, record.report.execution_time)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=2, help="dlgrade grade-batch --jobs (default 2)")
    parser.add_argument("--keep", type=Path, help="work here and keep the files (default: a temp dir)")
    parser.add_argument("--no-loop", action="store_true",
                        help="leave out the infinite-loop submission (its time limit is a floor for both tools)")
    args = parser.parse_args()

    work = args.keep or Path(tempfile.mkdtemp(prefix="dlgrade-vs-nbgrader-"))
    if args.keep and work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    try:
        return benchmark(work, args.jobs, args.no_loop)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def benchmark(work: Path, jobs: int, no_loop: bool) -> int:
    course = work / "course"
    export_course(course, [ASSIGNMENT])
    env = jupyter_environment(work / "jupyter", sys.executable, dict(os.environ))
    _, done = run([str(BIN / "nbgrader"), "generate_assignment", ASSIGNMENT], course, env)
    if done.returncode != 0:
        print(done.stderr[-3000:])
        return 1
    from grader.specs import load_spec

    case_limits = "/".join(f"{t:g}" for t in sorted({c.timeout for c in load_spec(ASSIGNMENT).cases}))
    source = nbformat.read(course / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    release = nbformat.read(course / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)

    students = [s for s in make_class() if not (no_loop and s.kind == "infinite loop")]
    exchange = work / "class"  # dlgrade's layout: <student>/<assignment>.ipynb
    for s in students:
        notebook = notebook_of(s, release, source)
        for path in (course / "submitted" / s.id / ASSIGNMENT / f"{ASSIGNMENT}.ipynb",
                     exchange / s.id / f"{ASSIGNMENT}.ipynb"):
            path.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(notebook, str(path))

    from importlib.metadata import version

    print(f"machine: {os.cpu_count()} CPU cores, {platform.platform()}, Python {platform.python_version()}, "
          f"nbgrader {version('nbgrader')}, dlgrade {version('dlgrade')}")
    timeout = re.search(r"^c\.Execute\.timeout = (\d+)", (course / "nbgrader_config.py").read_text(), re.M)
    print(f"limits: each case {case_limits} s in both (dlgrade's sandbox; the grade cells' alarm in nbgrader's "
          f"kernel), nbgrader cell timeout {timeout.group(1) if timeout else '?'} s")
    print(f"class: {len(students)} notebook submissions of {ASSIGNMENT} "
          f"({sum(s.kind == 'correct' for s in students)} correct, {sum(s.kind == 'buggy' for s in students)} "
          f"buggy, 1 empty, {sum(s.kind == 'infinite loop' for s in students)} infinite loop, "
          f"{sum(s.kind == 'attack' for s in students)} attacks)\n")

    load_before = os.getloadavg()[0]
    db = work / "gradebook.db"  # dlgrade first: any warm file cache it leaves helps nbgrader
    dl_seconds, dl_done = run([str(BIN / "dlgrade"), "grade-batch", str(exchange), "-a", ASSIGNMENT,
                               "--jobs", str(jobs), "--db", str(db)], work, env)
    if dl_done.returncode != 0:
        print("dlgrade grade-batch failed:\n" + dl_done.stdout[-3000:] + dl_done.stderr[-3000:])
        return 1
    nb_started = time.time()
    nb_seconds, nb_done = run([str(BIN / "nbgrader"), "autograde", ASSIGNMENT], course, env)
    if nb_done.returncode != 0:
        print("nbgrader autograde failed:\n" + nb_done.stderr[-3000:])
        return 1
    load_after = os.getloadavg()[0]

    nb = nbgrader_scores(course, students)
    nb_times = nbgrader_times(course, students, nb_started)
    dl = dlgrade_scores(db)
    print(f"{'student':8} {'kind':14} {'nbgrader':>8} {'dlgrade':>8}  agree  submission")
    disagreements = []
    for s in students:
        a, b = nb[s.id][0], dl[s.id][0]
        same = abs(a - b) < 1e-6
        if not same:
            disagreements.append(s)
        print(f"{s.id:8} {s.kind:14} {a:8.6g} {b:8.6g}  {'yes' if same else 'NO ':5}  {s.what}")

    honest = [s for s in students if s.honest]
    agree_honest = sum(abs(nb[s.id][0] - dl[s.id][0]) < 1e-6 for s in honest)
    print(f"\nnbgrader autograde:             {nb_seconds:7.1f} s  "
          f"({60 * len(students) / nb_seconds:6.1f} submissions/min)")
    print(f"dlgrade grade-batch --jobs {jobs}:    {dl_seconds:7.1f} s  "
          f"({60 * len(students) / dl_seconds:6.1f} submissions/min)")
    print(f"dlgrade is {nb_seconds / dl_seconds:.1f}x faster (wall time of each command, start to finish; "
          f"1-minute load average {load_before:.1f} before, {load_after:.1f} after, on {os.cpu_count()} cores)")
    for s in students:
        if s.kind == "infinite loop":
            print(f"the infinite loop ({s.id}) took nbgrader {nb_times[s.id]:.1f} s and dlgrade {dl[s.id][3]:.1f} s "
                  f"(the {case_limits} s case limit, then the target fails fast)")
    print(f"per submission, median: nbgrader {statistics.median(nb_times.values()):.2f} s "
          f"(a kernel per notebook, one after another), dlgrade {statistics.median(v[3] for v in dl.values()):.2f} s "
          f"(a forked child each, {jobs} at a time)")
    print(f"scores agree on {agree_honest} of {len(honest)} honest submissions, "
          f"{len(students) - len(disagreements)} of {len(students)} in all")

    for s in disagreements:
        print(f"\n{s.id} ({s.kind}): {s.what}")
        print(f"  nbgrader {nb[s.id][0]:g}, dlgrade {dl[s.id][0]:g}; per target:")
        nb_cells, (_, dl_targets, dl_messages, _) = nb[s.id][1], dl[s.id]
        for target in nb_cells:
            if abs(nb_cells[target] - dl_targets.get(target, 0.0)) > 1e-6:
                why = (dl_messages.get(target) or ["(passed)"])[0]
                print(f"  {target:40} nbgrader {nb_cells[target]:4g}  dlgrade {dl_targets.get(target, 0.0):4g}"
                      f"  dlgrade says: {why[:110]}")
    for s in students:
        if s.same_code_as is None:
            continue
        print(f"\nattack {s.id}: {s.what}; without the attack its code earns "
              f"{nb[s.same_code_as][0]:g} in nbgrader, {dl[s.same_code_as][0]:g} in dlgrade ({s.same_code_as})")
        for tool, scores in (("nbgrader", nb), ("dlgrade", dl)):
            fooled = scores[s.id][0] > scores[s.same_code_as][0] + 1e-6
            print(f"  {tool:8} {scores[s.id][0]:4g} points: {'FOOLED' if fooled else 'not fooled'}")
    return 0 if agree_honest == len(honest) else 1


if __name__ == "__main__":
    sys.exit(main())
