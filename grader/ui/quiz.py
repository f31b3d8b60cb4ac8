"""The tables of the quiz's own commands: leeches, disputes and settings (quiz.toml)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from rich.table import Table

from grader.quiz.export import answer_text

if TYPE_CHECKING:  # types only: the store imports fsrs, which these tables do not need
    from grader.quiz.model import Question
    from grader.quiz.store import Dispute, Leech


def _plain_table(*columns: str, fold: bool = False) -> Table:
    table = Table(show_edge=False, box=None, padding=(0, 2, 0, 0))
    for col in columns:
        table.add_column(col, overflow="fold" if fold else "ellipsis")
    return table


def leeches_table(leeches: Sequence[Leech]) -> Table:
    """Questions forgotten after they were learned, suspended ones first."""
    table = _plain_table("question", "lapses", "status")
    for leech in leeches:
        table.add_row(leech.qid, str(leech.lapses),
                      "[yellow]suspended[/]" if leech.suspended else "reviewing")
    return table


def disputes_table(disputes: Sequence[Dispute], by_id: Mapping[str, Question]) -> Table:
    """Each "I was right" answer beside the bank's key, which the maintainers may widen."""
    # folded, never cut: a maintainer needs the whole typed answer and the whole key
    table = _plain_table("question", "typed", "key", "when (UTC)", fold=True)
    for d in disputes:
        q = by_id.get(d.qid)
        key = answer_text(q) if q is not None else "(no longer in the bank)"
        table.add_row(d.qid, d.given, key, f"{d.answered:%Y-%m-%d %H:%M}")
    return table


def quiz_settings_table(values: Mapping[str, object], keys: Sequence[str]) -> Table:
    table = Table(show_edge=False, box=None, padding=(0, 2, 0, 0))
    table.add_column("setting")
    table.add_column("value", justify="right")
    for key in keys:
        table.add_row(key, str(values[key]))
    return table
