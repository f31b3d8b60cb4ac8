"""A self-contained HTML report: per assignment a histogram of pair scores with the
threshold drawn (inline SVG), the most similar pairs, and each flagged pair side by side
with its matching regions highlighted alike. No script, no external file, no network.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from grader.errors import UserError
from grader.similarity.detect import AssignmentResult, Document
from grader.similarity.regions import Region, matching_regions

PALETTE = ["#ffd54f", "#81d4fa", "#a5d6a7", "#f48fb1", "#ce93d8", "#ffab91", "#b0bec5", "#e6ee9c"]
TOP_PAIRS = 15

CSS = """
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.5em; } h2 { border-bottom: 2px solid #ccc; padding-top: .8em; }
table { border-collapse: collapse; margin: .5em 0 1em; }
td, th { border: 1px solid #ddd; padding: .25em .6em; text-align: right; }
td.s, th.s { text-align: left; }
tr.flag td { background: #ffebee; font-weight: 600; }
.note { color: #555; font-size: .9em; margin: .2em 0; }
.aside { color: #b26a00; }
.pair { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: .8em; margin-bottom: 2em; }
.pair h4 { margin: .2em 0; font-family: monospace; }
pre { background: #fafafa; border: 1px solid #ddd; padding: .5em; overflow-x: auto;
      font-size: 12px; line-height: 1.35; max-height: 60em; }
mark { border-radius: 2px; padding: 0 1px; }
.ln { color: #999; user-select: none; }
.fold { color: #888; font-style: italic; }
svg text { font-family: system-ui, sans-serif; font-size: 11px; }
"""


def write_report(results: Sequence[AssignmentResult], folder: Path) -> Path:
    """`folder/similarity.html`; the folder is created when missing."""
    if folder.exists() and not folder.is_dir():
        raise UserError(f"--report {folder} is a file, not a folder")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "similarity.html"
    path.write_text(render(results), encoding="utf-8")
    return path


def render(results: Sequence[AssignmentResult]) -> str:
    e = html.escape
    body = ["<h1>Similar submissions</h1>",
            "<p class='note'>Scores are the larger of the two shares below. "
            "<b>A in B</b>: the share of A's own code (the stub and the code most of the "
            "class shares left out) also found in B. A flag is a reason to look, "
            "not a finding, and changes no score.</p>"]
    for r in results:
        body.append(f"<h2 id='{e(r.assignment)}'>{e(r.assignment)}</h2>")
        body.append(f"<p class='note'>{len(r.documents)} submissions compared, {len(r.pairs)} pairs; "
                    f"threshold {r.threshold.value:.2f}: {e(r.threshold.rule)}. "
                    f"Flagged: {len(r.flagged)} pair(s), {len(r.leaks)} reference match(es).</p>")
        body.extend(f"<p class='note'>{e(n)}</p>" for n in r.notes)
        body.extend(f"<p class='note aside'>{e(a.student)} not compared: {e(a.reason)}</p>"
                    for a in r.set_aside)
        body.append(histogram_svg([p.score for p in r.pairs], r.threshold.value,
                                  f"{r.assignment}: pair scores"))
        body.append(_pairs_table(r))
        if r.leaks:
            body.append(_leaks_table(r))
        for i, p in enumerate(r.flagged, start=1):
            body.append(_side_by_side(f"{r.assignment}-pair-{i}", p.a, p.b,
                                      f"{p.a.source.student} ↔ {p.b.source.student}: score {p.score:.2f} "
                                      f"(A in B {p.coverage_a:.0%}, B in A {p.coverage_b:.0%})",
                                      compared=True))
        if r.reference_doc is not None:
            for m in r.leaks:
                body.append(_side_by_side(f"{r.assignment}-leak-{m.doc.source.student}", m.doc,
                                          r.reference_doc,
                                          f"{m.doc.source.student} matches the hidden reference: "
                                          f"{m.coverage:.0%} of its own code", compared=False))
    return ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>Similar submissions</title><style>{CSS}</style></head><body>"
            + "\n".join(body) + "</body></html>\n")


def _pairs_table(r: AssignmentResult) -> str:
    e = html.escape
    rows = ["<table><tr><th>#</th><th class='s'>student A</th><th class='s'>student B</th>"
            "<th>score</th><th>A in B</th><th>B in A</th><th>matched tokens A / B</th>"
            "<th class='s'>flag</th></tr>"]
    flagged_index = {id(p): i for i, p in enumerate(r.flagged, start=1)}
    shown = r.pairs[:TOP_PAIRS] + [p for p in r.flagged[TOP_PAIRS:]]
    for i, p in enumerate(shown, start=1):
        link = (f"<a href='#{e(r.assignment)}-pair-{flagged_index[id(p)]}'>similar</a>"
                if id(p) in flagged_index else "")
        rows.append(f"<tr class='{'flag' if p.flagged else ''}'><td>{i}</td>"
                    f"<td class='s'>{e(p.a.source.student)}</td><td class='s'>{e(p.b.source.student)}</td>"
                    f"<td>{p.score:.2f}</td><td>{p.coverage_a:.0%}</td><td>{p.coverage_b:.0%}</td>"
                    f"<td>{p.matched_a} / {p.matched_b}</td><td class='s'>{link}</td></tr>")
    rows.append("</table>")
    return "".join(rows)


def _leaks_table(r: AssignmentResult) -> str:
    e = html.escape
    rows = ["<h3>Matches the hidden reference</h3><table><tr><th class='s'>student</th>"
            "<th>own code found in the reference</th><th>matched tokens</th></tr>"]
    for m in r.leaks:
        rows.append(f"<tr class='flag'><td class='s'><a href='#{e(r.assignment)}-leak-"
                    f"{e(m.doc.source.student)}'>{e(m.doc.source.student)}</a></td>"
                    f"<td>{m.coverage:.0%}</td><td>{m.matched}</td></tr>")
    rows.append("</table>")
    return "".join(rows)


def _side_by_side(anchor: str, a: Document, b: Document, title: str, *, compared: bool) -> str:
    """Two sources in columns, each matching region marked in the colour of its counterpart."""
    e = html.escape
    fp_a, fp_b = (a.compared, b.compared) if compared else (a.own, b.own)
    regions_a, regions_b = matching_regions(a.tokens, fp_a, b.tokens, fp_b)
    return (f"<h3 id='{e(anchor)}'>{e(title)}</h3><div class='pair'>"
            f"<div><h4>{e(a.source.student)}: {e(_display_path(a))}</h4>"
            f"<pre>{highlight(a.source.text, regions_a)}</pre></div>"
            f"<div><h4>{e(b.source.student)}: {e(_display_path(b))}</h4>"
            f"<pre>{highlight(b.source.text, regions_b)}</pre></div></div>")


def _display_path(doc: Document) -> str:
    return doc.source.path.name if doc.source.student != "reference" else "reference"


def highlight(text: str, regions: Sequence[Region], context: int = 2) -> str:
    """The source, HTML-escaped, each region in a <mark> coloured by its link; runs of lines
    more than `context` lines away from any match are folded into one line saying so."""
    regions = sorted(regions, key=lambda r: r.start)
    lines = text.split("\n")
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line) + 1)
    matched = [any(r.start < starts[i + 1] - 1 and r.end > starts[i] for r in regions)
               or any(r.start <= starts[i] < r.end for r in regions) for i in range(len(lines))]
    keep = [any(matched[max(0, i - context):i + context + 1]) for i in range(len(lines))]
    out: list[str] = []
    folded = 0
    for i, line in enumerate(lines):
        if not keep[i]:
            folded += 1
            continue
        if folded:
            out.append(f"<span class='fold'>⋯ {folded} line(s) without a match ⋯</span>")
            folded = 0
        out.append(f"<span class='ln'>{i + 1:4d}</span> " + _marked(line, starts[i], regions))
    if folded:
        out.append(f"<span class='fold'>⋯ {folded} line(s) without a match ⋯</span>")
    return "\n".join(out)


def _marked(line: str, offset: int, regions: Sequence[Region]) -> str:
    out = []
    at = 0
    for r in regions:
        start, end = max(r.start - offset, at), min(r.end - offset, len(line))
        if end <= start:
            continue
        colour = PALETTE[r.link % len(PALETTE)] if r.link >= 0 else "#e0e0e0"
        out.append(html.escape(line[at:start]))
        out.append(f"<mark style='background:{colour}' title='match {r.link + 1}'>"
                   f"{html.escape(line[start:end])}</mark>")
        at = end
    out.append(html.escape(line[at:]))
    return "".join(out)


def histogram_svg(scores: Sequence[float], threshold: float, title: str, bins: int = 50) -> str:
    """Counts of pair scores in [0, 1] on a log scale (copies are a handful beside thousands
    of honest pairs), bars at or above the threshold in red, the threshold as a line."""
    width, height, left, bottom, top = 640, 220, 44, 32, 24
    plot_w, plot_h = width - left - 12, height - bottom - top
    counts, edges = np.histogram(np.clip(np.asarray(scores, dtype=float), 0, 1), bins=bins, range=(0, 1))
    peak = math.log10(max(1, int(counts.max(initial=0))) + 1)
    parts = [f"<svg width='{width}' height='{height}' "
             f"role='img' aria-label='{html.escape(title)}'>",
             f"<text x='{left}' y='14' font-weight='bold'>{html.escape(title)} "
             f"({len(scores)} pairs; count on a log scale)</text>"]
    bar_w = plot_w / bins
    for i, c in enumerate(counts):
        if not c:
            continue
        h = plot_h * math.log10(c + 1) / peak if peak else 0
        x = left + i * bar_w
        colour = "#e53935" if edges[i + 1] > threshold else "#90a4ae"
        parts.append(f"<rect x='{x:.1f}' y='{top + plot_h - h:.1f}' width='{bar_w - 1:.1f}' "
                     f"height='{h:.1f}' fill='{colour}'><title>{edges[i]:.2f}–{edges[i + 1]:.2f}: "
                     f"{c}</title></rect>")
    parts.append(f"<line x1='{left}' y1='{top + plot_h}' x2='{left + plot_w}' y2='{top + plot_h}' stroke='#333'/>")
    for tick in (0, 0.25, 0.5, 0.75, 1.0):
        x = left + tick * plot_w
        parts.append(f"<text x='{x:.1f}' y='{top + plot_h + 14}' text-anchor='middle'>{tick:g}</text>")
    for value in sorted({1, 10, 100, 1000, 10000, int(counts.max(initial=0))}):
        if 0 < value <= counts.max(initial=0) and peak:
            y = top + plot_h - plot_h * math.log10(value + 1) / peak
            parts.append(f"<text x='{left - 4}' y='{y + 4:.1f}' text-anchor='end'>{value}</text>")
    tx = left + min(max(threshold, 0), 1) * plot_w
    parts.append(f"<line x1='{tx:.1f}' y1='{top - 4}' x2='{tx:.1f}' y2='{top + plot_h}' "
                 "stroke='#c62828' stroke-width='2' stroke-dasharray='5,3'/>")
    parts.append(f"<text x='{tx - 4:.1f}' y='{top + 8}' text-anchor='end' fill='#c62828'>"
                 f"threshold {threshold:.2f}</text>")
    parts.append(f"<text x='{left + plot_w / 2}' y='{height - 4}' text-anchor='middle'>pair score</text>")
    parts.append("</svg>")
    return "".join(parts)

