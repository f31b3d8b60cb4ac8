"""The grade-batch progress bar on a cluster: RichProgress's bar plus each worker's rate."""

from __future__ import annotations

import statistics
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from grader.batch import Outcome

SHOW_ALL = 4  # up to this many workers are listed one by one; more are summarised


def worker_rates(counts: dict[str, int], seconds: float) -> str:
    """Submissions per minute of each worker since the start, in one line."""
    if not counts or seconds <= 0:
        return "waiting for the first result"
    rates = {w: 60.0 * n / seconds for w, n in counts.items()}
    if len(rates) <= SHOW_ALL:
        return " · ".join(f"{_short(w)} {r:.0f}/min" for w, r in sorted(rates.items()))
    slowest = min(rates, key=rates.__getitem__)
    return (f"{len(rates)} workers: median {statistics.median(rates.values()):.0f}/min, "
            f"slowest {_short(slowest)} {rates[slowest]:.0f}/min")


def _short(address: str) -> str:
    return address.split("://", 1)[-1]


class ClusterProgress:
    """done / total, below full marks, errors, ETA; and below it, the rate of each worker."""

    def __init__(self, console: object) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.text import Text

        class _WithWorkers(Progress):
            def get_renderables(inner):  # noqa: N805  the bar, then a line of worker rates
                yield inner.make_tasks_table(inner.tasks)
                for task in inner.tasks:
                    yield Text(f"  per worker: {task.fields.get('workers', '')}", style="dim",
                               overflow="ellipsis", no_wrap=True)

        self._progress = _WithWorkers(
            TextColumn("[bold]grading"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[below]} below full marks · {task.fields[errors]} errors"),
            TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
            console=console,  # type: ignore[arg-type]
        )
        self._task = None
        self._below = self._errors = 0
        self.per_worker: dict[str, int] = {}
        self._started = time.monotonic()

    def start(self, total: int, skipped: int) -> None:
        if skipped:
            self._progress.console.print(f"{skipped} already graded (unchanged): skipped")
        self._started = time.monotonic()
        if total:
            self._progress.start()
            self._task = self._progress.add_task("grading", total=total, below=0, errors=0,
                                                 workers=worker_rates({}, 0))

    def advance(self, outcome: Outcome) -> None:
        if outcome.error is not None:
            self._errors += 1
        else:
            if not outcome.full_marks:
                self._below += 1
            where = outcome.where or "?"
            self.per_worker[where] = self.per_worker.get(where, 0) + 1
        rates = worker_rates(self.per_worker, time.monotonic() - self._started)
        self._progress.update(self._task, advance=1, below=self._below, errors=self._errors,
                              workers=rates)

    def finish(self) -> None:
        if self._task is not None:
            self._progress.stop()
        if self.per_worker:
            spread = ", ".join(f"{_short(w)} {n}" for w, n in sorted(self.per_worker.items())[:SHOW_ALL])
            more = f", … ({len(self.per_worker)} workers)" if len(self.per_worker) > SHOW_ALL else ""
            self._progress.console.print(f"graded per worker: {spread}{more}", highlight=False)
