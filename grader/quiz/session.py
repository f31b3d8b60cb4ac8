"""The interactive quiz: Rich output, one typed line per answer.

Input comes from an `ask(prompt) -> str` function and output goes to a Rich Console, so the
same loop runs in a real terminal and under typer's CliRunner. Every answer is stored (with
its FSRS card) before its feedback is printed; Ctrl-C or end of input stops the loop and the
summary of what was answered is still shown.
"""

from __future__ import annotations

import contextlib
import random
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

from fsrs import Card
from rich.console import Console
from rich.markup import escape
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from grader.errors import UserError
from grader.quiz.engine import (
    MalformedAnswer,
    Presented,
    Result,
    grade,
    help_text,
    plan_exam,
    plan_retake,
    plan_review,
    present,
    select,
    shown,
)
from grader.quiz.model import ChoiceQuestion, NumericQuestion, OrderQuestion, topic_name
from grader.quiz.scheduler import (
    Clock,
    QuizScheduler,
    Rating,
    Settings,
    default_rating,
    interval_text,
    is_lapse,
    utc_now,
)
from grader.quiz.store import ProgressStore, Recorded
from grader.quiz.text import LANGS, Lang, Msg, latin_keys, tr, tr_block

Ask = Callable[[str], str]

UI = {
    "new": Msg("새 문제", "new"),
    "review": Msg("복습", "review"),
    "retake": Msg("다시 풀기", "retake"),
    "relearn": Msg("다시 학습", "relearn"),
    "exam": Msg("시험", "exam"),
    "one": Msg("하나를 고르세요", "pick one"),
    "several": Msg("맞는 것을 모두 고르세요", "pick all that apply"),
    "order": Msg("맞는 순서로 글자를 입력하세요", "type the letters in the right order"),
    "number": Msg("숫자를 입력하세요", "type a number"),
    "tf": Msg("참(t) 또는 거짓(f)", "true (t) or false (f)"),
    "short": Msg("단어나 짧은 구로 답하세요", "answer with a word or a short phrase"),
    "keys": Msg("? 도움말 · s 건너뛰기 · u 되돌리기 · q 그만", "? help · s skip · u undo · q quit"),
    "keys_both": Msg("? 도움말 help · s 건너뛰기 skip · u 되돌리기 undo · q 그만 quit", ""),
    "rate_prompt": Msg("1-4, Enter = 알맞음, u 되돌리기", "1-4, Enter = Good, u undo"),
    "next_prompt": Msg("Enter 다음, ! 내 답도 맞다, u 되돌리기", "Enter next, ! I was right, u undo"),
    "rate_help": Msg("1 다시(찍어서 맞힘) · 2 어려움 · 3 알맞음(Enter) · 4 쉬움 · u 되돌리기 · q 그만",
                     "1 Again (a lucky guess) · 2 Hard · 3 Good (Enter) · 4 Easy · u undo · q quit"),
    "next_help": Msg("Enter: 다음 문제 · !: 내 답도 맞다고 기록 (입력한 답은 문제 관리자를 위해 남습니다)"
                     " · u: 되돌리기 · q: 그만",
                     "Enter: next question · !: record it as right (your answer is kept for the "
                     "bank's maintainers) · u: undo · q: quit"),
    "again_in": Msg("다시 보기", "again in"),
    "overridden": Msg("맞은 것으로 기록했습니다. 입력한 답은 `dlgrade quiz disputes`에 남습니다.",
                      "Recorded as right; your answer is kept in `dlgrade quiz disputes`."),
    "undone": Msg("마지막 답을 되돌렸습니다. 다시 답하세요.", "Last answer undone: answer it again."),
    "nothing_to_undo": Msg("되돌릴 답이 없습니다.", "Nothing to undo yet."),
    "recorded": Msg("기록함 (정답은 시험이 끝나면 보여 줍니다)",
                    "recorded (answers are shown at the end)"),
    "leech": Msg("이 문제는 여러 번 잊어버려 보류(leech)했습니다. 노트를 다시 보고 "
                 "`dlgrade quiz leeches`로 확인하세요.",
                 "You keep forgetting this one, so it is suspended as a leech: revisit your "
                 "notes; `dlgrade quiz leeches` lists them."),
    "relearned": Msg("다시 학습", "relearned"),
    "right": Msg("정답!", "Right!"),
    "wrong": Msg("오답", "Wrong"),
    "partly": Msg("부분 정답", "Partly right"),
    "answer": Msg("정답", "answer"),
    "yours": Msg("내 답", "yours"),
    "skipped": Msg("건너뜀", "skipped"),
    "summary": Msg("요약", "Summary"),
    "score": Msg("점수", "Score"),
    "topic": Msg("주제", "topic"),
    "answered": Msg("푼 문제", "answered"),
    "accuracy": Msg("정답률", "accuracy"),
    "mistakes": Msg("틀린 문제", "Mistakes"),
    "no_mistakes": Msg("틀린 문제가 없습니다. 잘했어요!", "No mistakes. Well done!"),
    "interrupted": Msg("중단됨: 지금까지의 답은 모두 저장되었습니다.",
                       "Interrupted: every answer so far is saved."),
    "quit": Msg("그만둠: 지금까지의 답은 모두 저장되었습니다.", "Stopped: every answer so far is saved."),
}


@dataclass(frozen=True)
class Item:
    view: Presented
    kind: str  # new | review | retake | exam


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
            _show_question(console, item, position, total, lang)
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
                _show_feedback(console, result, lang, echo=item.view.question.type == "true_false")
                if recorded is not None and recorded.suspended:
                    _leech_notice(console, item, lang)
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
        console.print(_rating_line(choices, lang))
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
                _leech_notice(console, asked.item, lang)
            console.print(f"[dim]→ {escape(_RATING_NAMES[rating].inline(lang))}: "
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


def _rating_line(choices: dict[Rating, timedelta], lang: Lang) -> str:
    parts = []
    for key, rating in (("1", Rating.Again), ("2", Rating.Hard), ("3", Rating.Good),
                        ("4", Rating.Easy)):
        name = _RATING_NAMES[rating]
        label = f"{key} {name.ko} {name.en if lang == 'both' else ''}".rstrip() if lang != "en" \
            else f"{key} {name.en}"
        label = f"{label} {interval_text(choices[rating], lang)}"
        parts.append(f"[bold]{escape(label)}[/]" if rating == Rating.Good else escape(label))
    return "  " + " · ".join(parts)


def _leech_notice(console: Console, item: Item, lang: Lang) -> None:
    console.print(f"[bold yellow]⚑ {escape(UI['leech'](lang))}[/] [dim]({item.view.question.id})[/]")


_RATING_KEYS: dict[str, Rating] = {
    "1": Rating.Again, "2": Rating.Hard, "3": Rating.Good, "4": Rating.Easy,
    "a": Rating.Again, "h": Rating.Hard, "g": Rating.Good, "e": Rating.Easy,
}
_RATING_NAMES: dict[Rating, Msg] = {
    Rating.Again: Msg("다시", "Again"), Rating.Hard: Msg("어려움", "Hard"),
    Rating.Good: Msg("알맞음", "Good"), Rating.Easy: Msg("쉬움", "Easy"),
}


def _show_question(console: Console, item: Item, number: int, total: int, lang: Lang) -> None:
    q = item.view.question
    console.print()
    title = (f"[bold]{number}/{total}[/] · {escape(topic_name(q.topic, lang))} · "
             f"{UI[item.kind].inline(lang)}")
    if Text.from_markup(title).cell_len + 6 <= console.width:
        console.rule(title, align="left", style="blue")
    else:  # a rule would cut its title short ("…"): the title gets its own lines
        console.rule(style="blue")
        console.print(Text.from_markup(title, overflow="fold"))
    prompt = tr_block(q.prompt, lang).split("\n")
    console.print(f"[bold]{escape(prompt[0])}[/]")
    for line in prompt[1:]:
        console.print(f"[italic]{escape(line)}[/]", style="dim")
    options = shown(item.view, lang)
    if options:
        _rows(console, [(f"{letter})", text) for letter, text in options], "bold cyan")
    keys = UI["keys_both"].ko if lang == "both" else UI["keys"](lang)
    console.print(f"[dim]{_hint(item.view, lang)} · {keys}[/]")


def _hint(view: Presented, lang: Lang) -> str:
    """What kind of answer is expected, in one short line."""
    q = view.question
    if isinstance(q, ChoiceQuestion):
        msg = UI["several" if len(q.answer) > 1 else "one"]
    elif isinstance(q, OrderQuestion):
        msg = UI["order"]
    elif isinstance(q, NumericQuestion):
        msg = UI["number"]
        if q.unit is not None:
            ko, en = (q.unit, q.unit) if isinstance(q.unit, str) else (q.unit.ko, q.unit.en)
            msg = Msg(f"{msg.ko} (단위: {ko})", f"{msg.en} (in {en})")
    else:
        msg = UI["tf" if q.type == "true_false" else "short"]
    text = f"{msg.ko} · {msg.en}" if lang == "both" else msg(lang)
    return escape(text)


def _show_feedback(console: Console, result: Result, lang: Lang, *, echo: bool = False) -> None:
    """Right or wrong, the key when wrong, then the explanation.

    `echo` repeats a right true/false answer typed as `x` or `o`, so an
    explanation that opens with "False: ..." cannot be misread.
    """
    if result.correct:
        said = f" [green]· {escape(result.expected)}[/]" if echo else ""
        console.print(f"[bold green]✔ {UI['right'].inline(lang)}[/]{said}")
    elif result.score > 0:
        console.print(f"[bold yellow]◐ {UI['partly'].inline(lang)} {result.score:.0%}[/]"
                      f"[yellow] · {escape(result.detail)}[/]")
    else:
        console.print(f"[bold red]✘ {UI['wrong'].inline(lang)}[/]")
    if not result.correct:
        _rows(console, [(f"{UI['answer'].inline(lang)}:", result.expected)], "bold")
    _block(console, result.explanation, indent=2, style="dim" if result.correct else "")


def _rows(console: Console, rows: list[tuple[str, str]], label_style: str, indent: int = 2) -> None:
    """Label + text rows; long text wraps under itself, not under the label.

    Nothing is ever cut off with "…": a word longer than the line folds onto the next, and on
    a terminal too narrow for the label column the label goes on a line of its own.
    """
    widest = max((console.measure(Text(label)).maximum for label, _ in rows), default=0)
    if console.width - indent - widest - 1 < 16:
        for label, text in rows:
            console.print(Padding(Text(label, style=label_style), (0, 0, 0, indent)))
            console.print(Padding(Text(text, overflow="fold"), (0, 0, 0, indent + 2)))
        return
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style=label_style, no_wrap=True)
    grid.add_column(overflow="fold")
    for label, text in rows:
        grid.add_row(label, Text(text, overflow="fold"))
    console.print(Padding(grid, (0, 0, 0, indent), expand=False))


def _block(console: Console, text: str, *, indent: int, style: str = "") -> None:
    console.print(Padding(Text(text, style=style, overflow="fold"), (0, 0, 0, indent),
                          expand=False))


# ------------------------------------------------------------------ the summary


def show_summary(console: Console, summary: Summary, lang: Lang, *, seed: int | None = None) -> None:
    if summary.ended != "done":
        console.print(f"[yellow]{UI[summary.ended].inline(lang)}[/]")
    answered = summary.answered
    exam = summary.mode == "exam"
    out_of = summary.planned if exam else len(answered)
    console.print()
    console.rule(f"[bold]{UI['summary'].inline(lang)}[/]", style="blue")
    skipped = sum(o.result is None and o.item.kind != "relearn" for o in summary.outcomes)
    pct = f" ({summary.score / out_of:.0%})" if out_of else ""
    label = f"{UI['exam'].inline(lang)} (seed {seed})" if exam else UI["score"].inline(lang)
    score = f"{summary.score:.2f}".rstrip("0").rstrip(".")  # partial credit: 2.83, not 2.8333
    relearned = summary.relearned
    again = (f"   [dim]{UI['relearned'].inline(lang)}: "
             f"{sum(o.result.correct for o in relearned if o.result)}/{len(relearned)}[/]"
             if relearned else "")
    console.print(f"[bold]{label}: {score} / {out_of}{pct}[/]"
                  + (f"   [dim]{UI['skipped'].inline(lang)}: {skipped}[/]" if skipped else "")
                  + again)
    if not answered:
        return
    table = Table(show_edge=False, box=None, padding=(0, 2, 0, 0))
    table.add_column(UI["topic"].inline(lang))
    table.add_column(UI["answered"].inline(lang), justify="right")
    table.add_column(UI["accuracy"].inline(lang), justify="right")
    for topic, (n, score) in summary.per_topic().items():
        style = "green" if score / n >= 0.8 else "yellow" if score / n >= 0.5 else "red"
        table.add_row(escape(topic_name(topic, lang)), str(n), f"[{style}]{score / n:.0%}[/]")
    console.print(table)
    mistakes = [o for o in answered if o.result and not o.result.correct]
    console.print()
    if not mistakes:
        console.print(f"[green]{UI['no_mistakes'].inline(lang)}[/]")
        return
    console.print(f"[bold]{UI['mistakes'].inline(lang)}[/]")
    for o in mistakes:
        assert o.result is not None
        q = o.item.view.question
        console.print(f"[red]✘[/] [bold]{escape(tr(q.prompt, 'en' if lang == 'en' else 'ko'))}[/]"
                      f" [dim]({q.id})[/]")
        _rows(console, [(f"{UI['yours'].inline(lang)}:", o.result.given),
                        (f"{UI['answer'].inline(lang)}:", o.result.expected)], "bold", indent=4)
        _block(console, o.result.explanation, indent=4, style="dim")


# ------------------------------------------------------------------ a whole session


@dataclass(frozen=True)
class QuizOptions:
    topics: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    n: int = 10
    lang: str = "both"
    mistakes: bool = False
    exam: bool = False
    seed: int | None = None
    db: Path | None = None
    bank: Path | None = None


def check_options(opts: QuizOptions) -> None:
    if opts.lang not in LANGS:
        raise UserError(f"unknown --lang {opts.lang!r} (choose from: {', '.join(LANGS)})")
    if opts.n < 1:
        raise UserError(f"--n must be at least 1, got {opts.n}")
    if opts.exam and opts.mistakes:
        raise UserError("--exam and --mistakes cannot be combined")


def run_quiz(opts: QuizOptions, *, console: Console, ask: Ask, clock: Clock = utc_now,
             fuzz: bool = True, settings: Settings | None = None) -> None:
    """Plan, ask, store and summarise one session.

    `settings` default to the learner's quiz.toml, with FSRS parameters fitted by
    `quiz optimize` (kept in the progress database) when there are any.
    """
    from grader.quiz.bank import load_bank
    from grader.quiz.config import load_settings
    from grader.quiz.store import ProgressStore

    check_options(opts)
    lang: Lang = opts.lang  # type: ignore[assignment]
    settings = load_settings() if settings is None else settings
    bank = load_bank(opts.bank)
    known_topics = set(bank.topics())
    for topic in opts.topics:
        if topic not in known_topics:
            raise UserError(f"unknown topic {topic!r} (choose from: {', '.join(sorted(known_topics))})")
    known_tags = bank.tags()
    for tag in opts.tags:
        if tag not in known_tags:
            raise UserError(f"unknown tag {tag!r}: no question in the bank carries it"
                            + _close(tag, known_tags))
    pool = select(bank.questions, opts.topics, opts.tags)
    if not pool:
        raise UserError("no question matches "
                        + " ".join([*(f"--topic {t}" for t in opts.topics),
                                    *(f"--tag {t}" for t in opts.tags)]))
    seed = opts.seed if opts.seed is not None else random.SystemRandom().randrange(10_000)
    mode = "exam" if opts.exam else "mistakes" if opts.mistakes else "review"

    with ProgressStore.open(opts.db) as store:
        settings = with_fitted_parameters(settings, store)
        try:
            scheduler = QuizScheduler(clock, fuzz=fuzz, settings=settings)
        except ValueError as exc:
            raise UserError(f"the fitted FSRS parameters cannot be used ({exc}): run "
                            "`dlgrade quiz optimize --reset`") from None
        now = scheduler.now()
        if opts.exam:
            plan = plan_exam(pool, n=opts.n, seed=seed)
        elif opts.mistakes:
            plan = plan_retake(pool, store.mistake_ids(), opts.n)
            if not plan:
                console.print(Msg("다시 풀 틀린 문제가 없습니다.", "Nothing to retake: no question "
                                  "was answered wrong last time.").inline(lang))
                return
        else:
            day = start_of_day(now)
            plan = plan_review(pool, due=store.due_ids(now), seen=store.seen_ids(), n=opts.n,
                               seed=seed, skip=store.suspended_ids(),
                               new_limit=settings.new_per_day - store.introduced_since(day),
                               review_limit=settings.reviews_per_day - store.reviews_since(day))
            if not plan:
                _nothing_due(console, store, now, lang, settings)
                return
        items = [Item(present(q, seed), kind) for q, kind in plan]
        if opts.exam:
            console.print(Msg(f"시험 seed {seed}: 같은 시험지를 다시 받으려면 --exam --seed {seed}. "
                              "정답은 끝에 한꺼번에 보여 줍니다.",
                              f"Exam seed {seed}: rerun with --exam --seed {seed} for the same "
                              "paper. The answers are shown at the end.").inline(lang), style="dim")
        if opts.mistakes:
            console.print(Msg("틀린 문제 다시 풀기: 복습 일정은 바뀌지 않습니다.",
                              "Retaking mistakes: the review schedule is left as it is.")
                          .inline(lang), style="dim")
        session_id = store.start_session(mode=mode, seed=seed, lang=lang, planned=len(items),
                                         now=now)
        hooks = SessionHooks(store, scheduler, session_id, scheduled=mode == "review")
        summary = run_loop(items, console=console, ask=ask, lang=lang, hooks=hooks, mode=mode,
                           reveal=not opts.exam)
        with contextlib.suppress(KeyboardInterrupt):  # the answers are already stored
            store.finish_session(session_id, scheduler.now())
        show_summary(console, summary, lang, seed=seed)
        if mode == "review" and summary.answered:
            console.print()
            _next_review(console, store.next_due(), scheduler.now(), lang)


def with_fitted_parameters(settings: Settings, store: ProgressStore) -> Settings:
    """`settings` with the FSRS parameters `quiz optimize` stored, if any."""
    import json

    fitted = store.setting("fsrs_parameters")
    if fitted is None or settings.parameters is not None:
        return settings
    try:
        parameters = tuple(float(p) for p in json.loads(fitted))
    except (ValueError, TypeError):
        raise UserError("the fitted FSRS parameters in the progress database are unreadable: "
                        "run `dlgrade quiz optimize --reset`") from None
    return replace(settings, parameters=parameters)


def start_of_day(now: datetime) -> datetime:
    """Midnight of the learner's local day (the machine's zone), as UTC: daily limits reset."""
    local = now.astimezone()
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(now.tzinfo)


@dataclass
class _Answer:
    """The last answer to one shown item: its row, the card before, each rating's card."""

    answer_id: int
    before: Card | None
    outcomes: dict[Rating, Card] | None  # None: unscheduled
    result: Result
    rating: Rating | None


class SessionHooks:
    """Storage and scheduling for `run_loop`: every answer is stored before it is shown.

    Unscheduled sessions (exam, --mistakes) record answers and overrides but never touch a
    card. In a scheduled one, the card each rating would give is computed once per answer,
    so the interval shown is the interval given.
    """

    def __init__(self, store: ProgressStore, scheduler: QuizScheduler, session_id: int, *,
                 scheduled: bool):
        self.store = store
        self.scheduler = scheduler
        self.session_id = session_id
        self.scheduled = scheduled
        self._answers: dict[int, _Answer] = {}  # by id(item)

    @property
    def _leech_lapses(self) -> int:
        return self.scheduler.settings.leech_lapses

    def now(self) -> datetime:
        return self.scheduler.now()

    def record(self, item: Item, given: str, result: Result) -> Recorded | None:
        q = item.view.question
        now = self.scheduler.now()
        if not self.scheduled:
            recorded = self.store.record_answer(
                session_id=self.session_id, qid=q.id, topic=q.topic, given=given,
                score=result.score, correct=result.correct, now=now, card=None,
                kind="exam" if item.kind == "exam" else "retake")
            self._answers[id(item)] = _Answer(recorded.answer_id, None, None, result, None)
            return recorded
        before = self.store.card(q.id)
        outcomes = self.scheduler.outcomes(before or self.scheduler.new_card(q.id))
        rating = default_rating(result.correct)
        recorded = self.store.record_answer(
            session_id=self.session_id, qid=q.id, topic=q.topic, given=given, score=result.score,
            correct=result.correct, now=now, card=outcomes[rating], rating=int(rating),
            card_before=before, kind=item.kind if before is not None else "new",
            lapse=is_lapse(before, rating), leech_lapses=self._leech_lapses)
        self._answers[id(item)] = _Answer(recorded.answer_id, before, outcomes, result, rating)
        return recorded

    def ratings(self, item: Item) -> dict[Rating, timedelta] | None:
        outcomes = self._answers[id(item)].outcomes
        if outcomes is None:
            return None
        now = self.scheduler.now()
        return {r: card.due - now for r, card in outcomes.items()}

    def rate(self, item: Item, rating: Rating) -> bool:
        answer = self._answers[id(item)]
        assert answer.outcomes is not None
        answer.rating = rating
        return self.store.rerate(answer.answer_id, rating=int(rating),
                                 card=answer.outcomes[rating],
                                 lapse=is_lapse(answer.before, rating),
                                 correct=answer.result.correct, score=answer.result.score,
                                 leech_lapses=self._leech_lapses)

    def override(self, item: Item) -> bool:
        """"I was right": the answer counts as right (rated Good), the typed answer is kept."""
        answer = self._answers[id(item)]
        if answer.outcomes is None:
            self.store.mark_override(answer.answer_id)
        else:
            self.store.rerate(answer.answer_id, rating=int(Rating.Good),
                              card=answer.outcomes[Rating.Good], lapse=False, correct=True,
                              score=1.0, override=True, leech_lapses=self._leech_lapses)
            answer.rating = Rating.Good
        answer.result = replace(answer.result, correct=True, score=1.0)
        return True

    def undo(self, item: Item) -> None:
        answer = self._answers.pop(id(item))
        self.store.undo(answer.answer_id, leech_lapses=self._leech_lapses)

    def relearn_due(self, item: Item) -> datetime | None:
        """When a card rated Again is due again, if that is within the learn-ahead limit."""
        answer = self._answers.get(id(item))
        if answer is None or answer.outcomes is None or answer.rating != Rating.Again:
            return None
        qid = item.view.question.id
        if qid in self.store.suspended_ids():
            return None
        due = answer.outcomes[Rating.Again].due
        ahead = timedelta(minutes=self.scheduler.settings.learn_ahead_minutes)
        return due if due - self.scheduler.now() <= ahead else None


def _close(word: str, known: set[str]) -> str:
    import difflib

    near = difflib.get_close_matches(word, sorted(known), n=3)
    return f" (did you mean {', '.join(near)}?)" if near else ""


def _when(due: datetime, now: datetime, lang: Lang) -> str:
    minutes = max(0, round((due - now).total_seconds() / 60))
    if minutes < 60:
        return Msg(f"{minutes}분 후", f"in {minutes} min").inline(lang)
    if minutes < 48 * 60:
        hours = round(minutes / 60)
        return Msg(f"{hours}시간 후", f"in {hours} h").inline(lang)
    days = round(minutes / 1440)
    return Msg(f"{days}일 후", f"in {days} days").inline(lang)


def _next_review(console: Console, due: datetime | None, now: datetime, lang: Lang) -> None:
    if due is not None:
        console.print(Msg(f"다음 복습: {_when(due, now, 'ko')}",
                          f"Next review: {_when(due, now, 'en')}").inline(lang), style="dim")


def _nothing_due(console: Console, store: ProgressStore, now: datetime, lang: Lang,
                 settings: Settings) -> None:
    due = store.next_due()
    ko = f" 다음 복습: {_when(due, now, 'ko')}." if due else ""
    en = f" Next review: {_when(due, now, 'en')}." if due else ""
    day = start_of_day(now)
    if store.introduced_since(day) >= settings.new_per_day and store.due_ids(now) == []:
        console.print(Msg(f"오늘의 새 문제 {settings.new_per_day}개를 모두 풀었고 복습할 문제도 없습니다."
                          f"{ko} (하루 새 문제 수는 quiz.toml의 new_per_day)",
                          f"Today's {settings.new_per_day} new questions are done and nothing is "
                          f"due.{en} (new_per_day in quiz.toml sets the daily limit)")(lang))
        return
    if store.reviews_since(day) >= settings.reviews_per_day:
        console.print(Msg(f"오늘의 복습 한도 {settings.reviews_per_day}개에 도달했습니다.{ko}",
                          f"Today's review limit of {settings.reviews_per_day} is reached.{en}")
                      (lang))
        return
    console.print(Msg(f"지금 복습할 문제도, 새 문제도 없습니다.{ko}",
                      f"Nothing is due and every question has been seen.{en}")(lang))
