"""The interactive loop: one typed line per answer, ratings, relearning, undo, overrides.

Input comes from an `ask(prompt) -> str` function and output goes to a Rich Console, so the
same loop runs in a real terminal and under typer's CliRunner. Storage and scheduling are
behind `Hooks` (see `session.SessionHooks`): every answer is stored before its feedback is
printed; Ctrl-C or end of input stops the loop and the summary of what was answered is
still shown.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Protocol

from rich.console import Console
from rich.markup import escape

from grader.quiz.engine import MalformedAnswer, Presented, Result, grade, help_text
from grader.quiz.scheduler import Rating, interval_text
from grader.quiz.screen import (
    RATING_NAMES,
    UI,
    leech_notice,
    rating_line,
    show_feedback,
    show_question,
)
from grader.quiz.store import Recorded
from grader.quiz.text import Lang, latin_keys

Ask = Callable[[str], str]


@dataclass(frozen=True)
class Item:
    view: Presented
    kind: str  # new | review | relearn | retake | exam


@dataclass(frozen=True)
class Outcome:
    item: Item
    result: Result | None  # None: skipped


@dataclass
class Summary:
    mode: str
    planned: int
    outcomes: list[Outcome] = field(default_factory=list)
    ended: str = "done"  # done | quit | interrupted

    @property
    def answered(self) -> list[Outcome]:
        """First attempts only: a missed card asked again is relearning, not a second score."""
        return [o for o in self.outcomes if o.result is not None and o.item.kind != "relearn"]

    @property
    def relearned(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.result is not None and o.item.kind == "relearn"]

    @property
    def score(self) -> float:
        return sum(o.result.score for o in self.answered if o.result)

    def per_topic(self) -> dict[str, tuple[int, float]]:
        out: dict[str, list[float]] = defaultdict(list)
        for o in self.answered:
            assert o.result is not None
            out[o.item.view.question.topic].append(o.result.score)
        return {t: (len(s), sum(s)) for t, s in sorted(out.items())}


# ------------------------------------------------------------------ the loop


class Hooks(Protocol):
    """What the loop asks of the session around it (storage and scheduling)."""

    def record(self, item: Item, given: str, result: Result) -> Recorded | None: ...

    def ratings(self, item: Item) -> dict[Rating, timedelta] | None: ...

    def rate(self, item: Item, rating: Rating) -> bool: ...

    def override(self, item: Item) -> bool: ...

    def undo(self, item: Item) -> None: ...

    def relearn_due(self, item: Item) -> datetime | None: ...

    def now(self) -> datetime: ...


@dataclass
class _Asked:
    item: Item
    outcome: Outcome
    recorded: Recorded | None


class _Stop(Exception):
    def __init__(self, how: str):
        self.how = how


def run_loop(items: Sequence[Item], *, console: Console, ask: Ask, lang: Lang, hooks: Hooks,
             mode: str, reveal: bool = True) -> Summary:
    """Ask every item, then the missed ones again when they are due (same-session relearning).

    `hooks.record` stores an answer before its feedback is shown. After a right answer the
    learner rates it (Enter = Good); after a wrong one, Enter goes on and `!` says "I was
    right". `u`, at a rating prompt or at the next question, takes the last answer back and
    asks that question again. With `reveal=False` (an exam) nothing is shown until the end.
    """
    summary = Summary(mode, len(items))
    queue: _Queue = _Queue(items)
    relearn: list[tuple[datetime, int, Item]] = []
    history: list[_Asked] = []
    position = 0
    counter = 0
    try:
        while True:
            item = _next_item(queue, relearn, hooks)
            if item is None:
                break
            position += item.kind != "relearn"
            total = max(len(items), position)
            show_question(console, item, position, total, lang)
            while True:
                raw = ask("[bold cyan]›[/] ")
                command = latin_keys(raw.strip().casefold())  # ㄴ is s, ㅂ is q, ㅕ is u
                if command == "?":
                    console.print(escape(help_text(item.view, lang)), style="cyan")
                    continue
                if command == "q":
                    raise _Stop("quit")
                if command == "u":
                    if not history:
                        console.print(f"[yellow]{escape(UI['nothing_to_undo'](lang))}[/]")
                        continue
                    queue.insert(0, item)  # this question waits for the one taken back
                    position -= item.kind != "relearn"
                    _undo(history, summary, relearn, queue, hooks, console, lang)
                    position -= queue[0].kind != "relearn"
                    break
                if command == "s":
                    summary.outcomes.append(Outcome(item, None))
                    console.print(f"[dim]↷ {UI['skipped'].inline(lang)}[/]")
                    break
                try:
                    result = grade(item.view, raw, lang)
                except MalformedAnswer as exc:
                    console.print(f"[yellow]{escape(exc.msg(lang))}[/]")
                    continue
                recorded = hooks.record(item, raw.strip(), result)
                outcome = Outcome(item, result)
                summary.outcomes.append(outcome)
                history.append(_Asked(item, outcome, recorded))
                if not reveal:
                    console.print(f"[dim]✓ {UI['recorded'].inline(lang)}[/]")
                    break
                show_feedback(console, result, lang, echo=item.view.question.type == "true_false")
                if recorded is not None and recorded.suspended:
                    leech_notice(console, item, lang)
                undone = _after_answer(history, summary, relearn, queue, hooks, console, ask, lang)
                if undone:
                    position -= 1 if queue[0].kind != "relearn" else 0
                    break
                due = hooks.relearn_due(item)
                if due is not None:
                    counter += 1
                    relearn.append((due, counter, Item(item.view, "relearn")))
                break
    except _Stop as stop:
        summary.ended = stop.how
    except (KeyboardInterrupt, EOFError):
        console.print()
        summary.ended = "interrupted"
    return summary


class _Queue(list):
    """The planned questions, remembering which were put back by an undo (asked next)."""

    def __init__(self, items: Sequence[Item] = ()):
        super().__init__(items)
        self.taken_back: list[Presented] = []


def _taken_back(queue: list[Item]) -> list[Presented]:
    return getattr(queue, "taken_back", [])


def _next_item(queue: list[Item], relearn: list[tuple[datetime, int, Item]],
               hooks: Hooks) -> Item | None:
    """A question just taken back (undo) first; then a missed card once it is due, else the
    next planned one, else the earliest missed card (learning ahead, as Anki does within its
    learn-ahead limit)."""
    taken_back = _taken_back(queue)
    if queue and queue[0].view in taken_back:
        taken_back.remove(queue[0].view)
        return queue.pop(0)
    relearn.sort(key=lambda entry: (entry[0], entry[1]))
    if relearn and (relearn[0][0] <= hooks.now() or not queue):
        return relearn.pop(0)[2]
    return queue.pop(0) if queue else None


def _after_answer(history: list[_Asked], summary: Summary, relearn: list, queue: list[Item],
                  hooks: Hooks, console: Console, ask: Ask, lang: Lang) -> bool:
    """The rating prompt after a right answer, the next/override prompt after a wrong one.

    Returns True when the answer was undone (its question is then first in `queue`).
    Ctrl-C or the end of input here keeps the answer with its default rating.
    """
    asked = history[-1]
    result = asked.outcome.result
    assert result is not None
    choices = hooks.ratings(asked.item)
    if result.correct and choices is None:
        return False  # a right answer that schedules nothing: nothing to rate
    if result.correct and choices is not None:
        console.print(rating_line(choices, lang))
        prompt = f"[dim]{escape(UI['rate_prompt'].inline(lang))}[/] [bold cyan]›[/] "
    else:
        if choices is not None:
            console.print(f"[dim]{escape(UI['again_in'].inline(lang))}: "
                          f"{interval_text(choices[Rating.Again], lang)}[/]")
        prompt = f"[dim]{escape(UI['next_prompt'].inline(lang))}[/] [bold cyan]›[/] "
    while True:
        raw = ask(prompt)
        command = latin_keys(raw.strip().casefold())
        if command in ("", "n"):
            return False
        if command == "u":
            _undo(history, summary, relearn, queue, hooks, console, lang)
            return True
        if command == "q":
            raise _Stop("quit")
        if command == "?":
            console.print(escape(UI["rate_help" if result.correct else "next_help"](lang)),
                          style="cyan")
            continue
        if not result.correct and command in ("!", "r"):
            if hooks.override(asked.item):
                right = replace(result, score=1.0, correct=True)
                asked.outcome = Outcome(asked.item, right)
                summary.outcomes[-1] = asked.outcome
                console.print(f"[green]✔ {escape(UI['overridden'](lang))}[/]")
            return False
        if result.correct and choices is not None and command in _RATING_KEYS:
            rating = _RATING_KEYS[command]
            if hooks.rate(asked.item, rating):
                leech_notice(console, asked.item, lang)
            console.print(f"[dim]→ {escape(RATING_NAMES[rating].inline(lang))}: "
                          f"{interval_text(choices[rating], lang)}[/]")
            return False
        console.print(f"[yellow]{escape(UI['rate_help' if result.correct else 'next_help'](lang))}[/]")


def _undo(history: list[_Asked], summary: Summary, relearn: list, queue: list[Item],
          hooks: Hooks, console: Console, lang: Lang) -> None:
    """Take the last answer back and put its question first in `queue`."""
    asked = history.pop()
    hooks.undo(asked.item)
    for k in range(len(summary.outcomes) - 1, -1, -1):  # this very outcome, not an equal one
        if summary.outcomes[k] is asked.outcome:
            del summary.outcomes[k]
            break
    # the relearning copies the answer taken back had queued go with it
    relearn[:] = [e for e in relearn if e[2].view is not asked.item.view]
    queue[:] = [i for i in queue if not (i.kind == "relearn" and i.view is asked.item.view)]
    queue.insert(0, asked.item)
    _taken_back(queue).append(asked.item.view)  # asked again next, before any due relearning
    console.print(f"[yellow]↶ {escape(UI['undone'](lang))}[/]")



_RATING_KEYS: dict[str, Rating] = {
    "1": Rating.Again, "2": Rating.Hard, "3": Rating.Good, "4": Rating.Easy,
    "a": Rating.Again, "h": Rating.Hard, "g": Rating.Good, "e": Rating.Easy,
}
