"""The quiz bank's format as pydantic models: strict, unknown keys are errors.

Pydantic checks the shape of one question; each spec's `problems()` checks what a shape cannot
say (an answer index past the options, duplicate options). Both report a path inside the
question (`("options", 2)`), which `bank.py` turns into a line of the YAML file. A valid spec
becomes a plain `model.py` question: only validation needs pydantic.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainValidator

from grader.quiz import model
from grader.quiz.model import TOPICS
from grader.quiz.text import Bilingual, fold, variants

__all__ = ["TOPICS", "QUESTION_TYPES", "parse_question"]
QUESTION_TYPES = ("choice", "true_false", "numeric", "order", "short")

ID_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
TAG_PATTERN = r"^[a-z0-9][a-z0-9.+_-]*$"

Path_ = tuple[str | int, ...]
Problem = tuple[Path_, str]


def _text(value: Any) -> str | Bilingual:
    """A plain string, or a mapping with exactly the keys `ko` and `en`."""
    if isinstance(value, str):
        if not value.strip():
            raise ValueError("text is empty")
        return value
    if isinstance(value, dict):
        keys = set(value)
        if keys != {"ko", "en"}:
            extra = ", ".join(sorted(map(str, keys - {"ko", "en"})))
            missing = ", ".join(sorted({"ko", "en"} - keys))
            detail = "; ".join(
                s for s in (missing and f"missing {missing}", extra and f"unknown key {extra}") if s
            )
            raise ValueError(f"a bilingual text needs exactly the keys ko and en ({detail})")
        for lang in ("ko", "en"):
            if not isinstance(value[lang], str) or not value[lang].strip():
                raise ValueError(f"{lang}: needs a non-empty string")
        return Bilingual(ko=value["ko"], en=value["en"])
    raise ValueError(f"expected a string or a {{ko: ..., en: ...}} mapping, got {type(value).__name__}")


def _bilingual(value: Any) -> Bilingual:
    """Prompts must exist in both languages."""
    if not isinstance(value, dict):
        raise ValueError("expected a {ko: ..., en: ...} mapping (a prompt needs both languages)")
    text = _text(value)
    assert isinstance(text, Bilingual)
    return text


Text = Annotated[str | Bilingual, PlainValidator(_text)]
BilingualText = Annotated[Bilingual, PlainValidator(_bilingual)]
def _number(value: Any) -> int | float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        hint = " (YAML reads 1.75e11 as a string: write 1.75e+11 or 175000000000)" \
            if isinstance(value, str) else ""
        raise ValueError(f"expected a number, got {value!r}{hint}")
    return value


NonEmpty = Annotated[str, Field(pattern=r"\S")]
Number = Annotated[int | float, PlainValidator(_number)]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, arbitrary_types_allowed=True)

    id: Annotated[str, Field(pattern=ID_PATTERN, max_length=80)]
    # any kebab-case topic: the bundled bank uses model.TOPICS, a learner's own deck its own
    topic: Annotated[str, Field(pattern=ID_PATTERN, max_length=60)]
    tags: Annotated[list[Annotated[str, Field(pattern=TAG_PATTERN)]], Field(min_length=1)]
    prompt: BilingualText
    explanation: Text

    def problems(self) -> list[Problem]:
        seen: set[str] = set()
        out: list[Problem] = []
        for i, tag in enumerate(self.tags):
            if tag in seen:
                out.append((("tags", i), f"duplicate tag {tag!r}"))
            seen.add(tag)
        return out

    def to_question(self) -> model.Question:
        """The plain question, with lists frozen into tuples."""
        cls = model.BY_TYPE[self.type]  # type: ignore[attr-defined]
        fields = {name: tuple(v) if isinstance(v, list) else v
                  for name, v in self if name != "type"}
        return cls(**fields)


def _distinct(texts: list[str | Bilingual], field: str) -> list[Problem]:
    out: list[Problem] = []
    seen: dict[str, int] = {}
    for i, text in enumerate(texts):
        for v in variants(text):
            key = fold(v)
            if key in seen and seen[key] != i:
                out.append(((field, i), f"{field} {i} repeats {field} {seen[key]} ({v!r})"))
            seen.setdefault(key, i)
    return out


# Options are shown shuffled, so "the second option" in an explanation points at a random one.
_POSITIONAL = re.compile(
    r"(첫|두|세|네|다섯|여섯|마지막)\s?번째\s?보기|마지막\s?보기|보기\s?\(?[a-f1-6]\)?(?![\w])"
    r"|\b(first|second|third|fourth|fifth|sixth|last)\s+(option|choice|answer)\b"
    r"|\b(option|choice)\s+\(?[a-f1-6]\)?(?!\w)", re.IGNORECASE)


class ChoiceSpec(_Spec):
    type: Literal["choice"]
    options: Annotated[list[Text], Field(min_length=2, max_length=6)]
    answer: Annotated[list[int], Field(min_length=1)]

    def problems(self) -> list[Problem]:
        out = super().problems()
        for i, index in enumerate(self.answer):
            if not 0 <= index < len(self.options):
                out.append(
                    (("answer", i), f"answer index {index} is out of range: "
                     f"{len(self.options)} options are indexed 0..{len(self.options) - 1}")
                )
        if len(set(self.answer)) != len(self.answer):
            out.append((("answer",), "answer lists the same index twice"))
        for lang, text in zip(("ko", "en"), variants(self.explanation), strict=False):
            found = _POSITIONAL.search(text)
            if found:
                where = ("explanation", lang) if not isinstance(self.explanation, str) else ("explanation",)
                out.append((where, f"explanation names an option by its position ({found[0]!r}), "
                                   "but options are shown shuffled: name the option instead"))
        return out + _distinct(list(self.options), "options")


class TrueFalseSpec(_Spec):
    type: Literal["true_false"]
    answer: bool


class NumericSpec(_Spec):
    type: Literal["numeric"]
    answer: Number
    tolerance: Number = 0
    unit: Text | None = None

    def problems(self) -> list[Problem]:
        out = super().problems()
        for field in ("answer", "tolerance"):
            if not math.isfinite(getattr(self, field)):
                out.append(((field,), f"{field} must be a finite number"))
        if self.tolerance < 0:
            out.append((("tolerance",), f"tolerance must be >= 0, got {self.tolerance}"))
        return out


class OrderSpec(_Spec):
    type: Literal["order"]
    items: Annotated[list[Text], Field(min_length=3, max_length=8)]

    def problems(self) -> list[Problem]:
        return super().problems() + _distinct(list(self.items), "items")


class ShortSpec(_Spec):
    type: Literal["short"]
    answer: Annotated[list[NonEmpty], Field(min_length=1)]

    def problems(self) -> list[Problem]:
        out = super().problems()
        for i, alias in enumerate(self.answer):
            if not fold(alias):
                out.append((("answer", i), "alias is only spaces or dashes"))
        return out


SPECS: dict[str, type[_Spec]] = {
    "choice": ChoiceSpec,
    "true_false": TrueFalseSpec,
    "numeric": NumericSpec,
    "order": OrderSpec,
    "short": ShortSpec,
}

_VALUE_ERROR = re.compile(r"^(Value error|Assertion failed), ")


def parse_question(data: Any) -> tuple[model.Question | None, list[Problem]]:
    """Validate one question: the question, or None and every problem with its path."""
    from pydantic import ValidationError

    if not isinstance(data, dict):
        return None, [((), f"a question must be a mapping, got {type(data).__name__}")]
    qtype = data.get("type")
    if qtype is None:
        return None, [((), f"missing 'type' (one of: {', '.join(QUESTION_TYPES)})")]
    if qtype not in SPECS:
        return None, [(("type",), f"unknown type {qtype!r} (one of: {', '.join(QUESTION_TYPES)})")]
    try:
        spec = SPECS[qtype].model_validate(data)
    except ValidationError as exc:
        return None, [_describe(err) for err in exc.errors(include_url=False)]
    problems = spec.problems()
    return (None if problems else spec.to_question()), problems


def _describe(err: Any) -> Problem:
    loc: Path_ = tuple(err["loc"])
    where = ".".join(str(p) for p in loc)
    kind = err["type"]
    if kind == "extra_forbidden":
        return loc, f"unknown key {loc[-1]!r}"
    if kind == "missing":
        return loc, f"missing {loc[-1]!r}"
    if kind == "string_pattern_mismatch" and loc == ("topic",):
        return loc, f"topic {err['input']!r} must be lowercase kebab-case (a-z, 0-9, -)"
    if kind == "string_pattern_mismatch" and loc == ("id",):
        return loc, f"id {err['input']!r} must be lowercase kebab-case (a-z, 0-9, -)"
    if kind == "string_pattern_mismatch" and loc[:1] == ("tags",):
        return loc, f"tag {err['input']!r} must be one lowercase word (a-z, 0-9, . + _ -)"
    msg = _VALUE_ERROR.sub("", err["msg"])
    return loc, f"{where}: {msg}" if where else msg
