"""dlgrade's command line: parses, calls grader/, prints with Rich. No logic of its own.

Heavy modules (torch, the grading engine) are imported inside the commands that need
them, so `dlgrade --help` and `dlgrade quiz` start fast.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup

try:  # typer >= 0.2x ships its own copy of click
    from typer import _click as click
except ImportError:  # pragma: no cover - older typer depends on click
    import click  # type: ignore[no-redef]

from grader import __version__
from grader.errors import UserError

console = Console()
err_console = Console(stderr=True)


def _print_error(message: str) -> None:
    # a message is text: `pip install 'dlgrade[dask]'` holds no markup
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)


@contextlib.contextmanager
def _one_line_errors() -> Iterator[None]:
    """Every error a user can cause (bad flags and arguments, a UserError from grader/) is one
    line and exit 2; a defect of dlgrade's own is one line and exit 1. Shared by typer's path
    and the quiz's fast path, so both answer alike."""
    try:
        yield
    except click.exceptions.NoArgsIsHelpError as exc:
        click.echo(exc.ctx.get_help() if exc.ctx else exc.format_message())
        sys.exit(0)
    except typer.Exit as exc:  # outside click's own handling (the quiz's fast path)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        where = f" (see: {exc.ctx.command_path} --help)" if getattr(exc, "ctx", None) else ""
        _print_error(exc.format_message() + where)
        sys.exit(exc.exit_code)
    except UserError as exc:  # what the person at the keyboard can fix
        _print_error(str(exc))
        sys.exit(2)
    except FileNotFoundError as exc:
        _print_error(f"no such file: {exc.filename or exc}")
        sys.exit(2)
    except (typer.Abort, KeyboardInterrupt):
        _print_error("aborted")
        sys.exit(130)
    except BrokenPipeError:
        _quiet_broken_pipe()
    except Exception as exc:  # a defect of dlgrade's own, not of the user's input
        if os.environ.get("DLGRADE_DEBUG"):
            raise
        _print_error(f"internal error: {type(exc).__name__}: {exc} "
                     "(set DLGRADE_DEBUG=1 to see the traceback)")
        sys.exit(1)


class _OneLineErrors(TyperGroup):
    """Errors as `_one_line_errors` says."""

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        with _one_line_errors():
            code = super().main(*args, standalone_mode=False, **kwargs)
        sys.exit(code if isinstance(code, int) else 0)


def _no_value_label_for_flags() -> None:
    """Typer labels every option's value in --help, flags too (`--json <bool>`); a flag takes
    no value, so its label is dropped."""
    from typer.core import TyperOption

    labelled = TyperOption.display_type_rich

    def display_type_rich(self: TyperOption, ctx: Any) -> str | None:
        return None if self.is_flag and self.metavar is None else labelled(self, ctx)

    TyperOption.display_type_rich = display_type_rich  # type: ignore[method-assign]


_no_value_label_for_flags()


def _quiet_broken_pipe() -> None:
    """`dlgrade ... | head` closed our stdout: stop quietly, as other Unix tools do."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())  # Python's final flush must not raise again
    sys.exit(141)  # 128 + SIGPIPE, what a shell reports for a tool killed by the pipe


class _Dlgrade(typer.Typer):
    """`dlgrade quiz [options]`, the one command a learner starts many times a day, runs
    without typer building its parameters (see `_quiz_fast_path` in the quiz block)."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not args and not kwargs and _quiz_fast_path(sys.argv[1:]):
            sys.exit(0)
        return super().__call__(*args, **kwargs)


app = _Dlgrade(
    cls=_OneLineErrors,
    name="dlgrade",
    help="Auto-graded assignments and concept quizzes for a deep learning basics course.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


def _version(value: bool) -> None:
    if value:
        console.print(f"dlgrade {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool | None,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit."),
    ] = None,
) -> None:
    """Auto-graded assignments and concept quizzes for a deep learning basics course."""


# ---------------------------------------------------------------- assignments


@app.command("list")
def list_assignments() -> None:
    """List the six assignments."""
    from grader.catalog import ASSIGNMENTS
    from grader.ui.tables import assignments_table

    console.print(assignments_table(ASSIGNMENTS))


# ---------------------------------------------------------------- plots

plot_app = typer.Typer(help="Draw the course's figures (PNG files).", no_args_is_help=True)
app.add_typer(plot_app, name="plot")


@plot_app.command("optimizers")
def plot_optimizers(
    file: Annotated[
        str | None,
        typer.Option("--file", help="Your optimizers.py to plot (default: the reference solution)."),
    ] = None,
    out: Annotated[str, typer.Option("--out", help="Where to write the PNG.")] = "paths.png",
) -> None:
    """Draw each optimizer's path on the Rosenbrock function."""
    from grader.tools.plot import plot_optimizers as draw_paths
    from grader.ui.tables import optimizer_paths_table

    paths, source = draw_paths(Path(file) if file is not None else None, Path(out))
    console.print(optimizer_paths_table(paths, source))
    console.print(f"wrote {out}")


# ---------------------------------------------------------------- grading


@contextlib.contextmanager
def _sandbox_errors() -> Iterator[None]:
    """A sandbox that cannot start is this machine's problem: one line, and where to look."""
    from grader.sandbox.pool import SandboxError

    try:
        yield
    except SandboxError as exc:
        raise UserError(f"{exc} (see dlgrade doctor)") from None


@app.command("check")
def check_cmd(
    assignment: Annotated[str, typer.Argument(
        help="Assignment name, e.g. losses; or the file itself, e.g. losses.py.")],
    path: Annotated[Path | None, typer.Argument(
        help="The file to check (default: assignments/<A>.py).", metavar="FILE",
        show_default=False)] = None,
    file: Annotated[Path | None, typer.Option(
        "--file", "-f", help="The file to check, as an option.")] = None,
) -> None:
    """Run the public cases of an assignment on your file (exit 1 when a case fails)."""
    from grader.catalog import get_assignment
    from grader.classroom.handin import find_working_copy
    from grader.grading.grader import Grader
    from grader.grading.submission import assignment_and_file
    from grader.ui.report import hidden_points, render_check

    assignment, file = assignment_and_file(assignment, path, file)
    spec = get_assignment(assignment)
    file = find_working_copy(file) if file is not None else spec.stub_path
    with _sandbox_errors(), Grader(cases="visible") as grader:
        report = grader.grade_file(file, spec.name)
        hidden = hidden_points(grader.spec(spec.name).cases)
    render_check(report, console, hidden_points=hidden)
    if any(t.status == "failed" for t in report.tests):
        raise typer.Exit(1)


@app.command("grade")
def grade_cmd(
    path: Annotated[Path, typer.Argument(help="A submission file, or a folder of them.")],
    assignment: Annotated[str | None, typer.Option(
        "--assignment", "-a", help="Assignment (default: from the file name).")] = None,
    student: Annotated[str | None, typer.Option(
        "--student", help="Student id (default: the file's folder for <student>/<A>.py).")] = None,
    as_json: Annotated[bool, typer.Option(
        "--json", help="Print only Gradescope results.json (a list for a folder).")] = False,
    require_cuda: Annotated[bool, typer.Option(
        "--require-cuda", help="Fail instead of skipping the GPU cases without CUDA.")] = False,
    allow_weak_sandbox: WeakSandboxOpt = False,
) -> None:
    """Grade submissions on every case, public and hidden (instructors)."""
    from rich.progress import Progress

    from grader.grading.grader import grade_path
    from grader.interop.gradescope import to_json
    from grader.ui.report import render

    with _sandbox_errors(), Progress(console=err_console, transient=True,
                                     disable=not path.is_dir()) as progress:
        task = progress.add_task("grading", total=None)

        def advance(_report: Any, done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        reports = grade_path(path, assignment, student, on_report=advance, require_cuda=require_cuda,
                             allow_weak_sandbox=allow_weak_sandbox)
    if as_json:
        typer.echo(to_json(reports[0] if path.is_file() else reports))
        return
    for report in reports:
        render(report, console)


@app.command("release")
def release_cmd(
    out: Annotated[Path, typer.Argument(help="The folder to create (must not exist, or be empty).")],
    allow_dirty: Annotated[bool, typer.Option(
        "--allow-dirty", help="Build from the last commit although the kit's files have "
        "uncommitted changes (they are left out).")] = False,
    server: Annotated[str | None, typer.Option(
        "--server", help="The course server's URL, for the kit's README.")] = None,
    course: Annotated[Path | None, typer.Option(
        "--course", help="Course config, for the course name (default: ./course.toml).")] = None,
) -> None:
    """Build the student kit from the last commit: an allow-list, public expected outputs, a student README."""
    from grader.classroom.release import make_release
    from grader.course import find_course

    cfg = find_course(course)
    summary = make_release(out, allow_dirty=allow_dirty, server_url=server,
                           course_name=cfg.name if cfg else "Deep learning basics")
    console.print(f"release written to [bold]{summary.out}[/]: {summary.files} files, public "
                  f"expected outputs for {', '.join(summary.expected) or 'no assignment'}")
    for note in summary.notes:
        console.print(f"[yellow]note:[/] {note}", highlight=False)


@app.command("build-expected")
def build_expected_cmd() -> None:
    """Rebuild grader/specs/expected/*.json (public expected outputs) from reference/."""
    from grader.classroom.release import build_expected

    for path in build_expected():
        console.print(f"wrote {path}")


@app.command("doctor")
def doctor_cmd(
    scheduler: Annotated[str | None, typer.Option(
        "--scheduler", help="Ask every worker of this Dask scheduler (tcp://HOST:8786) instead.")] = None,
) -> None:
    """Versions, CUDA, bwrap, and which sandbox layers are active here (or on each worker)."""
    from grader.tools.doctor import diagnose
    from grader.ui.doctor import render, render_workers

    if scheduler is None:
        render(diagnose(), console)
        return
    from grader.executors import make_executor

    make_executor("dask", scheduler=scheduler)  # one line when the extra is missing
    from grader.executors.dask_executor import cluster_doctor

    render_workers(cluster_doctor(scheduler), console)


# ---------------------------------------------------------------- hand-in and the class


CourseOpt = Annotated[Path | None, typer.Option(
    "--course", help="Course config (default: ./course.toml when there is one).")]
WeakSandboxOpt = Annotated[bool, typer.Option(
    "--allow-weak-sandbox", help="Grade a class even without bwrap, here or on a cluster's workers "
    "(see dlgrade doctor for what is lost).")]


GradebookOpt = Annotated[Path, typer.Option("--db", help="The SQLite gradebook.")]


def _warn_before_hand_in(warnings: list[str], file: Path, yes: bool) -> None:
    """One line per likely mistake (the untouched stub, another assignment); --yes goes on."""
    for warning in warnings:
        err_console.print(f"[yellow]warning:[/] {warning}", highlight=False, soft_wrap=True)
    if warnings and not yes:
        raise UserError(f"{file} not handed in; pass --yes to hand it in anyway")


@app.command("submit")
def submit_cmd(
    assignment: Annotated[str, typer.Argument(
        help="Assignment name, e.g. losses; or the file itself, e.g. losses.py.")],
    path: Annotated[Path | None, typer.Argument(
        help="The file to hand in (default: assignments/<A>.py, else ./<A>.py).", metavar="FILE",
        show_default=False)] = None,
    student: Annotated[str | None, typer.Option(
        "--student", help="Shared-folder courses only: your id; copies into the exchange folder "
        "(the time is not trusted). With a course server, `dlgrade login` instead.")] = None,
    file: Annotated[Path | None, typer.Option(
        "--file", "-f", help="The file to hand in, as an option.")] = None,
    exchange: Annotated[Path | None, typer.Option(
        "--exchange", help="Exchange folder (default: the course config's, else ./submissions).")] = None,
    course: CourseOpt = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Hand it in despite the warnings.")] = False,
) -> None:
    """Hand in an assignment to the course server (after `dlgrade login`), or --student: a local copy."""
    from grader.catalog import get_assignment
    from grader.classroom.handin import (
        default_file,
        find_working_copy,
        submission_warnings,
        submit,
        unchanged_entry,
    )
    from grader.classroom.late import days_and_percent
    from grader.course import DEFAULT_EXCHANGE, show_time
    from grader.grading.submission import assignment_and_file

    assignment, file = assignment_and_file(assignment, path, file)
    get_assignment(assignment)  # a typo is said before anything else
    file = find_working_copy(file) if file is not None else default_file(assignment)
    if student is None:
        _warn_before_hand_in(submission_warnings(assignment, file) if file.is_file() else [], file, yes)
        _submit_to_server(assignment, file)
        return
    cfg = _course(course)
    folder = exchange or (cfg.exchange_dir if cfg else DEFAULT_EXCHANGE)
    with contextlib.suppress(ValueError):
        file = file.relative_to(Path.cwd()) if file.is_absolute() else file
    same = unchanged_entry(assignment, student, file, folder)
    if same is not None:
        when = (cfg.show_time if cfg else show_time)(same.get("submitted_at"))
        console.print(f"{file} is identical to your {assignment} handed in at {when}: nothing changed "
                      "(no new entry, the time stays)", highlight=False)
        return
    _warn_before_hand_in(submission_warnings(assignment, file) if file.is_file() else [], file, yes)
    done = submit(assignment, student, file, folder)
    when = cfg.show_time(done.submitted_at) if cfg else show_time(done.submitted_at)
    console.print(f"submitted [bold]{assignment}[/] for [bold]{student}[/]: {done.path} "
                  f"(sha256 {done.entry['sha256'][:12]}…, {when})")
    if done.previous is not None:
        console.print(f"the earlier submission is kept as {done.previous}")
    console.print("[yellow]note:[/] a local copy: its time is this machine's clock, which grading "
                  "does not trust; the instructor's `dlgrade collect` stamps the hand-in time",
                  highlight=False)
    due = cfg.due_date(assignment) if cfg else None
    if cfg is not None and due is not None:
        days, percent = days_and_percent(done.submitted_at, due, cfg.late_policy)
        console.print(f"due {cfg.show_time(due)}: " + (
            f"[yellow]{days} day(s) late[/] (−{percent:g} % under the late policy)"
            if days else "on time"), highlight=False)


def _course(path: Path | None) -> Any:
    """The course config (or None), its one-line notices said on stderr."""
    from grader.course import find_course

    course = find_course(path)
    for notice in course.notices if course else ():
        err_console.print(f"[yellow]note:[/] {notice}", highlight=False, soft_wrap=True)
    return course


def _grade_class(directory: Path, *, db: Path, assignments: list[str] | None,
                 jobs: int | None, feedback_dir: Path | None, force: bool,
                 course: Any, wait: float, lang: str | None = None, executor: Any = None,
                 allow_weak_sandbox: bool = False) -> None:
    from grader.classroom.batch import grade_class
    from grader.ui.batch import ClusterProgress, RichProgress, show_class_result

    # on a cluster, the bar also shows each worker's rate
    progress = RichProgress(console) if executor is None else ClusterProgress(console)
    try:
        result = grade_class(directory, db=db, assignments=assignments, jobs=jobs,
                             feedback_dir=feedback_dir, force=force, course=course,
                             progress=progress, lock_wait=wait, lang=lang, executor=executor,
                             allow_weak_sandbox=allow_weak_sandbox)
    except KeyboardInterrupt:
        err_console.print(f"interrupted: what was graded is in {db}; rerun to grade the rest")
        raise typer.Exit(130) from None
    finally:
        if executor is not None:
            executor.close()  # idempotent: also when grading never started
    show_class_result(result, db, console, err_console, course=course)
    if result.batch.errors:
        raise typer.Exit(1)


FeedbackLangOpt = Annotated[str | None, typer.Option(
    "--lang", help="Language of the feedback pages: en or ko (default: the course's, else en).")]


@app.command("grade-batch")
def grade_batch_cmd(
    directory: Annotated[Path, typer.Argument(
        metavar="DIR", help="Exchange folder: DIR/<student>/<assignment>.py")],
    assignment: Annotated[list[str] | None, typer.Option(
        "--assignment", "-a", help="Only this assignment (repeatable).")] = None,
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", help="Parallel graders (default: CPU cores).")] = None,
    db: GradebookOpt = Path("gradebook.db"),
    feedback_dir: Annotated[Path | None, typer.Option(
        "--feedback-dir", help="Write per-student feedback and the instructor summary here.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Regrade submissions already graded.")] = False,
    course: CourseOpt = None,
    wait: Annotated[float, typer.Option(
        "--wait", help="Seconds to wait for another batch on the same gradebook (default: refuse).")] = 0.0,
    lang: FeedbackLangOpt = None,
    executor: Annotated[str, typer.Option(
        "--executor", help="local (this machine: --jobs threads) or dask (a Dask cluster: "
        "--scheduler or --cluster).")] = "local",
    scheduler: Annotated[str | None, typer.Option(
        "--scheduler", help="--executor dask: the Dask scheduler, tcp://HOST:8786.")] = None,
    cluster: Annotated[str | None, typer.Option(
        "--cluster", help="--executor dask: start a cluster here, local:N (N workers).")] = None,
    allow_weak_sandbox: WeakSandboxOpt = False,
) -> None:
    """Grade a whole class in parallel into the gradebook; print a summary."""
    from grader.executors import make_executor

    chosen = make_executor(executor, scheduler=scheduler, cluster=cluster,
                           allow_weak=allow_weak_sandbox,
                           warn=lambda m: err_console.print(f"[yellow]warning:[/] {escape(m)}",
                                                            highlight=False, soft_wrap=True))
    _grade_class(directory, db=db, assignments=assignment, jobs=jobs, feedback_dir=feedback_dir,
                 force=force, course=_course(course), wait=wait, lang=lang, executor=chosen,
                 allow_weak_sandbox=allow_weak_sandbox)


@app.command("demo")
def demo_cmd(
    out: Annotated[Path, typer.Option("--out", help="Where the gradebook and feedback go.")] = Path("demo-out"),
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", help="Parallel graders (default: CPU cores).")] = None,
    lang: FeedbackLangOpt = None,
) -> None:
    """Grade the bundled example class (examples/) into demo-out/."""
    from grader.catalog import ROOT
    from grader.sandbox import bwrap

    examples = ROOT / "examples"
    out.mkdir(parents=True, exist_ok=True)
    if not bwrap.status().working:  # said, never silent: the weak mode is the demo's opt-in
        err_console.print("[yellow]note:[/] bwrap does not work here, so the bundled examples are "
                          "graded in the weak sandbox (dlgrade doctor says what is lost); a class "
                          "needs --allow-weak-sandbox for that", highlight=False, soft_wrap=True)
    _grade_class(examples / "submissions", db=out / "gradebook.db", assignments=None, jobs=jobs,
                 feedback_dir=out / "feedback", force=True,
                 course=_course(examples / "course.toml"), wait=0.0, lang=lang,
                 allow_weak_sandbox=True)  # the bundled examples, not a class's code


# ---------------------------------------------------------------- gradebook

gradebook_app = typer.Typer(
    help="The SQLite gradebook: show, adjust (override, extend, excuse, revert), export, feedback.",
    no_args_is_help=True, rich_markup_mode="rich")
app.add_typer(gradebook_app, name="gradebook")
ReasonOpt = Annotated[str, typer.Option("--reason", help="Why (recorded with who and when).")]
ByOpt = Annotated[str | None, typer.Option("--by", help="Who makes the change (default: your login).")]
UndoOpt = Annotated[bool, typer.Option("--undo", help="Revert the latest one of these for the pair instead.")]


@gradebook_app.command("show")
def gradebook_show(
    student: Annotated[str | None, typer.Option("--student", help="One student's cases in detail.")] = None,
    db: GradebookOpt = Path("gradebook.db"),
    course: CourseOpt = None,
) -> None:
    """Current grades (late penalties, adjustments and the roster applied now)."""
    from grader.classroom.standing import final_grades
    from grader.ui.gradebook import class_renderables, student_tables

    cfg = _course(course)
    records = final_grades(db, cfg, students=[student] if student else None)
    if student is not None and not records:
        raise UserError(f"no student {student!r} in {db} (nor on the roster)")
    if not records:
        console.print(f"{db}: no grades yet")
        return
    shown = student_tables(records, cfg) if student else class_renderables(db, records)
    for renderable in shown:
        console.print(renderable)


@gradebook_app.command("override")
def gradebook_override(
    student: Annotated[str, typer.Argument(help="Student id.")],
    assignment: Annotated[str, typer.Argument(help="Assignment name.")],
    points: Annotated[float | None, typer.Argument(help="The points to give (replaces the computed score).")] = None,
    reason: ReasonOpt = "", by: ByOpt = None, undo: UndoOpt = False,
    db: GradebookOpt = Path("gradebook.db"),
) -> None:
    """Set a student's points for an assignment by hand (reversible)."""
    from grader.classroom import adjustments as adj

    if undo:
        done = adj.undo(db, student, assignment, "override", by=by)
    elif points is None:
        raise UserError("give the POINTS (or --undo)")
    else:
        done = adj.override(db, student, assignment, points, reason=reason, by=by)
    _said(done, undo)


@gradebook_app.command("extend")
def gradebook_extend(
    student: Annotated[str, typer.Argument(help="Student id.")],
    assignment: Annotated[str, typer.Argument(help="Assignment name.")],
    until: Annotated[str | None, typer.Option(
        "--until", help="New due time, e.g. 2025-03-20T23:59 (course timezone) or 2025-03-20.")] = None,
    reason: ReasonOpt = "", by: ByOpt = None, undo: UndoOpt = False,
    db: GradebookOpt = Path("gradebook.db"), course: CourseOpt = None,
) -> None:
    """Give one student a later due date for an assignment (reversible)."""
    from grader.classroom import adjustments as adj

    if undo:
        done = adj.undo(db, student, assignment, "extend", by=by)
    elif until is None:
        raise UserError("give the new due time with --until (or --undo)")
    else:
        cfg = _course(course)
        when = adj.parse_when(until, cfg.tz if cfg else adj.timezone.utc)
        done = adj.extend(db, student, assignment, when, reason=reason, by=by)
    _said(done, undo)


@gradebook_app.command("excuse")
def gradebook_excuse(
    student: Annotated[str, typer.Argument(help="Student id.")],
    assignment: Annotated[str, typer.Argument(help="Assignment name.")],
    reason: ReasonOpt = "", by: ByOpt = None, undo: UndoOpt = False,
    db: GradebookOpt = Path("gradebook.db"),
) -> None:
    """Leave an assignment out of a student's total (reversible)."""
    from grader.classroom import adjustments as adj

    done = (adj.undo(db, student, assignment, "excuse", by=by) if undo
            else adj.excuse(db, student, assignment, reason=reason, by=by))
    _said(done, undo)


@gradebook_app.command("revert")
def gradebook_revert(
    adjustment: Annotated[int, typer.Argument(metavar="ID", help="The adjustment's id (see: gradebook adjustments).")],
    by: ByOpt = None, db: GradebookOpt = Path("gradebook.db"),
) -> None:
    """Revert one override, extension or excuse by its id."""
    from grader.classroom.adjustments import revert

    _said(revert(db, adjustment, by=by), True)


@gradebook_app.command("adjustments")
def gradebook_adjustments(
    student: Annotated[str | None, typer.Option("--student", help="Only this student's.")] = None,
    db: GradebookOpt = Path("gradebook.db"),
    course: CourseOpt = None,
) -> None:
    """Every override, extension and excuse: who, when, why, and whether it was reverted."""
    from grader.classroom.adjustments import list_adjustments
    from grader.course import show_time
    from grader.ui.gradebook import adjustments_table

    cfg = _course(course)
    shown = cfg.show_time if cfg else show_time

    rows = list_adjustments(db, student=student)
    if not rows:
        console.print("no adjustments")
        return
    console.print(adjustments_table(db, rows, shown))


def _said(done: Any, reverted: bool) -> None:
    verb = "reverted" if reverted else "recorded"
    console.print(f"{verb} adjustment {done.id}: {done.student} {done.assignment} — {done.describe()} "
                  f"(by {done.reverted_by if reverted else done.made_by})", highlight=False, markup=False)


@gradebook_app.command("export")
def gradebook_export(
    out: Annotated[Path, typer.Argument(
        metavar="OUT", help="A .csv or .json file, or a folder for gradescope.")],
    fmt: Annotated[str | None, typer.Option(
        "--format", help="csv, json, canvas or gradescope (default: from OUT's extension).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite OUT if it exists.")] = False,
    db: GradebookOpt = Path("gradebook.db"),
    course: CourseOpt = None,
) -> None:
    """Export the final grades: CSV, JSON, a Canvas gradebook CSV, or Gradescope results.json files."""
    from grader.classroom.export import export, infer_format
    from grader.classroom.standing import final_grades

    fmt = infer_format(out, fmt)
    cfg = _course(course)
    records = final_grades(db, cfg)
    written = export(records, fmt, out, force=force, course=cfg)
    where = out if fmt == "gradescope" else written[0]
    graded = sum(r.status == "graded" for r in records)
    console.print(f"exported {graded} graded submissions of {len({r.student for r in records})} students "
                  f"as {fmt}: {where}"
                  + (f" ({len(written)} results.json files)" if fmt == "gradescope" else ""), soft_wrap=True)


@gradebook_app.command("feedback")
def gradebook_feedback(
    out: Annotated[Path, typer.Argument(metavar="DIR", help="Folder for the pages (created).")],
    db: GradebookOpt = Path("gradebook.db"),
    course: CourseOpt = None,
    lang: FeedbackLangOpt = None,
) -> None:
    """Write the student pages and the instructor summary from the gradebook, without regrading."""
    from grader.classroom.feedback import write_feedback
    from grader.classroom.gradebook import Gradebook
    from grader.classroom.standing import final_grades

    cfg = _course(course)
    with Gradebook(db, create=False) as gb:
        similarity = gb.similarity_flags()
    files = write_feedback(final_grades(db, cfg), out, cfg, lang=lang, similarity=similarity)
    console.print(f"feedback for {files.student_count} students: {out / 'students'}", soft_wrap=True)
    console.print(f"instructor summary: {files.summary}", soft_wrap=True)


# ---------------------------------------------------------------- quizzes


quiz_app = typer.Typer(
    help="Concept quizzes with spaced repetition (FSRS). Plain `dlgrade quiz` runs a session.",
    invoke_without_command=True,
    no_args_is_help=False,
    rich_markup_mode="rich",
)
app.add_typer(quiz_app, name="quiz")

TopicOpt = Annotated[list[str] | None, typer.Option("--topic", help="Only this topic (repeatable).")]
TagOpt = Annotated[list[str] | None, typer.Option("--tag", help="Only questions with this tag (repeatable).")]
NOpt = Annotated[int, typer.Option("--n", help="Number of questions.")]
LangOpt = Annotated[str, typer.Option("--lang", help="ko, en or both (Korean with English below).")]
MistakesOpt = Annotated[bool, typer.Option("--mistakes", help="Retake what you got wrong last time.")]
ExamOpt = Annotated[bool, typer.Option("--exam", help="A fixed, unscheduled paper with a final score.")]
SeedOpt = Annotated[int | None, typer.Option("--seed", help="Seed of the shuffles and of the exam paper.")]
DbOpt = Annotated[Path | None, typer.Option("--db", help="Progress database (default: $DLGRADE_HOME/quiz.db or the user data folder).")]
BankOpt = Annotated[Path | None, typer.Option("--bank", help="Question bank folder or file (default: the bundled bank).")]


def _skip_pydantic_plugin_scan() -> None:
    """The bank schema uses no pydantic plugins; scanning every installed package's entry
    points for them costs ~20 ms of the quiz's start-up. Only this process is affected."""
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")


def _quiz_session(topic: list[str] | None, tag: list[str] | None, n: int, lang: str,
                  mistakes: bool, exam: bool, seed: int | None, db: Path | None,
                  bank: Path | None) -> None:
    _skip_pydantic_plugin_scan()
    from grader.quiz.session import QuizOptions, run_quiz

    if console.is_terminal:  # line editing for input(), where the platform has it
        with contextlib.suppress(ImportError):
            import readline  # noqa: F401
    opts = QuizOptions(tuple(topic or ()), tuple(tag or ()), n, lang, mistakes, exam, seed, db, bank)
    run_quiz(opts, console=console, ask=lambda prompt: console.input(prompt))


# `dlgrade quiz` parsed by hand, for its start-up: typer builds a pydantic validator for
# every parameter of the invoked command (~0.1-0.3 s). Only the plain shapes are taken here
# (the options above, each `--opt value` or `--opt=value`); anything else (--help, a typo,
# a value that does not parse) goes to typer, which answers it as always. A test checks
# that both parsers read every accepted shape the same way.
_QUIZ_FLAGS = {"--mistakes": "mistakes", "--exam": "exam"}
_QUIZ_VALUES: dict[str, tuple[str, type, bool]] = {
    "--topic": ("topic", str, True), "--tag": ("tag", str, True), "--n": ("n", int, False),
    "--lang": ("lang", str, False), "--seed": ("seed", int, False),
    "--db": ("db", Path, False), "--bank": ("bank", Path, False)}


def _quiz_fast_args(argv: list[str]) -> dict[str, Any] | None:
    """The quiz session's arguments from `argv`, or None when typer should parse it."""
    if argv[:1] != ["quiz"]:
        return None
    rest = argv[2:] if argv[1:2] == ["run"] else argv[1:]
    out: dict[str, Any] = {"topic": None, "tag": None, "n": 10, "lang": "both", "mistakes": False,
                           "exam": False, "seed": None, "db": None, "bank": None}
    i = 0
    while i < len(rest):
        name, eq, value = rest[i].partition("=")
        if name in _QUIZ_FLAGS and not eq:
            out[_QUIZ_FLAGS[name]] = True
            i += 1
            continue
        if name not in _QUIZ_VALUES or (not eq and i + 1 >= len(rest)):
            return None
        if not eq:
            value = rest[i + 1]
        i += 1 if eq else 2
        key, kind, repeatable = _QUIZ_VALUES[name]
        if value.startswith("-") or not value.strip() or (kind is int and not value.isdigit()):
            return None  # typer's own messages for whatever this is
        parsed = kind(value)
        out[key] = [*(out[key] or []), parsed] if repeatable else parsed
    return out


def _quiz_fast_path(argv: list[str]) -> bool:
    """Run `dlgrade quiz` from `argv` if it has a plain shape; False: typer's turn."""
    args = _quiz_fast_args(argv)
    if args is None:
        return False
    with _one_line_errors():
        _quiz_session(**args)
    return True


@quiz_app.callback(invoke_without_command=True)
def quiz(ctx: typer.Context, topic: TopicOpt = None, tag: TagOpt = None, n: NOpt = 10,
         lang: LangOpt = "both", mistakes: MistakesOpt = False, exam: ExamOpt = False,
         seed: SeedOpt = None, db: DbOpt = None, bank: BankOpt = None) -> None:
    """Concept quizzes: due reviews first, then new questions. After a right answer Enter is
    Good, 1-4 rate Again/Hard/Good/Easy; after a wrong one `!` says "I was right".
    `?` help, `s` skip, `u` undo the last answer, `q` quit."""
    if ctx.invoked_subcommand is None:
        _quiz_session(topic, tag, n, lang, mistakes, exam, seed, db, bank)


@quiz_app.command("run")
def quiz_run(topic: TopicOpt = None, tag: TagOpt = None, n: NOpt = 10, lang: LangOpt = "both",
             mistakes: MistakesOpt = False, exam: ExamOpt = False, seed: SeedOpt = None,
             db: DbOpt = None, bank: BankOpt = None) -> None:
    """Run a quiz session (the same as plain `dlgrade quiz`)."""
    _quiz_session(topic, tag, n, lang, mistakes, exam, seed, db, bank)


@quiz_app.command("stats")
def quiz_stats(
    db: DbOpt = None,
    lang: Annotated[str | None, typer.Option("--lang", help="ko, en or both (default: the language of your last session).")] = None,
    plot: Annotated[Path | None, typer.Option("--plot", help="Also draw the stats as a PNG to this file.")] = None,
) -> None:
    """Retention, reviews due in the next 30 days, accuracy per topic, streak, 30 days of activity."""
    from grader.quiz import stats
    from grader.quiz.scheduler import utc_now
    from grader.quiz.store import ProgressStore
    from grader.quiz.text import LANGS

    if lang is not None and lang not in LANGS:
        raise UserError(f"unknown --lang {lang!r} (choose from: {', '.join(LANGS)})")
    if plot is not None and (plot.suffix.lower() != ".png" or not plot.parent.is_dir()):
        raise UserError(f"--plot {plot}: give a .png file in an existing folder")
    with ProgressStore.open(db, create=False) as store:
        lang = lang or store.last_lang() or "both"
        collected = stats.collect(store, utc_now())
    console.print(stats.render(collected, lang))  # type: ignore[arg-type]
    if plot is not None:
        note = stats.plot(collected, plot, lang)  # type: ignore[arg-type]
        console.print(f"wrote {plot}" + (f" ({note})" if note else ""))


@quiz_app.command("leeches")
def quiz_leeches(
    db: DbOpt = None,
    unsuspend: Annotated[list[str] | None, typer.Option("--unsuspend", help="Put this question back into reviews (repeatable).")] = None,
) -> None:
    """Questions you keep forgetting: suspended after `leech_lapses` lapses (quiz.toml)."""
    from grader.quiz.store import ProgressStore
    from grader.ui.quiz import leeches_table

    with ProgressStore.open(db, create=False) as store:
        for qid in unsuspend or ():
            if not store.unsuspend(qid):
                raise UserError(f"{qid!r} is not a suspended leech (see `dlgrade quiz leeches`)")
            console.print(f"{qid}: back in your reviews")
        leeches = store.leeches()
    if not leeches:
        console.print("No leeches: no question has been forgotten after it was learned.")
        return
    console.print(leeches_table(leeches))


@quiz_app.command("disputes")
def quiz_disputes(db: DbOpt = None, bank: BankOpt = None) -> None:
    """Answers marked "I was right" after seeing the key: what was typed, for the bank's maintainers."""
    from grader.quiz.bank import load_bank
    from grader.quiz.store import ProgressStore
    from grader.ui.quiz import disputes_table

    with ProgressStore.open(db, create=False) as store:
        disputes = store.disputes()
    if not disputes:
        console.print("No disputes: no answer was overridden as right.")
        return
    console.print(disputes_table(disputes, load_bank(bank).by_id))


@quiz_app.command("optimize")
def quiz_optimize(
    db: DbOpt = None,
    reset: Annotated[bool, typer.Option("--reset", help="Forget fitted parameters: back to FSRS defaults.")] = False,
) -> None:
    """Fit FSRS parameters to your own review log (needs 512 reviews made a day or more after
    the card's previous one); later sessions schedule with them."""
    import json

    from grader.quiz.store import ProgressStore

    with ProgressStore.open(db, create=False) as store:
        if reset:
            store.set_setting("fsrs_parameters", None)
            console.print("FSRS parameters reset to the defaults")
            return
        from grader.quiz.optimize import fit

        with console.status("fitting FSRS parameters to your review log..."):
            result = fit(store.review_log())
        store.set_setting("fsrs_parameters", json.dumps(result.parameters))
    console.print(f"fitted FSRS parameters to {result.reviews} reviews of {result.cards} cards; "
                  "your next sessions schedule with them (`--reset` to undo)")
    console.print(", ".join(f"{p:.4g}" for p in result.parameters), style="dim")


@quiz_app.command("config")
def quiz_config(
    set_: Annotated[list[str] | None, typer.Option("--set", help="key=value, e.g. desired_retention=0.85 (repeatable).")] = None,
) -> None:
    """Show or change your quiz settings (quiz.toml): desired retention, daily limits, leeches."""
    from dataclasses import asdict, replace

    from grader.quiz.config import (
        LIMITS,
        default_config_path,
        load_settings,
        parse_assignment,
        save_settings,
    )
    from grader.ui.quiz import quiz_settings_table

    path = default_config_path()
    settings = load_settings(path)
    if set_:
        settings = replace(settings, **dict(parse_assignment(a) for a in set_))
        save_settings(settings, path)
        console.print(f"saved {path}")
    console.print(quiz_settings_table(asdict(settings), list(LIMITS)))
    console.print(f"[dim]{path}{'' if path.exists() else ' (not written yet: defaults)'}[/]")


@quiz_app.command("import")
def quiz_import(
    source: Annotated[Path, typer.Argument(help="A CSV file, or Anki's 'Notes in Plain Text' export (.txt).")],
    out: Annotated[Path, typer.Argument(help="The YAML deck to write (use it with --bank).")],
    fmt: Annotated[str | None, typer.Option("--format", help="csv or anki (default: from the file name).")] = None,
    topic: Annotated[str | None, typer.Option("--topic", help="Topic of rows that name none (default: the file's name).")] = None,
    tag: TagOpt = None,
) -> None:
    """Turn a CSV sheet or an Anki export into a quiz deck that validates."""
    _skip_pydantic_plugin_scan()
    from grader.quiz.importer import import_deck

    if out.exists() and out.is_dir():
        raise UserError(f"{out} is a folder; give a .yaml file name")
    if not out.parent.is_dir():
        raise UserError(f"folder {out.parent} does not exist")
    imported = import_deck(source, out, fmt=fmt, topic=topic, tags=tag)
    for why in imported.skipped:
        err_console.print(f"[yellow]skipped[/] {why}", highlight=False)
    console.print(f"wrote {len(imported.questions)} questions to {out}"
                  + (f" ({len(imported.skipped)} rows skipped)" if imported.skipped else "")
                  + f"; try it: dlgrade quiz --bank {out}")


@quiz_app.command("validate")
def quiz_validate(
    path: Annotated[Path | None, typer.Argument(help="A bank file or folder (default: the bundled bank).")] = None,
) -> None:
    """Check a question bank: its format, then guessable or confusing questions (option-length
    skew, count words in 'select all' prompts, units, stray numbers, verdicts, ko/en parity,
    spelling). OK with the count per topic, or every problem as file:line: id: [kind] message."""
    _skip_pydantic_plugin_scan()
    from collections import Counter

    from grader.quiz.bank import audit_bank
    from grader.ui.tables import bank_topics_table

    bank, problems = audit_bank(path)
    if problems:
        for problem in problems:
            console.print(str(problem), highlight=False, markup=False, soft_wrap=True)
        n = len(problems)
        kinds = ", ".join(f"{kind} {count}" for kind, count in Counter(p.kind for p in problems).most_common())
        err_console.print(f"[bold red]{n} problem{'s' * (n != 1)}[/] in {len(bank.files)} file(s): {kinds}")
        raise typer.Exit(1)
    console.print(f"[bold green]OK[/]: {len(bank.questions)} questions in {len(bank.files)} file(s)")
    console.print(bank_topics_table(bank))


@quiz_app.command("export")
def quiz_export(
    out: Annotated[Path, typer.Argument(help="The file to write.")],
    fmt: Annotated[str, typer.Option("--format", help="gift (Moodle) or csv.")] = "gift",
    lang: LangOpt = "both",
    bank: BankOpt = None,
) -> None:
    """Export the bank as GIFT (Moodle) or CSV (prompts, options, key, explanations, tags: re-importable)."""
    from grader.quiz.bank import load_bank
    from grader.quiz.export import FORMATS, export
    from grader.quiz.text import LANGS

    if fmt not in FORMATS:
        raise UserError(f"unknown --format {fmt!r} (choose from: {', '.join(FORMATS)})")
    if lang not in LANGS:
        raise UserError(f"unknown --lang {lang!r} (choose from: {', '.join(LANGS)})")
    if out.is_dir():
        raise UserError(f"{out} is a folder; give a file name")
    if not out.parent.is_dir():
        raise UserError(f"folder {out.parent} does not exist")
    count = export(load_bank(bank).questions, fmt, out, lang)  # type: ignore[arg-type]
    console.print(f"wrote {count} questions to {out} ({fmt})")

# ---------------------------------------------------------------- nbgrader

nbgrader_app = typer.Typer(help="Interoperate with nbgrader (JupyterHub courses).",
                           no_args_is_help=True, rich_markup_mode="rich")
app.add_typer(nbgrader_app, name="nbgrader")


@nbgrader_app.command("export")
def nbgrader_export(
    course_dir: Annotated[str, typer.Argument(help="The nbgrader course folder (created when missing).")],
    assignment: Annotated[list[str] | None, typer.Option(
        "--assignment", "-a", help="Export only this assignment (repeatable; default: all six).")] = None,
    allow_dirty: Annotated[bool, typer.Option(
        "--allow-dirty", help="Export the last commit although its stubs or solutions have "
        "uncommitted changes (they are left out).")] = False,
) -> None:
    """Write COURSE_DIR/source/<A>/<A>.ipynb per assignment and COURSE_DIR/nbgrader_config.py."""
    from grader.interop.nbgrader_export import export_course
    from grader.ui.tables import nbgrader_table

    root = Path(course_dir)
    console.print(nbgrader_table(root, export_course(root, assignment, allow_dirty=allow_dirty)))
    console.print(f"next: cd {root} && nbgrader generate_assignment <assignment>  "
                  "(from the environment where dlgrade is installed)", highlight=False)


# ---------------------------------------------------------------- similar submissions


@app.command("similarity")
def similarity_cmd(
    directory: Annotated[Path, typer.Argument(
        metavar="DIR", help="Exchange folder: DIR/<student>/<assignment>.py or .ipynb")],
    assignment: Annotated[list[str] | None, typer.Option(
        "--assignment", "-a", help="Only this assignment (repeatable).")] = None,
    threshold: Annotated[float | None, typer.Option(
        "--threshold", help="Flag pairs scoring at least this (0-1) instead of the class-based cut-off.")] = None,
    report: Annotated[Path | None, typer.Option(
        "--report", help="Write the HTML report (similarity.html) into this folder.")] = None,
    export: Annotated[Path | None, typer.Option(
        "--export", help="Write the flagged pairs here for Dolos or JPlag (a folder per pair, a CSV).")] = None,
    db: Annotated[Path | None, typer.Option(
        "--db", help="Record the flags in this gradebook (flags only, never a score).")] = Path("gradebook.db"),
    no_db: Annotated[bool, typer.Option("--no-db", help="Do not record the flags in a gradebook.")] = False,
    common_share: Annotated[float, typer.Option(
        "--common-share", help="Code found in more than this share of the class is not evidence.")] = 0.5,
    top: Annotated[int, typer.Option("--top", help="Pairs shown per assignment.")] = 10,
    max_kb: Annotated[int, typer.Option("--max-kb", help="Submissions larger than this are set aside.")] = 512,
) -> None:
    """Find similar submissions (winnowing fingerprints; the stub and common code left out)."""
    try:
        from grader.similarity.detect import Settings
        from grader.similarity.run import run_similarity
        from grader.ui.similarity import renderables
    except ModuleNotFoundError as exc:
        if not (exc.name or "").startswith("copydetect"):
            raise
        raise UserError("dlgrade similarity needs copydetect, the optional extra 'similarity': "
                        "pip install copydetect") from None
    settings = Settings(threshold=threshold, common_share=common_share, max_bytes=max_kb * 1024)
    done = run_similarity(directory, assignment, settings, db=None if no_db else db,
                          report=report, export=export)
    for renderable in renderables(done.results, top=top):
        console.print(renderable)
    flagged = sum(len(r.flagged) + len(r.leaks) for r in done.results)
    console.print(f"{flagged} flag(s) ({sum(len(r.flagged) for r in done.results)} similar pairs, "
                  f"{sum(len(r.leaks) for r in done.results)} reference matches)")
    if done.flags_recorded is not None:
        console.print(f"flags recorded in the gradebook {db} (scores unchanged)", soft_wrap=True)
    if done.report is not None:
        console.print(f"report: {done.report}", soft_wrap=True)
    if done.export is not None:
        console.print(f"export for Dolos/JPlag: {done.export.parent}", soft_wrap=True)
# ---------------------------------------------------------------- the course server

DataOpt = Annotated[Path | None, typer.Option(
    "--data", help="The server's data folder (default: course.toml's [server] data, else ./server-data).")]


def _data_dir(data: Path | None, course: Path | None) -> Path:
    from grader.course import find_course

    if data is not None:
        return data
    cfg = find_course(course)
    return cfg.relative(cfg.server.data) if cfg else Path("server-data")


def _submit_to_server(assignment: str, file: Path) -> None:
    from grader.server import client

    cfg = client.load_config()
    if cfg is None:
        raise UserError("no course server configured, so nothing was handed in: run `dlgrade login "
                        "--server URL` with the token from your instructor, then submit again "
                        "(a shared-folder course: add --student ID)")
    receipt = client.upload(cfg, assignment, file)
    late = receipt["lateness"]
    again = " (already handed in: the same bytes; the earlier receipt)" if receipt["duplicate"] else ""
    console.print(f"handed in [bold]{assignment}[/] as [bold]{receipt['student']}[/]{again}: "
                  f"received {receipt['received_at']} (server time), sha256 {receipt['sha256'][:12]}…",
                  highlight=False)
    style = "yellow" if late["late"] else "green"
    console.print(f"[{style}]{late['summary']}[/]" + (f" (due {late['due']})" if late["due"] else ""),
                  highlight=False)
    if "clock_note" in receipt:
        console.print(f"[yellow]note:[/] {receipt['clock_note']}", highlight=False)
    check = receipt.get("public_check")
    if check is not None and check["status"] == "done":
        failed = f"; failed: {', '.join(check['failed'][:8])}" if check["failed"] else ""
        console.print(f"public cases: score {check['score']:g}/{check['max_score']:g}{failed}",
                      highlight=False)
    elif check is not None:
        console.print(f"[yellow]public cases:[/] {check['message']}", highlight=False)


@app.command("serve")
def serve_cmd(
    course: CourseOpt = None,
    data: DataOpt = None,
    host: Annotated[str | None, typer.Option("--host", help="Bind address (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option("--port", help="Port (default 8000).")] = None,
    certfile: Annotated[Path | None, typer.Option("--certfile", help="TLS certificate (PEM).")] = None,
    keyfile: Annotated[Path | None, typer.Option("--keyfile", help="TLS private key (PEM).")] = None,
    allow_plain_http: Annotated[bool, typer.Option(
        "--allow-plain-http", help="Serve plain HTTP on a non-loopback address (tokens in clear).")] = False,
    allow_weak_sandbox: Annotated[bool, typer.Option(
        "--allow-weak-sandbox", help="Run the public check on hand-in without bwrap.")] = False,
) -> None:
    """Run the course server: hand-ins with server time, receipts, the /instructor dashboard."""
    from grader.course import find_course
    from grader.server.serve import ServeOptions, run

    cfg = find_course(course)
    settings = cfg.server if cfg else None
    opts = ServeOptions(
        data=_data_dir(data, course),
        host=host or (settings.host if settings else "127.0.0.1"),
        port=port if port is not None else (settings.port if settings else 8000),
        certfile=certfile or (cfg.relative(settings.certfile) if cfg and settings and settings.certfile else None),
        keyfile=keyfile or (cfg.relative(settings.keyfile) if cfg and settings and settings.keyfile else None),
        allow_plain_http=allow_plain_http, allow_weak_sandbox=allow_weak_sandbox)
    run(opts, cfg, say=lambda line: console.print(line, highlight=False, soft_wrap=True))


roster_app = typer.Typer(help="The course server's roster: students and their tokens.",
                         no_args_is_help=True, rich_markup_mode="rich")
app.add_typer(roster_app, name="roster")


@roster_app.command("import")
def roster_import(
    csv_file: Annotated[Path, typer.Argument(metavar="ROSTER.CSV", help="id,name,email (a header line).")],
    data: DataOpt = None,
    course: CourseOpt = None,
) -> None:
    """Add students; each new one (and the instructor, the first time) gets a token, written once."""
    from grader.server.roster import import_roster

    folder = _data_dir(data, course)
    done = import_roster(folder, csv_file)
    console.print(f"roster {folder / 'roster.json'}: {len(done.added)} added, {len(done.updated)} "
                  "updated", soft_wrap=True)
    if done.tokens_file is not None:
        console.print(f"new tokens (shown only here; hand each student theirs, then delete the "
                      f"file): [bold]{done.tokens_file}[/]", soft_wrap=True)
    if done.instructor_token_created:
        console.print("the instructor token (id @instructor) is in that file too", highlight=False)


@roster_app.command("rotate")
def roster_rotate(
    student: Annotated[str | None, typer.Argument(metavar="ID", help="The student whose token to replace.")] = None,
    instructor: Annotated[bool, typer.Option("--instructor", help="Replace the instructor token.")] = False,
    data: DataOpt = None,
    course: CourseOpt = None,
) -> None:
    """Replace one token (lost, or shared): the old one stops working at once."""
    from grader.server.roster import INSTRUCTOR, rotate

    if (student is None) == (not instructor):
        raise UserError("give a student ID, or --instructor")
    token_file = rotate(_data_dir(data, course), INSTRUCTOR if instructor else str(student))[1]
    console.print(f"new token written to [bold]{token_file}[/]", soft_wrap=True)


@roster_app.command("list")
def roster_list(data: DataOpt = None, course: CourseOpt = None) -> None:
    """The students on the roster (never their tokens)."""
    from grader.server.roster import roster_summary
    from grader.ui.tables import roster_table

    console.print(roster_table(roster_summary(_data_dir(data, course))))


@app.command("login")
def login_cmd(
    server: Annotated[str, typer.Option("--server", help="The course server, e.g. https://grader.example.edu")],
    token_file: Annotated[Path | None, typer.Option(
        "--token-file", help="Read the token from this file ('-': standard input) instead of a prompt.")] = None,
    cafile: Annotated[Path | None, typer.Option(
        "--cafile", help="A CA certificate to trust for a self-signed server.")] = None,
) -> None:
    """Remember the course server and your token (kept in your config folder, mode 0600)."""
    from grader.server import client

    if token_file is None:
        token = typer.prompt("token from your instructor", hide_input=True)
    elif str(token_file) == "-":
        token = sys.stdin.readline()
    else:
        try:
            token = token_file.read_text(encoding="utf-8")
        except (UnicodeDecodeError, IsADirectoryError, PermissionError) as exc:
            raise UserError(f"cannot read the token from {token_file}: "
                            f"{getattr(exc, 'strerror', None) or 'not UTF-8 text'}") from None
    cfg, path = client.login(server, token, str(cafile.resolve()) if cafile else None)
    console.print(f"logged in to {cfg.server} as [bold]{cfg.student}[/] (saved in {path})",
                  highlight=False, soft_wrap=True)


@app.command("status")
def status_cmd() -> None:
    """Your receipts from the course server: what it has, and when it got it (its clock)."""
    from grader.server import client
    from grader.ui.tables import receipts_table

    data = client.receipts(client.require_config())
    if not data["receipts"]:
        console.print(f"no hand-ins yet for {data['student']} (server time {data['server_time']})")
        return
    console.print(receipts_table(data))


@app.command("feedback")
def feedback_cmd(
    assignment: Annotated[str | None, typer.Argument(help="One assignment (default: all released).")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Also write <A>.md files into this folder.")] = None,
) -> None:
    """Download the feedback your instructor has released."""
    from grader.server import client

    if assignment is not None:
        from grader.catalog import get_assignment

        assignment = get_assignment(assignment).name
    got = client.feedback(client.require_config(), assignment)
    if not got:
        console.print("no feedback released yet")
    for name, text in got.items():
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            (out / f"{name}.md").write_text(text, encoding="utf-8")
            console.print(f"wrote {out / f'{name}.md'}")
        else:
            typer.echo(text)


@app.command("collect")
def collect_cmd(
    exchange: Annotated[Path, typer.Argument(metavar="EXCHANGE", help="The shared folder: EXCHANGE/<student>/<A>.py")],
    data: Annotated[Path, typer.Option("--to", help="The instructor's private data folder.")] = Path("collected"),
    assignment: Annotated[list[str] | None, typer.Option(
        "--assignment", "-a", help="Only this assignment (repeatable).")] = None,
) -> None:
    """Copy hand-ins from a shared folder into a private one, stamped with the collection time."""
    from grader.server.handins import collect

    done = collect(exchange, data, assignment)
    for line in done.refused:
        err_console.print(f"[yellow]refused:[/] {line}", highlight=False, soft_wrap=True)
    console.print(f"collected {len(done.taken)} new hand-in(s) into {data} ({done.unchanged} "
                  f"unchanged, {len(done.refused)} refused); grade them with: dlgrade grade-batch "
                  f"{data}", highlight=False, soft_wrap=True)


if __name__ == "__main__":
    app()
