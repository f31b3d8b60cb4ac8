"""The instructor's dashboard: server-rendered HTML, no script, one inline SVG per picture.

Per assignment: the score distribution, per-case failure rates, submissions the sandbox
flagged (timeouts, blocked actions, crashes and exits, read from the cases' messages),
late hand-ins (by the server's receipts), students who have not handed in, and a link to
each student's feedback, and the similarity check's flags (a reason to look, never a score).
Scores are final grades (grader.classroom.standing): late penalties, extensions, overrides and
excuses applied as of now. Actions: release an assignment's feedback; per student and
assignment, grant an extension, excuse, override the score (each with a reason, recorded
with who and when by grader.classroom.adjustments), and revert any of them.
Every value from a student (ids, names, messages) is escaped.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.catalog import assignment_names
from grader.classroom.adjustments import Adjustment
from grader.classroom.feedback import FailureRate, case_failure_rates, student_html
from grader.classroom.gradebook import SimilarityFlag
from grader.classroom.handin import parse_iso
from grader.classroom.receipts import Receipt, SubmissionStore
from grader.classroom.stats import histogram
from grader.course import Course
from grader.server.checks import lateness
from grader.server.roster import Roster

e = html.escape

# What a case's message says when the sandbox, not a wrong answer, ended it.
SANDBOX_FLAGS = {
    "timeout": re.compile(r"timed out|CPU time limit|stopped responding"),
    "blocked": re.compile(r"dlgrade sandbox: .* not allowed|is not allowed"),
    "crash/exit": re.compile(r"crashed with|was killed|exited with code|could not be started"),
}


@dataclass
class AssignmentView:
    name: str
    due: str | None
    max_score: float
    scores: list[float] = field(default_factory=list)
    failure_rates: list[FailureRate] = field(default_factory=list)
    flagged: list[tuple[str, str, str]] = field(default_factory=list)  # student, flag, case
    late: list[tuple[str, str, str]] = field(default_factory=list)  # student, received, summary
    handed_in: int = 0
    missing: list[str] = field(default_factory=list)
    released: dict[str, str] | None = None
    similar: list[tuple[str, str]] = field(default_factory=list)  # student, what the flag says


@dataclass
class DashboardView:
    course: str
    students: list[tuple[str, str]]  # id, name
    scores: dict[str, dict[str, float]]  # student -> assignment -> score
    assignments: list[AssignmentView]
    gradebook: Path
    graded: int
    marks: dict[str, dict[str, str]] = field(default_factory=dict)  # student -> assignment -> note
    adjustments: list[Adjustment] = field(default_factory=list)
    shown: Any = None  # how a time is shown (the course's zone)


def sandbox_flags(records: Sequence[Any]) -> list[tuple[str, str, str]]:
    out = []
    for rec in records:
        for t in rec.report.tests:
            if t.status != "failed":
                continue
            for flag, pattern in SANDBOX_FLAGS.items():
                if pattern.search(t.message):
                    out.append((rec.student, flag, t.name))
                    break
    return out


def _extensions(adjustments: Sequence[Adjustment]) -> dict[tuple[str, str], str]:
    """(student, assignment) -> the active extension's due time (ISO UTC), the latest winning."""
    out: dict[tuple[str, str], str] = {}
    for a in adjustments:
        if a.kind == "extend" and a.active and a.until:
            out[(a.student, a.assignment)] = a.until
    return out


def _mark(rec: Any) -> str:
    """What the score cell says besides the number: excused, overridden, extended."""
    if rec.status == "excused":
        return "excused"
    notes = []
    if rec.override is not None:
        notes.append("override")
    if any(a.get("kind") == "extend" for a in rec.adjustments):
        notes.append("extended")
    return ", ".join(notes)


def collect_view(course: Course | None, roster: Roster, store: SubmissionStore,
                 records: Sequence[Any], released: dict[str, dict[str, str]],
                 gradebook: Path, adjustments: Sequence[Adjustment] = (),
                 similarity: Sequence[SimilarityFlag] = ()) -> DashboardView:
    """`records` are final grades (grader.classroom.standing), without missing rows."""
    latest: dict[tuple[str, str], Receipt] = store.latest()
    extended = _extensions(adjustments)
    students = [(m.id, m.name) for m in roster.students]
    names = [a for a in assignment_names()
             if (course and course.due_date(a)) or any(k[1] == a for k in latest)
             or any(r.assignment == a for r in records)]
    views = []
    for name in names:
        recs = [r for r in records if r.assignment == name]
        counted = [r for r in recs if r.status != "excused"]
        due = course.due_date(name) if course else None
        view = AssignmentView(name, due.isoformat() if due else None,
                              max((r.max_score for r in recs), default=100.0),
                              scores=[r.score for r in counted],
                              failure_rates=[f for f in case_failure_rates(recs) if f.failed],
                              flagged=sandbox_flags(recs), released=released.get(name))
        for (sid, assignment), receipt in sorted(latest.items()):
            if assignment != name:
                continue
            view.handed_in += 1
            judged = lateness(course, name, receipt.time)
            until = extended.get((sid, name))
            if judged["late"] and until is not None and receipt.time <= parse_iso(until):
                continue  # on time under the student's own extension
            if judged["late"]:
                view.late.append((sid, receipt.received_at, judged["summary"]))
        view.missing = [sid for sid, _ in students if (sid, name) not in latest]
        for f in similarity:
            if f.assignment == name:
                view.similar.append((f.student, f.describe(f.student)))
        views.append(view)
    scores: dict[str, dict[str, float]] = {}
    marks: dict[str, dict[str, str]] = {}
    for r in records:
        scores.setdefault(r.student, {})[r.assignment] = r.score
        if mark := _mark(r):
            marks.setdefault(r.student, {})[r.assignment] = mark
    return DashboardView(course.name if course else "dlgrade course", students, scores, views,
                         gradebook, len(records), marks, list(adjustments),
                         course.show_time if course else None)


# ---------------------------------------------------------------- pictures


def histogram_svg(scores: Sequence[float], top: float, bins: int = 10, width: int = 420,
                  height: int = 160) -> str:
    """Bars of how many students scored in each tenth of the points, as inline SVG."""
    counts = histogram(list(scores), top, bins)
    peak = max((c for *_, c in counts), default=0) or 1
    pad_left, pad_right, pad_bottom = 16, 16, 22
    bar_w = (width - pad_left - pad_right) / len(counts)
    parts = [f'<svg class="histogram" role="img" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">',
             f"<title>score distribution of {len(scores)} submission(s)</title>"]
    usable = height - pad_bottom - 12
    for i, (low, high, count) in enumerate(counts):
        h = usable * count / peak
        x = pad_left + i * bar_w
        y = height - pad_bottom - h
        parts.append(f'<rect class="bar" data-count="{count}" x="{x + 1:.1f}" y="{y:.1f}" '
                     f'width="{bar_w - 2:.1f}" height="{h:.1f}" fill="#2f6db5">'
                     f"<title>{low:g}–{high:g}: {count}</title></rect>")
        if count:
            parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{y - 2:.1f}" font-size="10" '
                         f'text-anchor="middle">{count}</text>')
    for i in range(0, len(counts) + 1, max(1, len(counts) // 5)):
        x = pad_left + i * bar_w
        parts.append(f'<text x="{x:.1f}" y="{height - 6}" font-size="10" text-anchor="middle">'
                     f"{top * i / len(counts):g}</text>")
    parts.append(f'<line x1="{pad_left}" y1="{height - pad_bottom}" x2="{width - pad_right}" '
                 f'y2="{height - pad_bottom}" stroke="#444"/>')
    parts.append("</svg>")
    return "".join(parts)


# ---------------------------------------------------------------- pages

_CSS = """
body{font-family:system-ui,sans-serif;max-width:72rem;margin:1.5rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse;margin:.4rem 0 1rem}
th,td{border:1px solid #ccc;padding:.2rem .45rem;text-align:left;vertical-align:top;font-size:.9rem}
th{background:#f3f3f3} td.num{text-align:right}
section.assignment{border-top:2px solid #2f6db5;margin-top:1.5rem;padding-top:.3rem}
.grid{display:flex;flex-wrap:wrap;gap:1.5rem}
.muted{color:#666} .late{color:#a05a00} .flag{color:#b00020} .released{color:#176f2c}
form.inline{display:inline} form.adjust{margin:.2rem 0}
fieldset{border:1px solid #ccc;margin:.6rem 0;padding:.4rem .7rem} .reverted{color:#888;text-decoration:line-through}
button{font-size:.9rem;padding:.2rem .7rem}
"""


def _page(title: str, body: list[str]) -> str:
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{e(title)}</title><style>{_CSS}</style></head>\n<body>\n"
            + "\n".join(body) + "\n</body></html>\n")


def login_page(message: str | None = None) -> str:
    body = ["<h1>dlgrade — instructor</h1>"]
    if message:
        body.append(f'<p class="flag" id="error">{e(message)}</p>')
    body.append('<form method="post" action="/instructor/login">'
                '<label>Instructor token <input type="password" name="token" id="token" '
                'size="60" autocomplete="off"></label> <button type="submit" id="login">Log in</button>'
                "</form>")
    return _page("dlgrade instructor login", body)


def _rates_table(rates: Sequence[FailureRate]) -> str:
    if not rates:
        return '<p class="muted">No case failed.</p>'
    rows = "".join(f"<tr><td>{e(r.name)}</td><td><code>{e(r.target)}</code></td>"
                   f"<td>{e(r.visibility)}</td><td class=\"num\">{r.failed}/{r.total}</td>"
                   f"<td class=\"num\">{100 * r.rate:.0f} %</td></tr>" for r in rates[:15])
    return ("<table class=\"failures\"><tr><th>case</th><th>target</th><th>visibility</th>"
            f"<th>failed</th><th>rate</th></tr>{rows}</table>")


def _listed(title: str, list_class: str, item_class: str, items: Sequence[str],
            empty: str = "none") -> str:
    """A heading, then its items (already escaped HTML) as a list, or a muted `empty`."""
    if not items:
        return f'<h3>{title}</h3><p class="muted">{empty}</p>'
    rows = "".join(f'<li class="{item_class}">{item}</li>' for item in items)
    return f'<h3>{title}</h3><ul class="{list_class}">{rows}</ul>'


def _assignment_section(view: AssignmentView, csrf: str) -> str:
    out = [f'<section class="assignment" id="{e(view.name)}"><h2>{e(view.name)}</h2>',
           f"<p>due {e(view.due or 'not set')} · {view.handed_in} handed in · "
           f"{len(view.scores)} graded · {len(view.missing)} not handed in</p>"]
    if view.released:
        out.append(f'<p class="released">Feedback released {e(view.released["released_at"])}.</p>')
    elif view.scores:
        out.append(f'<form class="inline" method="post" action="/instructor/release/{e(view.name)}">'
                   f'<input type="hidden" name="csrf" value="{e(csrf)}">'
                   f'<button type="submit" id="release-{e(view.name)}">Release feedback on '
                   f"{e(view.name)}</button></form>")
    else:
        out.append('<p class="muted">Nothing graded yet: run <code>dlgrade grade-batch DATA '
                   "--db DATA/gradebook.db</code>.</p>")
    out.append('<div class="grid"><div><h3>Score distribution</h3>')
    if view.scores:
        ordered = sorted(view.scores)
        median = ordered[len(ordered) // 2] if len(ordered) % 2 else \
            (ordered[len(ordered) // 2 - 1] + ordered[len(ordered) // 2]) / 2
        out.append(histogram_svg(view.scores, view.max_score))
        out.append(f'<p class="muted">n = {len(ordered)} · median {median:.1f} · mean '
                   f"{sum(ordered) / len(ordered):.1f} of {view.max_score:g} (after late penalties)</p>")
    else:
        out.append('<p class="muted">no scores yet</p>')
    out.append("</div><div><h3>Cases failed most</h3>" + _rates_table(view.failure_rates) + "</div></div>")
    out.append(_listed("Flagged by the sandbox", "flagged", "flag", [
        f"{e(s)}: {e(flag)} in <code>{e(case)}</code>" for s, flag, case in view.flagged]))
    out.append(_listed("Similarity flags", "similar", "flag", [
        f"{e(s)}: {e(what)} — flag only, score unchanged" for s, what in view.similar],
        empty="none (or <code>dlgrade similarity</code> not run)"))
    out.append(_listed("Late", "late-list", "late", [
        f"{e(s)}: received {e(when)}, {e(summary)}" for s, when, summary in view.late]))
    out.append("<h3>Not handed in</h3>")
    out.append("<p class=\"missing\">" + ", ".join(e(s) for s in view.missing) + "</p>"
               if view.missing else '<p class="muted">everyone handed in</p>')
    out.append("</section>")
    return "\n".join(out)


def _when(view_shown: Any, moment: str | None) -> str:
    return view_shown(moment) if view_shown and moment else (moment or "")


def adjustments_table(adjustments: Sequence[Adjustment], csrf: str, shown: Any = None) -> str:
    """Every adjustment, newest first; active ones with a Revert button."""
    if not adjustments:
        return '<p class="muted">No adjustments.</p>'
    rows = ['<table class="adjustments"><tr><th>#</th><th>student</th><th>assignment</th>'
            "<th>what</th><th>by</th><th>when</th><th></th></tr>"]
    for a in sorted(adjustments, key=lambda a: -a.id):
        if a.active:
            action = (f'<form class="inline" method="post" action="/instructor/revert/{a.id}">'
                      f'<input type="hidden" name="csrf" value="{e(csrf)}">'
                      f'<button type="submit" id="revert-{a.id}">Revert</button></form>')
        else:
            action = f'<span class="muted">reverted by {e(a.reverted_by or "?")} ' \
                     f"{e(_when(shown, a.reverted_at))}</span>"
        css = "" if a.active else ' class="reverted"'
        rows.append(f'<tr id="adjustment-{a.id}"><td>{a.id}</td><td>{e(a.student)}</td>'
                    f"<td>{e(a.assignment)}</td><td{css}>{e(a.describe(shown))}</td>"
                    f"<td>{e(a.made_by)}</td><td>{e(_when(shown, a.made_at))}</td><td>{action}</td></tr>")
    rows.append("</table>")
    return "".join(rows)


def overview_page(view: DashboardView, csrf: str) -> str:
    body = [f"<h1>{e(view.course)} — instructor dashboard</h1>",
            f'<p class="muted">{len(view.students)} students on the roster · {view.graded} graded '
            f"hand-ins in {e(str(view.gradebook))} · scores are final: late penalties, "
            "extensions, overrides and excuses applied</p>",
            '<form class="inline" method="post" action="/instructor/logout">'
            '<button type="submit">Log out</button></form>']
    if not view.assignments:
        body.append("<p>No hand-ins yet, and no due dates in course.toml.</p>")
    body += [_assignment_section(a, csrf) for a in view.assignments]
    names = [a.name for a in view.assignments]
    body.append('<section><h2>Students</h2><table class="students"><tr><th>id</th><th>name</th>'
                + "".join(f"<th>{e(n)}</th>" for n in names) + "<th>feedback and adjustments</th></tr>")
    for sid, name in view.students:
        mine, marks = view.scores.get(sid, {}), view.marks.get(sid, {})
        cells = []
        for n in names:
            mark = marks.get(n, "")
            if mark == "excused":
                cells.append(f'<td class="excused" id="score-{e(sid)}-{e(n)}">excused</td>')
            elif n in mine:
                note = f' <span class="muted">({e(mark)})</span>' if mark else ""
                cells.append(f'<td class="num" id="score-{e(sid)}-{e(n)}">{mine[n]:.1f}{note}</td>')
            else:
                cells.append(f'<td id="score-{e(sid)}-{e(n)}">—'
                             + (f' <span class="muted">({e(mark)})</span>' if mark else "") + "</td>")
        body.append(f"<tr><td>{e(sid)}</td><td>{e(name)}</td>{''.join(cells)}<td><a href=\"/instructor/"
                    f"student/{e(sid)}\">feedback</a></td></tr>")
    body.append("</table></section>")
    body.append('<section><h2>Adjustments</h2><p class="muted">Who changed which grade, when and '
                "why; a reverted one is kept, struck through.</p>"
                + adjustments_table(view.adjustments, csrf, view.shown) + "</section>")
    return _page(f"{view.course} — dashboard", body)


def adjust_forms(ident: str, assignments: Sequence[str], csrf: str,
                 extended: dict[str, str] | None = None, shown: Any = None) -> str:
    """Per assignment: grant an extension, excuse, override the score; each needs a reason."""
    extended = extended or {}
    out = ["<section id=\"adjust\"><h2>Adjust a grade</h2><p class=\"muted\">Each action is recorded "
           "with who, when and the reason, and can be reverted below or on the dashboard.</p>"]
    hidden = f'<input type="hidden" name="csrf" value="{e(csrf)}">'
    for a in assignments:
        base = f"/instructor/student/{e(ident)}/{e(a)}"
        now = f" (now due {e(_when(shown, extended[a]))})" if a in extended else ""
        out.append(
            f'<fieldset id="adjust-{e(a)}"><legend>{e(a)}{now}</legend>'
            f'<form class="adjust" method="post" action="{base}/extend">{hidden}'
            f'<label>Extend until <input name="until" id="extend-{e(a)}-until" size="22" '
            'placeholder="2030-03-20 or 2030-03-20T18:00"></label> '
            f'<label>reason <input name="reason" id="extend-{e(a)}-reason" size="30"></label> '
            f'<button type="submit" id="extend-{e(a)}">Grant extension</button></form>'
            f'<form class="adjust" method="post" action="{base}/override">{hidden}'
            f'<label>Override score <input name="points" id="override-{e(a)}-points" size="6"></label> '
            f'<label>reason <input name="reason" id="override-{e(a)}-reason" size="30"></label> '
            f'<button type="submit" id="override-{e(a)}">Override score</button></form>'
            f'<form class="adjust" method="post" action="{base}/excuse">{hidden}'
            f'<label>reason <input name="reason" id="excuse-{e(a)}-reason" size="30"></label> '
            f'<button type="submit" id="excuse-{e(a)}">Excuse</button></form></fieldset>')
    out.append("</section>")
    return "\n".join(out)


def student_page(ident: str, records: Sequence[Any], course: Course | None, csrf: str = "",
                 assignments: Sequence[str] = (), adjustments: Sequence[Adjustment] = ()) -> str:
    """The student's feedback as they would get it (final grades), then the instructor's
    adjustment forms and this student's adjustments."""
    shown = course.show_time if course else None
    extended = {a: until for (_s, a), until in _extensions(adjustments).items()}
    tools = ('<p><a href="/instructor">back to the dashboard</a></p>\n'
             + adjust_forms(ident, assignments, csrf, extended, shown)
             + "\n<section><h2>Adjustments</h2>" + adjustments_table(adjustments, csrf, shown)
             + "</section>\n<hr>\n")
    if not records:
        return _page(f"{ident}", [f"<h1>{e(ident)}</h1><p>No graded hand-in yet.</p>", tools])
    return student_html(ident, records, course).replace("<body>\n", "<body>\n" + tools, 1)
