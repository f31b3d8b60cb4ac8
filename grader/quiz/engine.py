"""The pure quiz engine: a question as shown + the raw answer typed -> a Result.

No I/O, no clock, no randomness of its own: shuffles come from a seed, so a session (and an
exam paper) is the same every time it is built from the same seed.

Answers are read generously: letters (`a`, `a,c`, `ac`), 1-based numbers, or the text itself.
An answer that cannot be read (a letter past the options, an empty line) raises
`MalformedAnswer`; the session asks again instead of counting it wrong.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from grader.quiz.model import (
    ChoiceQuestion,
    NumericQuestion,
    OrderQuestion,
    Question,
    ShortQuestion,
    TrueFalseQuestion,
)
from grader.quiz.numbers import NotANumber, read_number
from grader.quiz.text import (
    Lang,
    Msg,
    answer_form,
    fold,
    latin_keys,
    squash,
    tr,
    tr_block,
    variants,
)

LETTERS = "abcdefgh"
_SEPARATORS = re.compile(r"[\s,;/|+]+")

_TRUE = {"t", "true", "o", "y", "yes", "1", "예", "네", "참", "맞음", "맞다", "○", "◯"}
_FALSE = {"f", "false", "x", "n", "no", "0", "아니오", "아니요", "거짓", "틀림", "틀리다", "×", "✕"}


class MalformedAnswer(ValueError):
    """The answer could not be read; ask again (it is not a wrong answer)."""

    def __init__(self, msg: Msg):
        super().__init__(msg.en)
        self.msg = msg


@dataclass(frozen=True)
class Presented:
    """A question as the learner sees it: `order[k]` is the original index shown at letter k."""

    question: Question
    order: tuple[int, ...] = ()

    @property
    def letters(self) -> str:
        return LETTERS[: len(self.order)]


@dataclass(frozen=True)
class Result:
    score: float  # 0..1; only `order` gives partial credit
    correct: bool
    expected: str  # the correct answer, rendered for the learner
    explanation: str
    given: str  # the answer as understood, rendered
    detail: str = ""  # e.g. "5 of 6 pairs in the right order"


def present(question: Question, seed: int | str) -> Presented:
    """Shuffle options or items with a generator seeded by (seed, id): stable for one seed."""
    rng = random.Random(f"{seed}:{question.id}")
    if isinstance(question, ChoiceQuestion):
        order = list(range(len(question.options)))
        rng.shuffle(order)
        return Presented(question, tuple(order))
    if isinstance(question, OrderQuestion):
        order = list(range(len(question.items)))
        while True:  # never show a timeline already in its right order
            rng.shuffle(order)
            if order != sorted(order):
                break
        return Presented(question, tuple(order))
    return Presented(question)


def shown(view: Presented, lang: Lang) -> list[tuple[str, str]]:
    """The (letter, text) lines of a choice or order question, in display order."""
    q = view.question
    texts = q.options if isinstance(q, ChoiceQuestion) else q.items if isinstance(q, OrderQuestion) else []
    return [(LETTERS[k], tr(texts[i], lang)) for k, i in enumerate(view.order)]


# ------------------------------------------------------------------ parsing


def _positions(view: Presented, raw: str, what: Msg) -> list[int]:
    """Display positions from letters (`cab`, `c,a,b`) or 1-based numbers (`3 1 2`)."""
    n = len(view.order)
    tokens = [t for t in _SEPARATORS.split(squash(latin_keys(raw))) if t]
    out: list[int] = []
    for token in tokens:
        if token.isascii() and token.isdigit():
            if 1 <= int(token) <= n:
                out.append(int(token) - 1)
            elif n <= 9 and all(1 <= int(c) <= n for c in token):
                out.extend(int(c) - 1 for c in token)
            else:
                raise MalformedAnswer(what)
        elif token.isascii() and token.isalpha() and all(c in LETTERS[:n] for c in token):
            out.extend(LETTERS.index(c) for c in token)
        else:
            raise MalformedAnswer(what)
    if not out:
        raise MalformedAnswer(what)
    return out


def parse_choice(view: Presented, raw: str) -> frozenset[int]:
    """Original option indices picked: an option's own text first, then letters or numbers."""
    q = view.question
    assert isinstance(q, ChoiceQuestion)
    typed = fold(raw)
    looks_like_letters = typed.isascii() and typed.isalpha() and set(typed) <= set(view.letters)
    for i, option in enumerate(q.options):
        if typed and not looks_like_letters and any(fold(v) == typed for v in variants(option)):
            return frozenset({i})
    last = view.letters[-1]
    several = len(q.answer) > 1
    what = Msg(
        f"a–{last} 중 글자를 입력하세요" + (" (여러 개: a,c)" if several else "") + ", 번호나 보기의 글자 그대로도 됩니다.",
        f"Type a letter a–{last}" + (" (several: a,c)" if several else "")
        + ", a number, or the option's text.",
    )
    picked = frozenset(view.order[k] for k in _positions(view, raw, what))
    if not several and len(picked) > 1:
        raise MalformedAnswer(Msg("답은 하나입니다: 글자 하나만 입력하세요.",
                                  "This question has one answer: type one letter."))
    return picked


def parse_true_false(raw: str) -> bool:
    word = squash(latin_keys(raw.strip().rstrip(".!")))
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise MalformedAnswer(Msg("참이면 t (o, 예, 1), 거짓이면 f (x, 아니오, 0)를 입력하세요.",
                              "Type t (true, o, 1) or f (false, x, 0)."))


# How far a number typed without a magnitude may be off by one: 175 for 175 billion.
_DROPPED_SCALES = (3, 4, 6, 8, 9, 12)


def parse_number(view: Presented, raw: str) -> Decimal:
    """A number as `numbers.read_number` reads it; any unit after it is ignored.

    A bare number that is the key without its magnitude (175 where 1.75e11 is asked) is
    ambiguous, not wrong: the learner is asked to say how big it is.
    """
    q = view.question
    assert isinstance(q, NumericQuestion)
    try:
        reading = read_number(raw)
    except NotANumber:
        raise MalformedAnswer(Msg("숫자를 입력하세요 (예: 2012, 0.5, 1750억, 175B, 1.75e11).",
                                  "Type a number (e.g. 2012, 0.5, 175B, 175 billion, 1.75e11).")) \
            from None
    key = _decimal(q.answer)
    if not reading.scaled and reading.value and abs(key) >= 10_000 \
            and not _within(reading.value, q) \
            and any(_within(reading.value.scaleb(p), q) for p in _DROPPED_SCALES):
        raise MalformedAnswer(Msg(
            f"{_plain(reading.value)}의 단위를 붙여 주세요: 예를 들어 {_plain(reading.value)}억, "
            f"{_plain(reading.value)}만, 또는 {_plain(reading.value)}B.",
            f"{_plain(reading.value)} what? Add the magnitude, e.g. {_plain(reading.value)}B, "
            f"{_plain(reading.value)} million or {_plain(reading.value)}e9."))
    return reading.value


def _within(value: Decimal, q: NumericQuestion) -> bool:
    return abs(value - _decimal(q.answer)) <= _decimal(q.tolerance)


def parse_order(view: Presented, raw: str) -> list[int]:
    """Original item indices in the order the learner put them."""
    n = len(view.order)
    last = view.letters[-1]
    what = Msg(f"a–{last} 글자 {n}개를 모두 한 번씩, 맞다고 생각하는 순서로 입력하세요 (예: {view.letters[::-1]}).",
               f"Type all {n} letters a–{last}, each once, in the order you think right "
               f"(e.g. {view.letters[::-1]}).")
    positions = _positions(view, raw, what)
    if sorted(positions) != list(range(n)):
        raise MalformedAnswer(what)
    return [view.order[k] for k in positions]


def parse_short(raw: str) -> str:
    if not answer_form(raw):
        raise MalformedAnswer(Msg("답을 입력하세요.", "Type an answer."))
    return raw.strip()


# ------------------------------------------------------------------ grading


def grade(view: Presented, raw: str, lang: Lang = "both") -> Result:
    """Score `raw` against the key. Raises MalformedAnswer when `raw` cannot be read."""
    q = view.question
    explanation = tr_block(q.explanation, lang)
    if isinstance(q, ChoiceQuestion):
        picked = parse_choice(view, raw)
        right = picked == frozenset(q.answer)
        return Result(float(right), right, _options(view, q.answer, lang), explanation,
                      _options(view, sorted(picked), lang))
    if isinstance(q, TrueFalseQuestion):
        said = parse_true_false(raw)
        right = said == q.answer
        return Result(float(right), right, _bool(q.answer, lang), explanation, _bool(said, lang))
    if isinstance(q, NumericQuestion):
        value = parse_number(view, raw)
        right = _within(value, q)
        return Result(float(right), right, _number(q, lang), explanation, _plain(value))
    if isinstance(q, OrderQuestion):
        sequence = parse_order(view, raw)
        good, total = concordant_pairs(sequence)
        score = good / total
        return Result(score, good == total, _sequence(view, range(len(q.items)), lang), explanation,
                      _sequence(view, sequence, lang),
                      Msg(f"{total}쌍 중 {good}쌍의 순서가 맞음",
                          f"{good} of {total} pairs in the right order").inline(lang)
                      if good != total else "")
    if isinstance(q, ShortQuestion):
        said = parse_short(raw)
        right = answer_form(said) in {answer_form(a) for a in q.answer}
        return Result(float(right), right, _aliases(q, lang), explanation, said)
    raise TypeError(f"unknown question type {type(q).__name__}")


def concordant_pairs(sequence: Sequence[int]) -> tuple[int, int]:
    """(pairs in the right relative order, all pairs) of a permutation of 0..n-1."""
    n = len(sequence)
    good = sum(sequence[i] < sequence[j] for i in range(n) for j in range(i + 1, n))
    return good, n * (n - 1) // 2


def key_answer(view: Presented) -> str:
    """What a learner who knows the answer would type (for tests and the exported key)."""
    q = view.question
    if isinstance(q, ChoiceQuestion):
        return ",".join(LETTERS[view.order.index(i)] for i in q.answer)
    if isinstance(q, TrueFalseQuestion):
        return "t" if q.answer else "f"
    if isinstance(q, NumericQuestion):
        return str(q.answer)
    if isinstance(q, OrderQuestion):
        return "".join(LETTERS[view.order.index(i)] for i in range(len(q.items)))
    return q.answer[0]


def _decimal(x: int | float) -> Decimal:
    # repr is the shortest string that round-trips: 0.1 -> Decimal("0.1"), exact at the bound
    return Decimal(repr(x))


def _plain(value: Decimal) -> str:
    if value == value.to_integral_value() and abs(value) < Decimal("1e16"):
        return f"{int(value):,}"
    return format(value.normalize(), "f") if abs(value.adjusted()) < 16 else str(value)


def _number(q: NumericQuestion, lang: Lang) -> str:
    text = _plain(_decimal(q.answer))
    if q.tolerance:
        text += f" ± {_plain(_decimal(q.tolerance))}"
    if q.unit is not None:
        text += f" {tr(q.unit, lang)}"
    return text


def _options(view: Presented, indices: Iterable[int], lang: Lang) -> str:
    q = view.question
    assert isinstance(q, ChoiceQuestion)
    ordered = sorted(indices, key=view.order.index)
    return ", ".join(f"{LETTERS[view.order.index(i)]}) {tr(q.options[i], lang)}" for i in ordered)


def _sequence(view: Presented, indices: Iterable[int], lang: Lang) -> str:
    q = view.question
    assert isinstance(q, OrderQuestion)
    indices = list(indices)
    letters = "".join(LETTERS[view.order.index(i)] for i in indices)
    return f"{letters}: " + " → ".join(tr(q.items[i], lang) for i in indices)


def _bool(value: bool, lang: Lang) -> str:
    return Msg("참 (t)" if value else "거짓 (f)", "true (t)" if value else "false (f)").inline(lang)


def _aliases(q: ShortQuestion, lang: Lang, shown: int = 4) -> str:
    """The first alias, then a few others: enough to see what else counts, not a wall."""
    aliases = list(q.answer)
    if lang == "ko":  # a Korean learner sees a Korean alias first, where there is one
        aliases.sort(key=lambda a: not any("\uac00" <= c <= "\ud7a3" for c in a))
    first, *rest = aliases
    if not rest:
        return first
    more = ", ".join(rest[:shown]) + (", …" if len(rest) > shown else "")
    return f"{first}  ({Msg('다른 정답', 'also').inline(lang)}: {more})"


def help_text(view: Presented, lang: Lang) -> str:
    """What to type for this kind of question, plus the commands."""
    q = view.question
    if isinstance(q, ChoiceQuestion):
        last = view.letters[-1]
        if len(q.answer) > 1:
            msg = Msg(f"맞는 보기를 모두 고르세요: 글자를 이어서(ac) 또는 쉼표로(a,c) 입력합니다 (a–{last}, 번호 1–{len(q.options)}도 가능).",
                      f"Pick every right option: letters together (ac) or with commas (a,c), "
                      f"a–{last} (numbers 1–{len(q.options)} work too).")
        else:
            msg = Msg(f"보기 하나를 고르세요: 글자(a–{last}), 번호(1–{len(q.options)}) 또는 보기의 글자 그대로.",
                      f"Pick one option: its letter (a–{last}), its number (1–{len(q.options)}) "
                      "or its text.")
    elif isinstance(q, TrueFalseQuestion):
        msg = Msg("참이면 t / o / 예 / 1, 거짓이면 f / x / 아니오 / 0.",
                  "True: t / true / o / 1.  False: f / false / x / 0.")
    elif isinstance(q, NumericQuestion):
        unit = f" ({tr(q.unit, 'ko')})" if q.unit is not None else ""
        unit_en = f" (in {tr(q.unit, 'en')})" if q.unit is not None else ""
        msg = Msg(f"숫자를 입력하세요{unit}: 2012, 2012년, 0.5, 175,000,000,000, 1.75e11, "
                  "1.75 × 10^11, 1750억, 175B 모두 됩니다. 단위는 적어도 되고 안 적어도 됩니다.",
                  f"Type a number{unit_en}: 2012, 0.5, 175,000,000,000, 1.75e11, 1.75 × 10^11, "
                  "175B and 175 billion all work; the unit may be typed or left out.")
    elif isinstance(q, OrderQuestion):
        msg = Msg(f"모든 글자를 맞는 순서로 입력하세요 (예: {view.letters[::-1]} 또는 {','.join(view.letters[::-1])}). "
                  "순서가 맞는 쌍마다 부분 점수를 받습니다.",
                  f"Type every letter in the right order (e.g. {view.letters[::-1]} or "
                  f"{','.join(view.letters[::-1])}). Each pair in the right order earns partial credit.")
    else:
        msg = Msg("단어나 짧은 구를 입력하세요. 한국어와 영어 모두 되며 대소문자, 띄어쓰기, 하이픈, "
                  "따옴표, 끝의 마침표, 관사(the, a), 끝의 \"손실\"/\"loss\"는 무시합니다.",
                  "Type a word or a short phrase, in Korean or English; case, spaces, hyphens, "
                  "quotes, a final full stop, articles (the, a) and a trailing \"loss\" are "
                  "ignored.")
    commands = Msg("s: 건너뛰기   u: 마지막 답 되돌리기   q: 그만하기 (요약을 보여 줍니다)   ?: 도움말",
                   "s: skip   u: undo the last answer   q: quit (shows the summary)   ?: this help")
    return f"{msg(lang)}\n{commands(lang)}"


# ------------------------------------------------------------------ sessions


def select(questions: Iterable[Question], topics: Sequence[str] = (),
           tags: Sequence[str] = ()) -> list[Question]:
    """Questions in any of `topics` (all if none) that carry any of `tags` (all if none)."""
    return [q for q in questions
            if (not topics or q.topic in topics) and (not tags or set(tags) & set(q.tags))]


def plan_review(pool: Sequence[Question], *, due: Sequence[str], seen: set[str], n: int,
                seed: int, new_limit: int | None = None, review_limit: int | None = None,
                skip: set[str] = frozenset()) -> list[tuple[Question, str]]:
    """Due reviews first (most overdue first), then unseen questions in a seeded order.

    `review_limit` and `new_limit` are what is left of the day's limits; `skip` holds
    questions that must not be asked (suspended leeches).
    """
    by_id = {q.id: q for q in pool}
    reviews = [(by_id[qid], "review") for qid in due if qid in by_id and qid not in skip]
    if review_limit is not None:
        reviews = reviews[:max(0, review_limit)]
    fresh = sorted((q for q in pool if q.id not in seen and q.id not in skip), key=lambda q: q.id)
    random.Random(seed).shuffle(fresh)
    if new_limit is not None:
        fresh = fresh[:max(0, new_limit)]
    return (reviews + [(q, "new") for q in fresh])[:n]


def plan_retake(pool: Sequence[Question], mistakes: Sequence[str], n: int) -> list[tuple[Question, str]]:
    by_id = {q.id: q for q in pool}
    return [(by_id[qid], "retake") for qid in mistakes if qid in by_id][:n]


def plan_exam(pool: Sequence[Question], *, n: int, seed: int) -> list[tuple[Question, str]]:
    """A fixed paper: the same seed and bank give the same questions in the same order."""
    ordered = sorted(pool, key=lambda q: q.id)
    return [(q, "exam") for q in random.Random(seed).sample(ordered, min(n, len(ordered)))]
