"""What a quiz session shows: questions, feedback, rating choices, the summary (Rich).

Every message exists in Korean and English (`UI`); nothing here reads input or stores
anything, so `loop.py` and the tests drive it with any Console.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from grader.quiz.engine import Presented, Result, shown
from grader.quiz.model import ChoiceQuestion, NumericQuestion, OrderQuestion, topic_name
from grader.quiz.scheduler import Rating, interval_text
from grader.quiz.text import Lang, Msg, tr, tr_block

if TYPE_CHECKING:
    from grader.quiz.loop import Item, Summary

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


RATING_NAMES: dict[Rating, Msg] = {
    Rating.Again: Msg("다시", "Again"), Rating.Hard: Msg("어려움", "Hard"),
    Rating.Good: Msg("알맞음", "Good"), Rating.Easy: Msg("쉬움", "Easy"),
}



def rating_line(choices: dict[Rating, timedelta], lang: Lang) -> str:
    parts = []
    for key, rating in (("1", Rating.Again), ("2", Rating.Hard), ("3", Rating.Good),
                        ("4", Rating.Easy)):
        name = RATING_NAMES[rating]
        label = f"{key} {name.ko} {name.en if lang == 'both' else ''}".rstrip() if lang != "en" \
            else f"{key} {name.en}"
        label = f"{label} {interval_text(choices[rating], lang)}"
        parts.append(f"[bold]{escape(label)}[/]" if rating == Rating.Good else escape(label))
    return "  " + " · ".join(parts)


def leech_notice(console: Console, item: Item, lang: Lang) -> None:
    console.print(f"[bold yellow]⚑ {escape(UI['leech'](lang))}[/] [dim]({item.view.question.id})[/]")



def show_question(console: Console, item: Item, number: int, total: int, lang: Lang) -> None:
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
        rows_block(console, [(f"{letter})", text) for letter, text in options], "bold cyan")
    keys = UI["keys_both"].ko if lang == "both" else UI["keys"](lang)
    console.print(f"[dim]{hint(item.view, lang)} · {keys}[/]")


def hint(view: Presented, lang: Lang) -> str:
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


def show_feedback(console: Console, result: Result, lang: Lang, *, echo: bool = False) -> None:
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
        rows_block(console, [(f"{UI['answer'].inline(lang)}:", result.expected)], "bold")
    text_block(console, result.explanation, indent=2, style="dim" if result.correct else "")


def rows_block(console: Console, rows: list[tuple[str, str]], label_style: str, indent: int = 2) -> None:
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


def text_block(console: Console, text: str, *, indent: int, style: str = "") -> None:
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
        rows_block(console, [(f"{UI['yours'].inline(lang)}:", o.result.given),
                        (f"{UI['answer'].inline(lang)}:", o.result.expected)], "bold", indent=4)
        text_block(console, o.result.explanation, indent=4, style="dim")


