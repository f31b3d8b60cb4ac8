"""Feedback from the gradebook: a report per student (Markdown and HTML) and an instructor summary.

A student sees every case with its points; a visible case also shows its message. A
hidden case shows its name, target, points and passed/failed only — never its message,
which may quote the hidden inputs or expected values. "What to look at" lists the targets
that lost points, biggest loss first, each with the part of the lesson it practises.
The instructor summary shows the score distribution (a PNG, embedded) and the failure
rate of every case and target, worst first, so the concept the class missed stands out.
"""

from __future__ import annotations

import base64
import html
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from grader.classroom.gradebook import GradeRecord, by_student
from grader.classroom.stats import assignment_stats, student_totals
from grader.course import Course
from grader.errors import UserError
from grader.grading.results import HIDDEN_MESSAGE, TestResult

MESSAGE_LIMIT = 2000  # characters of a case message shown in feedback

# The part of week 1's lecture (../shared/seeds) that each target practises.
_LOSS = "Lecture 1 · key components — the loss (손실 함수): "
_BACKPROP = "Lecture 1 · backpropagation / automatic differentiation (역전파, 자동 미분): "
_ACT = "Lecture 1 · neural networks — activation functions (활성화 함수): "
_GD = "Lecture 1 · gradient descent and optimizers (최적화 알고리즘): "
_MLP = "Lecture 1 · multi-layer perceptron (다층 퍼셉트론): "
_GPU = "Lecture 1 · why GPUs — CUDA for deep learning: "

LESSONS: dict[str, dict[str, str]] = {
    "backprop": {
        "linear_regression_grads": _GD + "for ŷ = wx + b and L = 1/N Σ (y − ŷ)², ∂L/∂w = −2/N Σ (y − ŷ)x and ∂L/∂b = −2/N Σ (y − ŷ); mind the sign and the 1/N.",
        "fit_linear_regression": _GD + "w ← w − η ∂L/∂w, starting from w = b = 0; record the loss before each update.",
        "affine": _BACKPROP + "for out = xW + b, dx = dout Wᵀ, dW = xᵀ dout, db = Σ over the batch of dout; each has the shape of what it is the gradient of.",
        "relu": _ACT + "ReLU = max(0, x); its local gradient is 1 where x > 0 and 0 elsewhere (0 at x == 0).",
        "sigmoid": _ACT + "σ(x) squashes to (0, 1); dσ/dx = σ(x)(1 − σ(x)) — reuse the forward output in the cache.",
        "tanh": _ACT + "d tanh/dx = 1 − tanh²(x).",
        "softmax_cross_entropy": _LOSS + "classification uses cross-entropy; subtract the row max before exp for stability; the gradient is (softmax − one_hot)/N.",
        "two_layer_net": _BACKPROP + "run the chain rule backwards through affine → ReLU → affine → softmax CE, reusing each layer's backward.",
        "numerical_gradient": _BACKPROP + "central differences (f(x+h) − f(x−h)) / 2h, one coordinate at a time; restore x afterwards.",
    },
    "autodiff": {
        "Value.backward": _BACKPROP + "visit nodes in reverse topological order and accumulate (+=) each local gradient times the output gradient; iterate, do not recurse.",
        "topological_order": _BACKPROP + "every node after all of its inputs: an iterative depth-first search with a visited set.",
        "Value": _BACKPROP + "each operation stores its inputs and its local derivative; backward multiplies by the output's grad (chain rule) and accumulates with +=.",
    },
    "losses": {
        "mse": _LOSS + "regression uses MSE = 1/N Σ_i Σ_d (y − ŷ)²: sum over features, average over the batch N; the gradient is −2/N (y − ŷ).",
        "l1": _LOSS + "L1 = 1/N Σ |y − ŷ|; its gradient is sign(ŷ − y)/N (0 where they are equal).",
        "huber": _LOSS + "Huber is quadratic within δ and linear outside: gradient r inside, δ·sign(r) outside, /N.",
        "softmax": _LOSS + "softmax turns logits into probabilities; subtract the row max first so exp never overflows.",
        "log_softmax": _LOSS + "log_softmax = x − max − log Σ exp(x − max) (log-sum-exp), never log(softmax).",
        "cross_entropy": _LOSS + "classification uses cross-entropy −1/N Σ log p_label; its gradient is (softmax − one_hot)/N.",
        "binary_cross_entropy_with_logits": _LOSS + "BCE from logits: max(z, 0) − z·t + log(1 + e^(−|z|)) stays finite; gradient (σ(z) − t)/N.",
        "gaussian_nll": _LOSS + "maximum likelihood of a Gaussian = minimising (y − μ)²/(2σ²) + ½ log(2πσ²): MSE is MLE with fixed variance.",
    },
    "optimizers": {
        "SGD": _GD + "W ← W − η g (weight decay adds λW to g).",
        "Momentum": _GD + "momentum accumulates a velocity v ← μv + g, then W ← W − ηv (torch's convention).",
        "NAG": _GD + "Nesterov looks ahead: step along g + μv after updating v.",
        "Adagrad": _GD + "Adagrad divides by the root of the running sum of squared gradients.",
        "Adadelta": _GD + "Adadelta keeps running averages of squared gradients and squared updates: no global learning rate needed.",
        "RMSprop": _GD + "RMSprop divides by the root of an exponential average of squared gradients.",
        "Adam": _GD + "Adam = momentum + RMSprop with bias correction (divide by 1 − βᵗ).",
        "AdamW": _GD + "AdamW decouples weight decay: W ← W − ηλW apart from the Adam step.",
        "step_decay": _GD + "the learning-rate schedule: multiply by γ at each milestone fraction of training.",
        "minimize": _GD + "repeat: evaluate f and its gradient, take one optimizer step; keep the start point as row 0.",
    },
    "mlp": {
        "make_mlp": _MLP + "stack Linear + activation per hidden width; the last Linear has no activation (the loss applies softmax).",
        "count_parameters": _MLP + "every weight and bias that requires grad: Σ numel.",
        "train_step": _GD + "zero the gradients, forward, loss, backward, step — in that order.",
        "fit_function": _MLP + "universal approximation (보편성): one wide enough hidden layer can fit any continuous function.",
        "train_classifier": _MLP + "Adam + cross-entropy over mini-batches (SGD's sampling), one history entry per epoch.",
        "accuracy": _MLP + "evaluate in eval mode under no_grad, and put the model back in its previous mode.",
    },
    "cuda_training": {
        "get_device": _GPU + "prefer CUDA, then MPS, then the CPU; refuse a device that is not there.",
        "measure_throughput": _GPU + "GPU work is asynchronous: synchronize before reading the clock.",
    },
}
_DEFAULT_LESSON = {
    "backprop": _BACKPROP + "the chain rule, one layer at a time.",
    "autodiff": LESSONS["autodiff"]["Value"],
    "losses": _LOSS + "the loss quantifies the badness of the model; average over the batch N.",
    "optimizers": _GD + "the algorithm that adjusts the parameters to minimise the loss.",
    "mlp": _MLP + "layers of linear maps and nonlinearities.",
    "cuda_training": _GPU + "move the model and every batch to the same device; autocast for AMP.",
}


def lesson_for(assignment: str, target: str) -> str:
    """The lesson pointer of a target: exact name, then its stem (mse_grad → mse), then a default."""
    table = LESSONS.get(assignment, {})
    stem = re.sub(r"_(grad|forward|backward)$", "", target)
    for key in (target, stem, target.split(".")[0]):
        if key in table:
            return table[key]
    return _DEFAULT_LESSON.get(assignment, "")


# ---------------------------------------------------------------- what a student sees


@dataclass(frozen=True)
class TargetLoss:
    target: str
    lost: float
    max_points: float
    failed: int
    cases: int


def targets_to_review(tests: Sequence[TestResult]) -> list[TargetLoss]:
    """Targets that lost points, biggest loss first (skipped cases lose nothing)."""
    groups: dict[str, list[TestResult]] = {}
    for t in tests:
        if t.status != "skipped":
            groups.setdefault(t.target, []).append(t)
    losses = [TargetLoss(target, round(sum(t.max_points - t.points for t in ts), 6),
                         sum(t.max_points for t in ts), sum(t.status == "failed" for t in ts), len(ts))
              for target, ts in groups.items()]
    return sorted((x for x in losses if x.lost > 1e-9), key=lambda x: (-x.lost, x.target))


def shown_message(test: TestResult) -> str | None:
    """What the student may read of a case's message (TestResult.student_message), cut short."""
    msg = test.student_message
    if msg is None:
        return None
    return msg if len(msg) <= MESSAGE_LIMIT else msg[:MESSAGE_LIMIT] + " …(cut)"


def _late_line(rec: GradeRecord, course: Course | None) -> str:
    due = course.due_date(rec.assignment) if course else None
    when = f"submitted {rec.submitted_at or '?'}" + (f", due {due.isoformat()}" if due else "")
    if rec.late_days <= 0:
        return f"{when}: on time"
    return (f"{when}: {rec.late_days} day{'s' if rec.late_days != 1 else ''} late, "
            f"−{rec.penalty_percent:g} % = −{rec.penalty:g} points")


def _score_line(rec: GradeRecord) -> str:
    if rec.penalty:
        return f"{rec.score:g} / {rec.max_score:g} ({rec.raw_score:g} before the late penalty)"
    return f"{rec.score:g} / {rec.max_score:g}"


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _fence(text: str) -> str:
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text}\n{fence}"


def student_markdown(student: str, records: Sequence[GradeRecord], course: Course | None = None) -> str:
    title = course.name if course else "dlgrade"
    total = sum(r.score for r in records)
    top = sum(r.max_score for r in records)
    out = [f"# Feedback for {student} — {title}", "",
           f"Total: **{total:g} / {top:g}** over {len(records)} assignment(s).", ""]
    for rec in records:
        out += [f"## {rec.assignment}: {_score_line(rec)}", "", f"- {_late_line(rec, course)}"]
        out += [f"- note: {n}" for n in rec.report.notes]
        out += ["", "| case | target | points | result | visibility |", "|---|---|---|---|---|"]
        for t in rec.report.tests:
            out.append(f"| {_md_cell(t.name)} | `{_md_cell(t.target)}` | {t.points:g} / {t.max_points:g} "
                       f"| {t.status} | {t.visibility} |")
        messages = [(t, shown_message(t)) for t in rec.report.tests if t.status != "passed"]
        shown = [(t, m) for t, m in messages if m]
        if shown:
            out += ["", "### Messages"]
            for t, m in shown:
                out += ["", f"**{t.name}** (`{t.target}`, {t.status}):", "", _fence(m)]
        if any(m is None for _, m in messages):
            out += ["", "_Hidden cases show only whether they passed; their inputs stay hidden._"]
        review = targets_to_review(rec.report.tests)
        out += ["", "### What to look at"]
        if not review:
            out.append("Nothing: every case passed.")
        for x in review:
            out.append(f"- `{x.target}`: lost {x.lost:g} of {x.max_points:g} points "
                       f"({x.failed} of {x.cases} cases failed). "
                       f"{lesson_for(rec.assignment, x.target)}")
        out.append("")
    return "\n".join(out)


_CSS = """
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse;margin:.5rem 0 1rem}
th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f3f3} td.num{text-align:right}
.passed{color:#176f2c}.failed{color:#b00020}.skipped{color:#7a6000}
pre{background:#f7f7f7;padding:.5rem;white-space:pre-wrap;overflow-wrap:anywhere}
.bar{display:inline-block;height:.8rem;background:#c0392b}
.muted{color:#666}
"""


def _page(title: str, body: list[str]) -> str:
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title><style>{_CSS}</style></head>\n<body>\n"
            + "\n".join(body) + "\n</body></html>\n")


def student_html(student: str, records: Sequence[GradeRecord], course: Course | None = None) -> str:
    e = html.escape
    title = course.name if course else "dlgrade"
    total = sum(r.score for r in records)
    top = sum(r.max_score for r in records)
    body = [f"<h1>Feedback for {e(student)} — {e(title)}</h1>",
            f"<p>Total: <b>{total:g} / {top:g}</b> over {len(records)} assignment(s).</p>"]
    for rec in records:
        body.append(f"<h2>{e(rec.assignment)}: {e(_score_line(rec))}</h2>")
        items = [_late_line(rec, course)] + [f"note: {n}" for n in rec.report.notes]
        body.append("<ul>" + "".join(f"<li>{e(i)}</li>" for i in items) + "</ul>")
        body.append("<table><tr><th>case</th><th>target</th><th>points</th><th>result</th>"
                    "<th>message</th></tr>")
        for t in rec.report.tests:
            msg = shown_message(t)
            cell = (f"<pre>{e(msg)}</pre>" if msg else "") if msg is not None else \
                f'<span class="muted">{HIDDEN_MESSAGE}</span>'
            body.append(f"<tr><td>{e(t.name)}</td><td><code>{e(t.target)}</code></td>"
                        f"<td class=\"num\">{t.points:g} / {t.max_points:g}</td>"
                        f"<td class=\"{e(t.status)}\">{e(t.status)}</td><td>{cell}</td></tr>")
        body.append("</table><h3>What to look at</h3>")
        review = targets_to_review(rec.report.tests)
        if not review:
            body.append("<p>Nothing: every case passed.</p>")
        else:
            body.append("<ul>" + "".join(
                f"<li><code>{e(x.target)}</code>: lost {x.lost:g} of {x.max_points:g} points "
                f"({x.failed} of {x.cases} cases failed). {e(lesson_for(rec.assignment, x.target))}</li>"
                for x in review) + "</ul>")
    return _page(f"Feedback for {student}", body)


# ---------------------------------------------------------------- what the instructor sees


@dataclass(frozen=True)
class FailureRate:
    assignment: str
    name: str  # a case name, or the target itself for per-target rates
    target: str
    visibility: str
    failed: int
    total: int
    points_lost: float

    @property
    def rate(self) -> float:
        return self.failed / self.total if self.total else 0.0


def case_failure_rates(records: Sequence[GradeRecord]) -> list[FailureRate]:
    """Every case's failure rate over the class, worst first."""
    acc: dict[tuple[str, str], list[TestResult]] = {}
    for rec in records:
        for t in rec.report.tests:
            if t.status != "skipped":
                acc.setdefault((rec.assignment, t.name), []).append(t)
    rates = [FailureRate(a, name, ts[0].target, ts[0].visibility,
                         sum(t.status == "failed" for t in ts), len(ts),
                         round(sum(t.max_points - t.points for t in ts), 6))
             for (a, name), ts in acc.items()]
    return sorted(rates, key=lambda r: (-r.rate, -r.points_lost, r.assignment, r.name))


def target_failure_rates(records: Sequence[GradeRecord]) -> list[FailureRate]:
    """Per target (the concept): the share of students who failed at least one of its cases."""
    acc: dict[tuple[str, str], dict[str, bool]] = {}
    lost: dict[tuple[str, str], float] = {}
    for rec in records:
        for t in rec.report.tests:
            if t.status == "skipped":
                continue
            key = (rec.assignment, t.target)
            failed = acc.setdefault(key, {})
            failed[rec.student] = failed.get(rec.student, False) or t.status == "failed"
            lost[key] = lost.get(key, 0.0) + t.max_points - t.points
    rates = [FailureRate(a, target, target, "", sum(f.values()), len(f), round(lost[(a, target)], 6))
             for (a, target), f in acc.items()]
    return sorted(rates, key=lambda r: (-r.rate, -r.points_lost, r.assignment, r.name))


def score_distribution_png(records: Sequence[GradeRecord]) -> bytes:
    """Histograms of the final scores: one panel per assignment and one of the totals."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    stats = assignment_stats(records)
    totals, top = student_totals(records)
    panels = [(s.assignment, [r.score for r in records if r.assignment == s.assignment], s.max_score)
              for s in stats] + [("total", list(totals.values()), top)]
    fig = Figure(figsize=(3.2 * len(panels), 2.8), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    for i, (name, scores, high) in enumerate(panels, start=1):
        ax = fig.add_subplot(1, len(panels), i)
        ax.hist(scores, bins=10, range=(0, high or 1), color="#4878a8", edgecolor="white")
        ax.set_title(f"{name} (n={len(scores)})")
        ax.set_xlabel(f"score / {high:g}")
        ax.yaxis.get_major_locator().set_params(integer=True)
    ax0 = fig.axes[0]
    ax0.set_ylabel("students")
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def _rate_rows(rates: Sequence[FailureRate], with_case: bool) -> list[str]:
    e = html.escape
    rows = []
    for r in rates:
        bar = f'<span class="bar" style="width:{round(100 * r.rate)}px"></span>'
        lesson = "" if with_case else f"<td>{e(lesson_for(r.assignment, r.target))}</td>"
        case = f"<td>{e(r.name)}</td><td>{e(r.visibility)}</td>" if with_case else ""
        rows.append(f"<tr><td>{e(r.assignment)}</td>{case}<td><code>{e(r.target)}</code></td>"
                    f"<td class=\"num\">{r.failed}/{r.total}</td><td class=\"num\">{100 * r.rate:.0f} %</td>"
                    f"<td>{bar}</td><td class=\"num\">{r.points_lost:g}</td>{lesson}</tr>")
    return rows


def summary_html(records: Sequence[GradeRecord], course: Course | None = None,
                 student_pages: str | None = "students") -> str:
    e = html.escape
    title = course.name if course else "dlgrade"
    totals, top = student_totals(records)
    png = base64.b64encode(score_distribution_png(records)).decode() if records else ""
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    body = [f"<h1>Instructor summary — {e(title)}</h1>",
            f"<p class=\"muted\">{len(totals)} students, {len(records)} graded submissions; "
            f"generated {e(now)}. Scores are final (after late penalties).</p>",
            "<h2>Per assignment</h2><table><tr><th>assignment</th><th>n</th><th>mean</th>"
            "<th>median</th><th>min</th><th>max</th><th>fully correct</th><th>late</th></tr>"]
    for s in assignment_stats(records):
        body.append(f"<tr><td>{e(s.assignment)}</td><td class=\"num\">{s.n}</td>"
                    + "".join(f"<td class=\"num\">{v:.1f}</td>" for v in (s.mean, s.median, s.min, s.max))
                    + f"<td class=\"num\">{s.fully_correct}/{s.n}</td><td class=\"num\">{s.late}</td></tr>")
    body.append("</table><h2>Score distribution</h2>")
    if png:
        body.append(f'<img alt="histograms of the final scores" src="data:image/png;base64,{png}">')
    head = "<tr><th>assignment</th>{}<th>target</th><th>failed</th><th>rate</th><th></th><th>points lost</th>{}</tr>"
    body += ["<h2>Which concepts the class missed (per target, worst first)</h2>",
             "<p class=\"muted\">failed: students who failed at least one case of the target.</p>",
             "<table>" + head.format("", "<th>lesson</th>")]
    body += _rate_rows(target_failure_rates(records), with_case=False)
    body += ["</table><h2>Per case (worst first)</h2>",
             "<table>" + head.format("<th>case</th><th>visibility</th>", "")]
    body += _rate_rows(case_failure_rates(records), with_case=True)
    body.append("</table><h2>Students</h2><table><tr><th>student</th>"
                + "".join(f"<th>{e(s.assignment)}</th>" for s in assignment_stats(records))
                + f"<th>total / {top:g}</th><th>late</th></tr>")
    names = [s.assignment for s in assignment_stats(records)]
    grouped = by_student(records)
    for student, total in totals.items():
        recs = grouped[student]
        link = (f'<a href="{e(student_pages)}/{e(student)}.html">{e(student)}</a>'
                if student_pages else e(student))
        cells = "".join(f"<td class=\"num\">{recs[a].score:g}</td>" if a in recs else "<td>—</td>"
                        for a in names)
        late = ", ".join(f"{a}: {r.late_days} d" for a, r in recs.items() if r.late_days > 0)
        body.append(f"<tr><td>{link}</td>{cells}<td class=\"num\">{total:g}</td><td>{e(late)}</td></tr>")
    body.append("</table>")
    return _page(f"Instructor summary — {title}", body)


@dataclass(frozen=True)
class FeedbackFiles:
    summary: Path
    students: list[Path]  # a Markdown and an HTML page per student

    @property
    def student_count(self) -> int:
        return len({p.stem for p in self.students})


def write_feedback(records: Sequence[GradeRecord], out_dir: Path,
                   course: Course | None = None) -> FeedbackFiles:
    """`out_dir/students/<id>.md` and `.html` for each student, and `out_dir/summary.html`."""
    if out_dir.exists() and not out_dir.is_dir():
        raise UserError(f"--feedback-dir {out_dir} is a file, not a folder")
    students_dir = out_dir / "students"
    students_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for student, recs in ((s, list(rs.values())) for s, rs in by_student(records).items()):
        md = students_dir / f"{student}.md"
        md.write_text(student_markdown(student, recs, course), encoding="utf-8")
        page = students_dir / f"{student}.html"
        page.write_text(student_html(student, recs, course), encoding="utf-8")
        written += [md, page]
    summary = out_dir / "summary.html"
    summary.write_text(summary_html(records, course), encoding="utf-8")
    return FeedbackFiles(summary=summary, students=written)
