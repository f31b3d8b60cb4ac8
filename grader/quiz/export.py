"""Export the bank for other tools: GIFT (Moodle's import format) and CSV.

GIFT mapping, question by question:
- choice, one answer:      {=right ~wrong ~wrong}
- choice, several answers: {~%50%right ~%50%right ~%-100%wrong} (right weights sum to 100,
  wrong ones share -100, so guessing everything scores 0)
- true_false:              {T} / {F}
- numeric:                 {#answer:tolerance}
- short:                   {=alias =alias ...} (Moodle ignores case; spacing is not ignored)
- order:                   a matching question, each item matched to its position
                           {=AlexNet -> 1 =ResNet -> 2 ...}; Moodle has no ordering type in GIFT.
The explanation is the general feedback (####...). Each topic becomes a $CATEGORY.
"""

from __future__ import annotations

import csv
import html
from collections.abc import Iterable
from pathlib import Path

from grader.quiz.model import (
    ChoiceQuestion,
    NumericQuestion,
    OrderQuestion,
    Question,
    ShortQuestion,
    TrueFalseQuestion,
)
from grader.quiz.text import Bilingual, Lang, Text, tr

FORMATS = ("gift", "csv")
_GIFT_SPECIAL = "~=#{}:"


def gift_escape(text: str) -> str:
    """Backslash GIFT's special characters (and the backslash itself); newlines as \\n."""
    text = text.replace("\\", "\\\\")
    for ch in _GIFT_SPECIAL:
        text = text.replace(ch, "\\" + ch)
    return text.replace("\n", "\\n")


def _html(text: Text, lang: Lang) -> str:
    if isinstance(text, Bilingual) and lang == "both" and text.ko != text.en:
        return f"{html.escape(text.ko, quote=False)}<br>{html.escape(text.en, quote=False)}"
    return html.escape(tr(text, lang), quote=False)


def _g(text: Text, lang: Lang) -> str:
    """An option or item: HTML like the question text it belongs to, then GIFT-escaped."""
    return gift_escape(html.escape(tr(text, lang), quote=False))


def _weight(p: float) -> str:
    return f"{p:.5f}".rstrip("0").rstrip(".")


def _number(x: int | float) -> str:
    """Plain decimal notation: GIFT (Moodle) does not read 1.75e+11 as a number."""
    if isinstance(x, int):
        return str(x)
    from decimal import Decimal

    text = format(Decimal(repr(x)), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def gift_question(q: Question, lang: Lang = "both") -> str:
    """One question in GIFT."""
    head = f"::{gift_escape(q.id)}::[html]{gift_escape(_html(q.prompt, lang))}"
    feedback = f"####{gift_escape(_html(q.explanation, lang))}"
    if isinstance(q, ChoiceQuestion):
        if len(q.answer) == 1:
            answers = [("=" if i in q.answer else "~") + _g(o, lang) for i, o in enumerate(q.options)]
        else:
            right = 100 / len(q.answer)
            wrong = -100 / (len(q.options) - len(q.answer))
            answers = [f"~%{_weight(right if i in q.answer else wrong)}%{_g(o, lang)}"
                       for i, o in enumerate(q.options)]
        body = " ".join(answers)
    elif isinstance(q, TrueFalseQuestion):
        body = "T" if q.answer else "F"
    elif isinstance(q, NumericQuestion):
        body = f"#{_number(q.answer)}:{_number(q.tolerance)}"
    elif isinstance(q, ShortQuestion):
        body = " ".join("=" + gift_escape(a) for a in q.answer)
    elif isinstance(q, OrderQuestion):
        body = " ".join(f"={_g(item, lang)} -> {k}" for k, item in enumerate(q.items, 1))
    else:
        raise TypeError(type(q).__name__)
    comment = f"// {q.id} · {q.type} · tags: {', '.join(q.tags)}"
    return f"{comment}\n{head} {{{body} {feedback}}}\n"


def to_gift(questions: Iterable[Question], lang: Lang = "both") -> str:
    out: list[str] = []
    topic = None
    for q in sorted(questions, key=lambda q: (q.topic, q.id)):
        if q.topic != topic:
            topic = q.topic
            out.append(f"$CATEGORY: $course$/dlgrade/{topic}\n")
        out.append(gift_question(q, lang))
    return "\n".join(out)


def answer_text(q: Question) -> str:
    """The key as one cell: 'ko / en' where a text differs between the languages."""
    def both(t: Text) -> str:
        return t if isinstance(t, str) else (t.ko if t.ko == t.en else f"{t.ko} / {t.en}")

    if isinstance(q, ChoiceQuestion):
        return " | ".join(both(q.options[i]) for i in q.answer)
    if isinstance(q, TrueFalseQuestion):
        return "true" if q.answer else "false"
    if isinstance(q, NumericQuestion):
        unit = f" {both(q.unit)}" if q.unit is not None else ""
        tol = f" ± {_number(q.tolerance)}" if q.tolerance else ""
        return f"{_number(q.answer)}{tol}{unit}"
    if isinstance(q, OrderQuestion):
        return " → ".join(both(i) for i in q.items)
    return " | ".join(q.answer)


CSV_COLUMNS = ("id", "topic", "type", "ko", "en", "answer", "key", "options_ko", "options_en",
               "tolerance", "unit_ko", "unit_en", "explanation_ko", "explanation_en", "tags")


def _ko(t: Text) -> str:
    return t if isinstance(t, str) else t.ko


def _en(t: Text) -> str:
    return t if isinstance(t, str) else t.en


def csv_row(q: Question) -> dict[str, str]:
    """One question as a CSV row: `answer` for people, `key` and the rest for re-importing.

    List cells (options, order items, short-answer aliases) hold one entry per line.
    """
    texts = q.options if isinstance(q, ChoiceQuestion) else q.items if isinstance(q, OrderQuestion) \
        else ()
    if isinstance(q, ChoiceQuestion):
        key = ",".join(str(i) for i in q.answer)
    elif isinstance(q, TrueFalseQuestion):
        key = "true" if q.answer else "false"
    elif isinstance(q, NumericQuestion):
        key = _number(q.answer)
    elif isinstance(q, ShortQuestion):
        key = "\n".join(q.answer)
    else:
        key = ""  # an order question's items are written in their right order
    unit = q.unit if isinstance(q, NumericQuestion) else None
    return {
        "id": q.id, "topic": q.topic, "type": q.type, "ko": q.prompt.ko, "en": q.prompt.en,
        "answer": answer_text(q), "key": key,
        "options_ko": "\n".join(_ko(t) for t in texts),
        "options_en": "\n".join(_en(t) for t in texts),
        "tolerance": _number(q.tolerance) if isinstance(q, NumericQuestion) and q.tolerance else "",
        "unit_ko": _ko(unit) if unit is not None else "",
        "unit_en": _en(unit) if unit is not None else "",
        "explanation_ko": _ko(q.explanation), "explanation_en": _en(q.explanation),
        "tags": " ".join(q.tags),
    }


def write_csv(questions: Iterable[Question], out: Path) -> None:
    # utf-8-sig: spreadsheet programs then read the Korean correctly
    with out.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        for q in questions:
            writer.writerow(csv_row(q))


def export(questions: Iterable[Question], fmt: str, out: Path, lang: Lang = "both") -> int:
    """Write the questions to `out` in `fmt`; returns how many were written."""
    questions = list(questions)
    if fmt == "gift":
        out.write_text(to_gift(questions, lang), encoding="utf-8")
    elif fmt == "csv":
        write_csv(questions, out)
    else:
        raise ValueError(fmt)
    return len(questions)
