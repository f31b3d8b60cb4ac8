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
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from grader.errors import UserError
from grader.quiz.bank import load_bank
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
from grader.quiz.model import TOPICS, ChoiceQuestion, NumericQuestion, OrderQuestion
from grader.quiz.scheduler import Clock, QuizScheduler, utc_now
from grader.quiz.store import ProgressStore
from grader.quiz.text import LANGS, Lang, Msg, latin_keys, tr, tr_block

Ask = Callable[[str], str]

UI = {
    "new": Msg("새 문제", "new"),
    "review": Msg("복습", "review"),
    "retake": Msg("다시 풀기", "retake"),
    "exam": Msg("시험", "exam"),
    "one": Msg("하나를 고르세요", "pick one"),
    "several": Msg("맞는 것을 모두 고르세요", "pick all that apply"),
    "order": Msg("맞는 순서로 글자를 입력하세요", "type the letters in the right order"),
    "number": Msg("숫자를 입력하세요", "type a number"),
    "tf": Msg("참(t) 또는 거짓(f)", "true (t) or false (f)"),
    "short": Msg("단어나 짧은 구로 답하세요", "answer with a word or a short phrase"),
    "keys": Msg("? 도움말 · s 건너뛰기 · q 그만", "? help · s skip · q quit"),
    "keys_both": Msg("? 도움말 help · s 건너뛰기 skip · q 그만 quit", ""),
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
        return [o for o in self.outcomes if o.result is not None]

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


def run_loop(items: Sequence[Item], *, console: Console, ask: Ask, lang: Lang,
             on_answer: Callable[[Item, str, Result], None], mode: str) -> Summary:
    """Ask every item; `on_answer` stores an answer before its feedback is shown."""
    summary = Summary(mode, len(items))
    try:
        for number, item in enumerate(items, 1):
            _show_question(console, item, number, len(items), lang)
            while True:
                raw = ask("[bold cyan]›[/] ")
                command = latin_keys(raw.strip().casefold())  # ㄴ is s, ㅂ is q
                if command == "?":
                    console.print(escape(help_text(item.view, lang)), style="cyan")
                    continue
                if command == "q":
                    summary.ended = "quit"
                    return summary
                if command == "s":
                    summary.outcomes.append(Outcome(item, None))
                    console.print(f"[dim]↷ {UI['skipped'].inline(lang)}[/]")
                    break
                try:
                    result = grade(item.view, raw, lang)
                except MalformedAnswer as exc:
                    console.print(f"[yellow]{escape(exc.msg(lang))}[/]")
                    continue
                on_answer(item, raw.strip(), result)
                summary.outcomes.append(Outcome(item, result))
                _show_feedback(console, result, lang,
                               echo=item.view.question.type == "true_false")
                break
    except (KeyboardInterrupt, EOFError):
        console.print()
        summary.ended = "interrupted"
    return summary


def _show_question(console: Console, item: Item, number: int, total: int, lang: Lang) -> None:
    q = item.view.question
    console.print()
    console.rule(f"[bold]{number}/{total}[/] · {q.topic} · {UI[item.kind].inline(lang)}",
                 align="left", style="blue")
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
    """Label + text rows; long text wraps under itself, not under the label."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style=label_style, no_wrap=True)
    grid.add_column()
    for label, text in rows:
        grid.add_row(label, Text(text))
    console.print(Padding(grid, (0, 0, 0, indent), expand=False))


def _block(console: Console, text: str, *, indent: int, style: str = "") -> None:
    console.print(Padding(Text(text, style=style), (0, 0, 0, indent), expand=False))


# ------------------------------------------------------------------ the summary


def show_summary(console: Console, summary: Summary, lang: Lang, *, seed: int | None = None) -> None:
    if summary.ended != "done":
        console.print(f"[yellow]{UI[summary.ended].inline(lang)}[/]")
    answered = summary.answered
    exam = summary.mode == "exam"
    out_of = summary.planned if exam else len(answered)
    console.print()
    console.rule(f"[bold]{UI['summary'].inline(lang)}[/]", style="blue")
    skipped = len(summary.outcomes) - len(answered)
    pct = f" ({summary.score / out_of:.0%})" if out_of else ""
    label = f"{UI['exam'].inline(lang)} (seed {seed})" if exam else UI["score"].inline(lang)
    score = f"{summary.score:.2f}".rstrip("0").rstrip(".")  # partial credit: 2.83, not 2.8333
    console.print(f"[bold]{label}: {score} / {out_of}{pct}[/]"
                  + (f"   [dim]{UI['skipped'].inline(lang)}: {skipped}[/]" if skipped else ""))
    if not answered:
        return
    table = Table(show_edge=False, box=None, padding=(0, 2, 0, 0))
    table.add_column(UI["topic"].inline(lang))
    table.add_column(UI["answered"].inline(lang), justify="right")
    table.add_column(UI["accuracy"].inline(lang), justify="right")
    for topic, (n, score) in summary.per_topic().items():
        style = "green" if score / n >= 0.8 else "yellow" if score / n >= 0.5 else "red"
        table.add_row(topic, str(n), f"[{style}]{score / n:.0%}[/]")
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
    for topic in opts.topics:
        if topic not in TOPICS:
            raise UserError(f"unknown topic {topic!r} (choose from: {', '.join(TOPICS)})")


def run_quiz(opts: QuizOptions, *, console: Console, ask: Ask, clock: Clock = utc_now,
             fuzz: bool = True) -> None:
    """Plan, ask, store and summarise one session."""
    check_options(opts)
    lang: Lang = opts.lang  # type: ignore[assignment]
    bank = load_bank(opts.bank)
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
    scheduler = QuizScheduler(clock, fuzz=fuzz)
    seed = opts.seed if opts.seed is not None else random.SystemRandom().randrange(10_000)
    mode = "exam" if opts.exam else "mistakes" if opts.mistakes else "review"

    with ProgressStore.open(opts.db) as store:
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
            plan = plan_review(pool, due=store.due_ids(now), seen=store.seen_ids(), n=opts.n,
                               seed=seed)
            if not plan:
                _nothing_due(console, store.next_due(), now, lang)
                return
        items = [Item(present(q, seed), kind) for q, kind in plan]
        if opts.exam:
            console.print(Msg(f"시험 seed {seed}: 같은 시험지를 다시 받으려면 --exam --seed {seed}",
                              f"Exam seed {seed}: rerun with --exam --seed {seed} for the same "
                              "paper").inline(lang), style="dim")
        session_id = store.start_session(mode=mode, seed=seed, lang=lang, planned=len(items),
                                         now=now)

        def on_answer(item: Item, given: str, result: Result) -> None:
            q = item.view.question
            card = None
            if not opts.exam:
                card = scheduler.review(store.card(q.id) or scheduler.new_card(q.id),
                                        result.correct)
            store.record_answer(session_id=session_id, qid=q.id, topic=q.topic, given=given,
                                score=result.score, correct=result.correct,
                                now=scheduler.now(), card=card)

        summary = run_loop(items, console=console, ask=ask, lang=lang, on_answer=on_answer,
                           mode=mode)
        with contextlib.suppress(KeyboardInterrupt):  # the answers are already stored
            store.finish_session(session_id, scheduler.now())
        show_summary(console, summary, lang, seed=seed)
        if not opts.exam and summary.answered:
            console.print()
            _next_review(console, store.next_due(), scheduler.now(), lang)


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


def _nothing_due(console: Console, due: datetime | None, now: datetime, lang: Lang) -> None:
    ko = f" 다음 복습: {_when(due, now, 'ko')}." if due else ""
    en = f" Next review: {_when(due, now, 'en')}." if due else ""
    console.print(Msg(f"지금 복습할 문제도, 새 문제도 없습니다.{ko}",
                      f"Nothing is due and every question has been seen.{en}")(lang))
