"""dlgrade's command line: parses, calls grader/, prints with Rich. No logic of its own.

Heavy modules (torch, the grading engine) are imported inside the commands that need
them, so `dlgrade --help` and `dlgrade quiz` start fast.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table
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
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)


class _OneLineErrors(TyperGroup):
    """Bad flags and arguments get one line and exit 2, like every other user error."""

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        try:
            code = super().main(*args, standalone_mode=False, **kwargs)
        except click.exceptions.NoArgsIsHelpError as exc:
            click.echo(exc.ctx.get_help() if exc.ctx else exc.format_message())
            sys.exit(0)
        except click.ClickException as exc:
            where = f" (see: {exc.ctx.command_path} --help)" if getattr(exc, "ctx", None) else ""
            _print_error(exc.format_message() + where)
            sys.exit(exc.exit_code)
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
        sys.exit(code if isinstance(code, int) else 0)


def _quiet_broken_pipe() -> None:
    """`dlgrade ... | head` closed our stdout: stop quietly, as other Unix tools do."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())  # Python's final flush must not raise again
    sys.exit(141)  # 128 + SIGPIPE, what a shell reports for a tool killed by the pipe


app = typer.Typer(
    cls=_OneLineErrors,
    name="dlgrade",
    help="Auto-graded assignments and concept quizzes for a deep learning basics course.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)

F = TypeVar("F", bound=Callable[..., Any])


def fail(message: str) -> typer.Exit:
    """Print one clear line and return the exit (code 2) for the caller to raise."""
    _print_error(message)
    return typer.Exit(2)


def user_errors(func: F) -> F:
    """Turn the errors a user can cause into one line and exit code 2, not a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except UserError as exc:
            raise fail(str(exc)) from None
        except FileNotFoundError as exc:
            raise fail(f"no such file: {exc.filename or exc}") from None

    return wrapper  # type: ignore[return-value]


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
@user_errors
def list_assignments() -> None:
    """List the six assignments."""
    from grader.catalog import ASSIGNMENTS

    table = Table(title="dlgrade assignments")
    for col in ("#", "name", "title", "topic", "file", "stub"):
        table.add_column(col)
    for a in ASSIGNMENTS:
        status = a.stub_status()
        style = "green" if status == "ready" else "yellow"
        table.add_row(str(a.number), a.name, a.title, a.topic, f"assignments/{a.filename}",
                      f"[{style}]{status}[/]")
    console.print(table)


# ---------------------------------------------------------------- plots (issue 3)

plot_app = typer.Typer(help="Draw the course's figures (PNG files).", no_args_is_help=True)
app.add_typer(plot_app, name="plot")


@plot_app.command("optimizers")
@user_errors
def plot_optimizers(
    file: Annotated[
        str | None,
        typer.Option("--file", help="Your optimizers.py to plot (default: the reference solution)."),
    ] = None,
    out: Annotated[str, typer.Option("--out", help="Where to write the PNG.")] = "paths.png",
) -> None:
    """Draw each optimizer's path on the Rosenbrock function."""
    from grader.plot import plot_optimizers as draw_paths

    paths, source = draw_paths(Path(file) if file is not None else None, Path(out))
    table = Table(title=f"Optimizer paths on Rosenbrock ({source})")
    for col in ("optimizer", "settings", "status", "end point", "f(end)"):
        table.add_column(col)
    for p in paths:
        settings = ", ".join(f"{k}={v:g}" for k, v in p.settings.items())
        end = f"({p.path[-1][0]:.3f}, {p.path[-1][1]:.3f})" if len(p.path) else "-"
        loss = f"{p.final_loss:.3g}" if p.final_loss is not None else "-"
        style = "green" if p.status == "ok" else "yellow"
        table.add_row(p.name, settings, f"[{style}]{p.status}[/]", end, loss)
    console.print(table)
    console.print(f"wrote {out}")

# ---------------------------------------------------------------- grading (issue 4)



@contextlib.contextmanager
def _sandbox_errors() -> Iterator[None]:
    """A sandbox that cannot start is this machine's problem: one line, and where to look."""
    from grader.sandbox.pool import SandboxError

    try:
        yield
    except SandboxError as exc:
        raise UserError(f"{exc} (see dlgrade doctor)") from None


@app.command("check")
@user_errors
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
    from grader.grading import Grader
    from grader.report import render
    from grader.submission import assignment_and_file

    assignment, file = assignment_and_file(assignment, path, file)
    spec = get_assignment(assignment)
    with _sandbox_errors(), Grader(visibility="public") as grader:
        report = grader.grade_file(file or spec.stub_path, spec.name)
    render(report, console)
    if any(t.status == "failed" for t in report.tests):
        raise typer.Exit(1)


@app.command("grade")
@user_errors
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

    from grader.grading import grade_path
    from grader.report import render, to_json

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
@user_errors
def release_cmd(
    out: Annotated[Path, typer.Argument(help="The folder to create (must not exist, or be empty).")],
) -> None:
    """Build the student bundle: no reference/, no hidden specs, public expected outputs."""
    from grader.release import make_release

    summary = make_release(out)
    console.print(f"release written to [bold]{summary.out}[/]: {summary.files} files, public "
                  f"expected outputs for {', '.join(summary.expected) or 'no assignment'}")
    for note in summary.notes:
        console.print(f"[yellow]note:[/] {note}", highlight=False)


@app.command("build-expected")
@user_errors
def build_expected_cmd() -> None:
    """Rebuild grader/expected/*.json (public expected outputs) from reference/."""
    from grader.release import build_expected

    for path in build_expected():
        console.print(f"wrote {path}")


@app.command("doctor")
@user_errors
def doctor_cmd() -> None:
    """Versions, CUDA, bwrap, and which sandbox layers are active here."""
    from grader.doctor import diagnose, render

    render(diagnose(), console)


# ---------------------------------------------------------------- class scale (issue 5)


CourseOpt = Annotated[Path | None, typer.Option(
    "--course", help="Course config (default: ./course.toml when there is one).")]
WeakSandboxOpt = Annotated[bool, typer.Option(
    "--allow-weak-sandbox", help="Grade a class even without bwrap (see dlgrade doctor for what is lost).")]


GradebookOpt = Annotated[Path, typer.Option("--db", help="The SQLite gradebook.")]


@app.command("submit")
@user_errors
def submit_cmd(
    assignment: Annotated[str, typer.Argument(
        help="Assignment name, e.g. losses; or the file itself, e.g. losses.py.")],
    student: Annotated[str, typer.Option("--student", help="Your student id (A-Z a-z 0-9 . _ -).")],
    path: Annotated[Path | None, typer.Argument(
        help="The file to hand in (default: assignments/<A>.py, else ./<A>.py).", metavar="FILE",
        show_default=False)] = None,
    file: Annotated[Path | None, typer.Option(
        "--file", "-f", help="The file to hand in, as an option.")] = None,
    exchange: Annotated[Path | None, typer.Option(
        "--exchange", help="Exchange folder (default: the course config's, else ./submissions).")] = None,
    course: CourseOpt = None,
) -> None:
    """Hand in an assignment: copy it into the exchange folder with a manifest."""
    from grader.course import DEFAULT_EXCHANGE, find_course
    from grader.late import assess
    from grader.submission import assignment_and_file
    from grader.submit import default_file, submit

    assignment, file = assignment_and_file(assignment, path, file)
    cfg = find_course(course)
    folder = exchange or (cfg.exchange_dir if cfg else DEFAULT_EXCHANGE)
    done = submit(assignment, student, file or default_file(assignment), folder)
    console.print(f"submitted [bold]{assignment}[/] for [bold]{student}[/]: {done.path} "
                  f"(sha256 {done.entry['sha256'][:12]}…, {done.entry['submitted_at']})")
    if done.previous is not None:
        console.print(f"the earlier submission is kept as {done.previous}")
    due = cfg.due_date(assignment) if cfg else None
    if cfg is not None and due is not None:
        late = assess(100.0, done.submitted_at, due, cfg.late_policy)
        console.print(f"due {due.isoformat()}: " + (
            f"[yellow]{late.days} day(s) late[/] (−{late.percent:g} % under the late policy)"
            if late.late else "on time"))


def _grade_class(directory: Path, *, db: Path, assignments: list[str] | None,
                 jobs: int | None, feedback_dir: Path | None, force: bool,
                 course: Any, wait: float, allow_weak_sandbox: bool = False) -> None:
    from grader.batch import RichProgress, grade_class, summary_renderables

    try:
        result = grade_class(directory, db=db, assignments=assignments, jobs=jobs,
                             feedback_dir=feedback_dir, force=force, course=course,
                             progress=RichProgress(console), lock_wait=wait,
                             allow_weak_sandbox=allow_weak_sandbox)
    except KeyboardInterrupt:
        err_console.print(f"interrupted: what was graded is in {db}; rerun to grade the rest")
        raise typer.Exit(130) from None
    batch = result.batch
    console.print(f"graded {len(batch.graded) - len(batch.errors)}, skipped {len(batch.skipped)} "
                  f"(already graded) in {batch.seconds:.1f} s ({batch.per_minute:.0f}/min)")
    console.print(f"gradebook: {db}", soft_wrap=True)
    for renderable in summary_renderables(result.records):
        console.print(renderable)
    if result.feedback is not None:
        console.print(f"feedback for {len(result.feedback.students) // 2} students: "
                      f"{result.feedback.summary.parent / 'students'}", soft_wrap=True)
        console.print(f"instructor summary: {result.feedback.summary}", soft_wrap=True)
    if batch.errors:
        for o in batch.errors:
            err_console.print(f"[red]grader error[/] on {o.submission.path}: {o.error}", highlight=False)
        err_console.print(f"{len(batch.errors)} submission(s) could not be graded; rerun to retry them")
        raise typer.Exit(1)


@app.command("grade-batch")
@user_errors
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
    allow_weak_sandbox: WeakSandboxOpt = False,
) -> None:
    """Grade a whole class in parallel into the gradebook; print a summary."""
    from grader.course import find_course

    _grade_class(directory, db=db, assignments=assignment, jobs=jobs, feedback_dir=feedback_dir,
                 force=force, course=find_course(course), wait=wait,
                 allow_weak_sandbox=allow_weak_sandbox)


@app.command("demo")
@user_errors
def demo_cmd(
    out: Annotated[Path, typer.Option("--out", help="Where the gradebook and feedback go.")] = Path("demo-out"),
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", help="Parallel graders (default: CPU cores).")] = None,
) -> None:
    """Grade the bundled example class (examples/) into demo-out/."""
    from grader.catalog import ROOT
    from grader.course import load_course

    examples = ROOT / "examples"
    out.mkdir(parents=True, exist_ok=True)
    _grade_class(examples / "submissions", db=out / "gradebook.db", assignments=None, jobs=jobs,
                 feedback_dir=out / "feedback", force=True,
                 course=load_course(examples / "course.toml"), wait=0.0,
                 allow_weak_sandbox=True)  # the bundled examples, not a class's code


gradebook_app = typer.Typer(help="The SQLite gradebook: show and export grades.",
                            no_args_is_help=True, rich_markup_mode="rich")
app.add_typer(gradebook_app, name="gradebook")


@gradebook_app.command("show")
@user_errors
def gradebook_show(
    student: Annotated[str | None, typer.Option("--student", help="One student's cases in detail.")] = None,
    db: GradebookOpt = Path("gradebook.db"),
) -> None:
    """Current grades: a row per student, or one student's cases."""
    from grader.batch import summary_renderables
    from grader.gradebook import Gradebook

    with Gradebook(db, create=False) as gb:
        records = gb.current(students=[student] if student else None)
        names = list(gb.assignments())
    if student is not None:
        if not records:
            raise UserError(f"no student {student!r} in {db}")
        for r in records:
            late = f", {r.late_days} day(s) late −{r.penalty:g}" if r.late_days else ""
            table = Table(title=f"{student} · {r.assignment}: {r.score:g} / {r.max_score:g}{late} "
                                f"(graded {r.graded_at}, sha256 {r.sha256[:12]}…)")
            for col in ("case", "target", "points", "status", "visibility", "message"):
                table.add_column(col, overflow="fold")
            for t in r.report.tests:
                style = {"passed": "green", "failed": "red"}.get(t.status, "yellow")
                table.add_row(t.name, t.target, f"{t.points:g}/{t.max_points:g}",
                              f"[{style}]{t.status}[/]", t.visibility, t.message[:300])
            console.print(table)
        return
    if not records:
        console.print(f"{db}: no grades yet")
        return
    table = Table(title=f"gradebook {db}")
    table.add_column("student")
    for name in names:
        table.add_column(name, justify="right")
    table.add_column("total", justify="right")
    by_student: dict[str, dict[str, Any]] = {}
    for r in records:
        by_student.setdefault(r.student, {})[r.assignment] = r
    for sid, recs in by_student.items():
        cells = [f"{recs[n].score:g}" + (f" [yellow]({recs[n].late_days}d late)[/]" if recs[n].late_days else "")
                 if n in recs else "—" for n in names]
        table.add_row(sid, *cells, f"{sum(r.score for r in recs.values()):g}")
    console.print(table)
    for renderable in summary_renderables(records):
        console.print(renderable)


@gradebook_app.command("export")
@user_errors
def gradebook_export(
    out: Annotated[Path, typer.Argument(
        metavar="OUT", help="A file for csv/json, a folder for gradescope.")],
    fmt: Annotated[str, typer.Option("--format", help="csv, json or gradescope.")] = "csv",
    db: GradebookOpt = Path("gradebook.db"),
) -> None:
    """Export the current grades: CSV (a row per student), JSON, or Gradescope results.json files."""
    from grader.export import export
    from grader.gradebook import Gradebook

    with Gradebook(db, create=False) as gb:
        records = gb.current()
    written = export(records, fmt, out)
    where = out if fmt == "gradescope" else written[0]
    console.print(f"exported {len(records)} graded submissions as {fmt}: {where}"
                  + (f" ({len(written)} results.json files)" if fmt == "gradescope" else ""))


# ---------------------------------------------------------------- quizzes (issue 6)


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
    import os

    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")


def _quiz_session(topic: list[str] | None, tag: list[str] | None, n: int, lang: str,
                  mistakes: bool, exam: bool, seed: int | None, db: Path | None,
                  bank: Path | None) -> None:
    _skip_pydantic_plugin_scan()
    from grader.quiz.session import QuizOptions, run_quiz

    if console.is_terminal:  # line editing for input(), where the platform has it
        import contextlib

        with contextlib.suppress(ImportError):
            import readline  # noqa: F401
    opts = QuizOptions(tuple(topic or ()), tuple(tag or ()), n, lang, mistakes, exam, seed, db, bank)
    run_quiz(opts, console=console, ask=lambda prompt: console.input(prompt))


@quiz_app.callback(invoke_without_command=True)
@user_errors
def quiz(ctx: typer.Context, topic: TopicOpt = None, tag: TagOpt = None, n: NOpt = 10,
         lang: LangOpt = "both", mistakes: MistakesOpt = False, exam: ExamOpt = False,
         seed: SeedOpt = None, db: DbOpt = None, bank: BankOpt = None) -> None:
    """Concept quizzes: due reviews first, then new questions. `?` help, `s` skip, `q` quit."""
    if ctx.invoked_subcommand is None:
        _quiz_session(topic, tag, n, lang, mistakes, exam, seed, db, bank)


@quiz_app.command("run")
@user_errors
def quiz_run(topic: TopicOpt = None, tag: TagOpt = None, n: NOpt = 10, lang: LangOpt = "both",
             mistakes: MistakesOpt = False, exam: ExamOpt = False, seed: SeedOpt = None,
             db: DbOpt = None, bank: BankOpt = None) -> None:
    """Run a quiz session (the same as plain `dlgrade quiz`)."""
    _quiz_session(topic, tag, n, lang, mistakes, exam, seed, db, bank)


@quiz_app.command("stats")
@user_errors
def quiz_stats(db: DbOpt = None) -> None:
    """Accuracy per topic, streak, cards due today, total answers, 30 days of activity."""
    from grader.quiz import stats
    from grader.quiz.scheduler import utc_now
    from grader.quiz.store import ProgressStore

    with ProgressStore.open(db, create=False) as store:
        console.print(stats.render(stats.collect(store, utc_now())))


@quiz_app.command("validate")
@user_errors
def quiz_validate(
    path: Annotated[Path | None, typer.Argument(help="A bank file or folder (default: the bundled bank).")] = None,
) -> None:
    """Check a question bank: OK with the count per topic, or every problem as file:line: id: message."""
    _skip_pydantic_plugin_scan()
    from grader.quiz.bank import check_bank

    bank, problems = check_bank(path)
    if problems:
        for problem in problems:
            console.print(str(problem), highlight=False, markup=False, soft_wrap=True)
        n = len(problems)
        err_console.print(f"[bold red]{n} problem{'s' * (n != 1)}[/] in {len(bank.files)} file(s)")
        raise typer.Exit(1)
    table = Table(show_edge=False, box=None, padding=(0, 2, 0, 0))
    table.add_column("topic")
    table.add_column("questions", justify="right")
    for topic_name, count in sorted(bank.topics().items()):
        table.add_row(topic_name, str(count))
    console.print(f"[bold green]OK[/]: {len(bank.questions)} questions in {len(bank.files)} file(s)")
    console.print(table)


@quiz_app.command("export")
@user_errors
def quiz_export(
    out: Annotated[Path, typer.Argument(help="The file to write.")],
    fmt: Annotated[str, typer.Option("--format", help="gift (Moodle) or csv.")] = "gift",
    lang: LangOpt = "both",
    bank: BankOpt = None,
) -> None:
    """Export the bank as GIFT (Moodle) or CSV (id, topic, type, ko, en, answer)."""
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

# ---------------------------------------------------------------- nbgrader (issue 7)

nbgrader_app = typer.Typer(help="Interoperate with nbgrader (JupyterHub courses).",
                           no_args_is_help=True, rich_markup_mode="rich")
app.add_typer(nbgrader_app, name="nbgrader")


@nbgrader_app.command("export")
@user_errors
def nbgrader_export(
    course_dir: Annotated[str, typer.Argument(help="The nbgrader course folder (created when missing).")],
    assignment: Annotated[list[str] | None, typer.Option(
        "--assignment", "-a", help="Export only this assignment (repeatable; default: all six).")] = None,
) -> None:
    """Write COURSE_DIR/source/<A>/<A>.ipynb per assignment and COURSE_DIR/nbgrader_config.py."""
    from grader.nbgrader_export import export_course

    root = Path(course_dir)
    exported = export_course(root, assignment)
    table = Table(title=f"nbgrader source notebooks in {root}")
    for col in ("assignment", "notebook", "solution cells", "grade cells", "points"):
        table.add_column(col)
    for e in exported:
        table.add_row(e.assignment, str(e.path), str(e.solution_cells), str(e.grade_cells), f"{e.points:g}")
    console.print(table)
    console.print(f"next: cd {root} && nbgrader generate_assignment <assignment>  "
                  "(from the environment where dlgrade is installed)", highlight=False)


if __name__ == "__main__":
    app()
