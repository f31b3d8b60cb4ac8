"""The terminal summary of a similarity run: Rich tables of the most similar pairs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:  # types only: the comparison itself is grader/similarity's
    from grader.similarity.detect import AssignmentResult


def renderables(results: Sequence[AssignmentResult], top: int = 10) -> list[RenderableType]:
    out: list[RenderableType] = []
    for r in results:
        out.append(_pairs_table(r, top))
        if r.leaks:
            out.append(_leak_table(r))
        for a in r.set_aside:
            out.append(Text(f"{r.assignment}: {a.student} not compared: {a.reason}", style="yellow"))
    return out


def _pairs_table(r: AssignmentResult, top: int) -> Table:
    shown = min(max(top, len(r.flagged)), len(r.pairs))
    table = Table(title=f"{r.assignment}: the {shown} most similar of {len(r.pairs)} pairs "
                        f"({len(r.documents)} submissions) · flagged: {len(r.flagged)} · "
                        f"threshold {r.threshold.value:.2f}, {r.threshold.rule}",
                  title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("student A")
    table.add_column("student B")
    table.add_column("score", justify="right")
    table.add_column("A in B", justify="right", header_style="bold")
    table.add_column("B in A", justify="right")
    table.add_column("matched tokens A / B", justify="right")
    table.add_column("flag")
    for i, p in enumerate(r.pairs[:max(top, len(r.flagged))], start=1):  # every flag, at least
        style = "bold red" if p.flagged else None
        table.add_row(str(i), p.a.source.student, p.b.source.student, f"{p.score:.2f}",
                      f"{p.coverage_a:.0%}", f"{p.coverage_b:.0%}", f"{p.matched_a} / {p.matched_b}",
                      "similar" if p.flagged else "", style=style)
    return table


def _leak_table(r: AssignmentResult) -> Table:
    table = Table(title=f"{r.assignment}: matches the hidden reference "
                        f"({r.reference_threshold.rule if r.reference_threshold else ''})",
                  title_justify="left", title_style="bold red")
    table.add_column("student")
    table.add_column("own code found in the reference", justify="right")
    table.add_column("matched tokens", justify="right")
    for m in r.leaks:
        table.add_row(m.doc.source.student, f"{m.coverage:.0%}", str(m.matched), style="bold red")
    return table
