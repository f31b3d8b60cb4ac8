"""Checks a schema cannot make: questions that are valid but guessable, confusing or unfair.

Each check has a kind (for counting) and reads only the plain questions, so it runs on any
deck. `quiz validate` reports these next to the schema's problems; a deck that has them still
loads, since a learner's own imported deck should not be refused for its style.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from grader.quiz.model import (
    ChoiceQuestion,
    NumericQuestion,
    OrderQuestion,
    Question,
    ShortQuestion,
    TrueFalseQuestion,
)
from grader.quiz.numbers import ENGLISH_WORDS, KOREAN_POWERS, read_number
from grader.quiz.text import Bilingual, Text, variants


@dataclass(frozen=True)
class Finding:
    qid: str
    kind: str
    message: str


KINDS: dict[str, str] = {
    "skew": "the key of a one-answer choice question is by far its longest option",
    "longest-wins": "always picking the longest option scores far above chance over the bank",
    "count": "a 'select all' prompt says how many options are right",
    "unit": "a unit is not a {ko, en} pair, or carries a magnitude (billion, 억)",
    "numbers": "an explanation computes with numbers the question never gave",
    "verdict": "a true/false explanation opens with a verdict that reads as right/wrong",
    "parity": "the Korean and English texts give different numbers",
    "spelling": "British spelling in English text (the bank writes American English)",
    "same-pair": "a {ko, en} pair whose two texts are the same (write it once)",
}

# ------------------------------------------------------------------ option lengths

SKEW_RATIO = 1.25  # the key may be at most this much longer than the longest other option
SKEW_MIN_CHARS = 10  # ...and differences below this many characters are never skew
LONGEST_WINS_MAX = 0.40  # share of one-answer questions the longest-option strategy may win


def _lengths(q: ChoiceQuestion, lang: int) -> list[int]:
    return [len(variants(o)[min(lang, len(variants(o)) - 1)]) for o in q.options]


def check_skew(q: Question) -> Iterable[Finding]:
    if not isinstance(q, ChoiceQuestion) or len(q.answer) != 1:
        return
    key = q.answer[0]
    for lang, name in ((0, "ko"), (1, "en")):
        lengths = _lengths(q, lang)
        other = max(n for i, n in enumerate(lengths) if i != key)
        if lengths[key] > SKEW_RATIO * other and lengths[key] - other >= SKEW_MIN_CHARS:
            yield Finding(q.id, "skew", f"the key is {lengths[key]} characters long ({name}), "
                          f"the longest other option {other}: balance the options' lengths")
            return


def longest_wins(questions: Iterable[Question]) -> tuple[int, int]:
    """(questions the pick-the-longest strategy gets right in either language, questions)."""
    won = total = 0
    for q in questions:
        if isinstance(q, ChoiceQuestion) and len(q.answer) == 1:
            total += 1
            key = q.answer[0]
            for lang in (0, 1):
                lengths = _lengths(q, lang)
                if lengths[key] > max(n for i, n in enumerate(lengths) if i != key):
                    won += 1
                    break
    return won, total


# ------------------------------------------------------------------ count words

# In a "select all" prompt any count gives the answer's size away: "both", "the two areas",
# "all three", "두 분야", "세 가지", "둘 다", "3개".
_COUNT_EN = re.compile(r"\b(?:both|two|three|four|five|six|pair|couple)\b", re.IGNORECASE)
_COUNT_KO = re.compile(
    r"(?:둘|셋|넷)\s*(?:다|모두)|(?<![가-힣])(?:두|세|네|다섯|여섯)\s+[가-힣]"
    r"|\d\s*(?:개|가지)|(?<![가-힣])모두\s*(?:두|세|네|다섯)")


def check_count(q: Question) -> Iterable[Finding]:
    if not isinstance(q, ChoiceQuestion) or len(q.answer) < 2:
        return
    for text, pattern in ((q.prompt.en, _COUNT_EN), (q.prompt.ko, _COUNT_KO)):
        found = pattern.search(text)
        if found:
            yield Finding(q.id, "count", f"the prompt gives the number of right options away "
                          f"({found[0].strip()!r}): say 'select all that apply' only")
            return


# ------------------------------------------------------------------ units

_MAGNITUDE_UNIT = re.compile(
    rf"[{''.join(KOREAN_POWERS)}]|\b(?:{'|'.join(ENGLISH_WORDS)})s?\b", re.IGNORECASE)
_HANGUL = re.compile(r"[\uac00-\ud7a3\u3131-\u318e]")
_LATIN = re.compile(r"[A-Za-z]")


def check_unit(q: Question) -> Iterable[Finding]:
    if not isinstance(q, NumericQuestion) or q.unit is None:
        return
    unit = q.unit
    if isinstance(unit, str):
        if _HANGUL.search(unit) or _LATIN.search(unit):
            yield Finding(q.id, "unit", f"unit {unit!r} is one string for both languages: "
                          "write it as {ko: ..., en: ...}")
            return
    elif _HANGUL.search(unit.en) or _LATIN.search(unit.ko.replace("GPU", "")):
        yield Finding(q.id, "unit", f"unit mixes the languages (ko {unit.ko!r}, en {unit.en!r})")
        return
    for text in variants(unit):
        found = _MAGNITUDE_UNIT.search(text)
        if found:
            yield Finding(q.id, "unit", f"unit {text!r} carries a magnitude ({found[0]!r}): give "
                          "the answer in full (175000000000) with a plain unit; learners may "
                          "still type 175B or 1750억")
            return


# ------------------------------------------------------------------ numbers in explanations

_NUMBER = re.compile(r"(?<![A-Za-z0-9_.])-?\d+(?:[.,]\d+)*(?![A-Za-z0-9_])")
_OPERATORS = set("+−×·*/÷^")
# Small integers (factors of 2 in derivatives, counts) need no introduction.
_FREE = {str(k) for k in range(11)} | {"0.5"}


def _numbers(text: str) -> list[tuple[str, int, int]]:
    return [(m[0].replace(",", ""), m.start(), m.end()) for m in _NUMBER.finditer(text)]


def _question_numbers(q: Question) -> set[str]:
    texts: list[str] = [*variants(q.prompt)]
    if isinstance(q, ChoiceQuestion):
        texts += [v for o in q.options for v in variants(o)]
    if isinstance(q, OrderQuestion):
        texts += [v for o in q.items for v in variants(o)]
    if isinstance(q, NumericQuestion):
        texts += [repr(q.answer), str(q.answer), f"{q.answer:g}"]
    if isinstance(q, ShortQuestion):
        texts += list(q.answer)
    return {n for text in texts for n, _, _ in _numbers(text)}


def _value(number: str) -> float | None:
    try:
        return float(number)
    except ValueError:
        return None


def _key(value: float) -> str:
    return f"{round(value, 9):g}"


def _one_step(values: set[float]) -> set[str]:
    """Every number one arithmetic step away from `values` (sums, differences, products, ratios)."""
    out: set[str] = set()
    for a in values:
        for b in values:
            out.update((_key(a + b), _key(a - b), _key(a * b)))
            if b:
                out.add(_key(a / b))
    return out


def _is_operand(text: str, start: int, end: int) -> bool:
    """Whether the number at text[start:end] sits right next to an arithmetic operator."""
    before = text[:start].rstrip(" (")
    after = text[end:].lstrip(" )")
    if before[-1:] in _OPERATORS or after[:1] in _OPERATORS:
        return True
    # a hyphen is a minus only with a space or a digit on its left: "top-5" is a name
    return before.endswith((" -", " −")) or (len(before) >= 2 and before[-1] == "-"
                                             and before[-2].isdigit())


def check_numbers(q: Question) -> Iterable[Finding]:
    """Operands of the explanation's arithmetic must come from the question (or one step from it).

    Only calculations are checked: an explanation may well cite a year or an error rate for
    context, but a worked answer that computes with numbers the question never gave (and that
    no single step derives from them) was written for another version of the question.
    """
    for text in variants(q.explanation):
        found = _numbers(text)
        known = {v for n in _question_numbers(q) | _FREE if (v := _value(n)) is not None}
        for number, start, _ in found:  # results, wherever they are: "... = 34"
            if text[:start].rstrip(" (").endswith(("=", "≈")) and (v := _value(number)) is not None:
                known.add(v)
        allowed = {_key(v) for v in known} | _one_step(known)
        stray = [number for number, start, end in found
                 if _is_operand(text, start, end) and (v := _value(number)) is not None
                 and not (v.is_integer() and 1900 <= v <= 2100)  # a year ("2015 / 2014")
                 and _key(abs(v)) not in allowed and _key(v) not in allowed]
        if stray:
            yield Finding(q.id, "numbers", f"the explanation computes with {', '.join(stray)}, "
                          "which the question never gives")
            return


# ------------------------------------------------------------------ true/false verdicts

_VERDICT = re.compile(
    r"^\s*(?:틀렸습니다|틀립니다|틀려요|틀림|맞습니다|맞아요|맞음|정답입니다|오답입니다|정답|오답"
    r"|correct|incorrect|wrong|right|yes|no)\b[.!:,]?", re.IGNORECASE)


def check_verdict(q: Question) -> Iterable[Finding]:
    """'틀렸습니다.' right under '✔ 정답!' reads as "you are wrong": say what is false instead."""
    if not isinstance(q, TrueFalseQuestion):
        return
    for text in variants(q.explanation):
        found = _VERDICT.match(text)
        if found:
            fix = "거짓입니다. / False." if not q.answer else "참입니다. / True."
            yield Finding(q.id, "verdict", f"the explanation opens with {found[0].strip()!r}, "
                          f"which reads as a verdict on the learner: open with {fix!r}")
            return


# ------------------------------------------------------------------ ko/en parity


_EN_WORDS = {"zero": 0, "one": 1, "first": 1, "two": 2, "second": 2, "twice": 2, "three": 3,
             "third": 3, "four": 4, "fourth": 4, "five": 5, "six": 6, "ten": 10}
_EN_WORD = re.compile(r"\b(" + "|".join(_EN_WORDS) + r")\b", re.IGNORECASE)
_KO_MAGNITUDE = re.compile(r"(\d+(?:\.\d+)?)\s*([만억조])(?:\s*(\d+)\s*([천백]?만))?")


def _stated(text: str, english: bool) -> set[str]:
    """The numbers a text states, as values: digits, English number words, Korean 10만."""
    out = set()
    if not english:
        for m in _KO_MAGNITUDE.finditer(text):
            out.add(_key(float(read_number(m[0]).value)))
            text = text.replace(m[0], " ")
    out |= {_key(v) for n, _, _ in _numbers(text) if (v := _value(n)) is not None}
    if english:
        out |= {_key(_EN_WORDS[m[0].casefold()]) for m in _EN_WORD.finditer(text)}
    return out


def _plain_numbers(text: Text) -> list[list[str]]:
    ko, en = variants(text)
    # Korean writes "1등" where English writes "first", "0으로" where "zeroes": small numbers
    # written as words on one side only are not a difference.
    stated_ko, stated_en = _stated(ko, False), _stated(en, True)
    words = {_key(v) for v in _EN_WORDS.values()}
    return [sorted(stated_ko - (words - stated_en)),
            sorted(stated_en - (words - stated_ko))]


def check_parity(q: Question) -> Iterable[Finding]:
    texts: list[tuple[str, Text]] = [("prompt", q.prompt)]
    if isinstance(q, ChoiceQuestion):
        texts += [(f"option {i}", o) for i, o in enumerate(q.options)]
    if isinstance(q, OrderQuestion):
        texts += [(f"item {i}", o) for i, o in enumerate(q.items)]
    for where, text in texts:
        if not isinstance(text, Bilingual):
            continue
        ko, en = _plain_numbers(text)
        if ko != en:
            yield Finding(q.id, "parity", f"{where}: Korean gives {ko or 'no numbers'}, "
                          f"English {en or 'no numbers'}")
            return


# ------------------------------------------------------------------ spelling

BRITISH = {
    "colour": "color", "behaviour": "behavior", "neighbour": "neighbor", "centre": "center",
    "favour": "favor", "labelled": "labeled", "labelling": "labeling", "modelling": "modeling",
    "unlabelled": "unlabeled", "centred": "centered", "grey": "gray",
    "modelled": "modeled", "travelled": "traveled", "analyse": "analyze", "catalogue": "catalog",
}
_ISE = re.compile(r"\b(?:un|re|de|non)?(optimis|minimis|maximis|normalis|regularis|generalis|initialis|"
                  r"summaris|recognis|visualis|parameteris|standardis|characteris|realis|"
                  r"emphasis(?=e[ds]?\b)|utilis|stabilis|organis|penalis|vectoris)"
                  r"(e|es|ed|ing|ation|ations|er|ers)\b", re.IGNORECASE)
_BRITISH = re.compile(r"\b(" + "|".join(BRITISH) + r")s?\b", re.IGNORECASE)


def _english_texts(q: Question) -> list[str]:
    def en(t: Text) -> str:
        return t.en if isinstance(t, Bilingual) else t

    out = [q.prompt.en, en(q.explanation)]
    if isinstance(q, ChoiceQuestion):
        out += [en(o) for o in q.options]
    if isinstance(q, OrderQuestion):
        out += [en(o) for o in q.items]
    if isinstance(q, NumericQuestion) and q.unit is not None:
        out.append(en(q.unit))
    return out


def check_spelling(q: Question) -> Iterable[Finding]:
    """Aliases are exempt: a learner may type either spelling and both are accepted."""
    words: list[str] = []
    for text in _english_texts(q):
        words += [m[0] for m in _ISE.finditer(text)] + [m[0] for m in _BRITISH.finditer(text)]
    if words:
        yield Finding(q.id, "spelling", f"British spelling: {', '.join(sorted(set(words)))} "
                      "(write -ize, -or, -er, -eled)")


def check_same_pair(q: Question) -> Iterable[Finding]:
    texts: list[Text] = [q.prompt, q.explanation]
    if isinstance(q, ChoiceQuestion):
        texts += list(q.options)
    if isinstance(q, OrderQuestion):
        texts += list(q.items)
    same = [t.ko for t in texts if isinstance(t, Bilingual) and t.ko == t.en]
    if same:
        yield Finding(q.id, "same-pair", f"{same[0]!r} is written twice as {{ko, en}}: "
                      "one string serves both languages")


CHECKS: tuple[Callable[[Question], Iterable[Finding]], ...] = (
    check_skew, check_count, check_unit, check_numbers, check_verdict, check_parity,
    check_spelling, check_same_pair,
)


def lint(questions: Iterable[Question]) -> list[Finding]:
    """Every finding for `questions`, question by question, then the bank-wide ones."""
    questions = list(questions)
    found = [f for q in questions for check in CHECKS for f in check(q)]
    won, total = longest_wins(questions)
    if total >= 10 and won / total > LONGEST_WINS_MAX:
        found.append(Finding("-", "longest-wins", f"always picking the longest option wins {won} "
                             f"of {total} one-answer choice questions ({won / total:.0%}; at most "
                             f"{LONGEST_WINS_MAX:.0%} allowed)"))
    return found
