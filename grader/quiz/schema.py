"""The quiz bank's format as pydantic models: strict, unknown keys are errors.

Pydantic checks the shape of one question; `Question.problems()` checks what a shape cannot say
(an answer index past the options, duplicate options). Both report a path inside the question
(`("options", 2)`), which `bank.py` turns into a line of the YAML file.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainValidator

from grader.quiz.text import Bilingual, fold, variants

TOPICS: dict[str, str] = {
    "components": "the four key components: data, model, loss, algorithm",
    "good-deep-learner": "what makes a good deep learner",
    "milestones": "milestones 2012-2020, AlexNet to SimCLR",
    "neural-networks": "stacked affine + nonlinear maps, linear networks, MLPs",
    "linear-collapse": "why stacked linear layers collapse to one linear map",
    "activations": "ReLU, sigmoid, tanh and their ranges",
    "universal-approximation": "the theorem and its caution",
    "losses": "MSE, cross-entropy, MLE",
    "l1-l2": "L1 vs L2 and outliers",
    "optimizers": "SGD, momentum, NAG, Adagrad, Adadelta, RMSprop, Adam, schedules",
    "regularization": "dropout, weight decay, early stopping, augmentation, batch norm",
    "learning-paradigms": "supervised, unsupervised, reinforcement learning",
    "gradient-descent": "GD, SGD, learning rate, conditioning, normalization",
    "backprop-autodiff": "chain rule, backprop, automatic differentiation",
    "gpus": "why GPUs made 2012-2013 happen, GPU training",
}
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


class _QuestionBase(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, arbitrary_types_allowed=True)

    id: Annotated[str, Field(pattern=ID_PATTERN, max_length=80)]
    topic: Literal[tuple(TOPICS)]  # type: ignore[valid-type]
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


class ChoiceQuestion(_QuestionBase):
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
        return out + _distinct(list(self.options), "options")


class TrueFalseQuestion(_QuestionBase):
    type: Literal["true_false"]
    answer: bool


class NumericQuestion(_QuestionBase):
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


class OrderQuestion(_QuestionBase):
    type: Literal["order"]
    items: Annotated[list[Text], Field(min_length=3, max_length=8)]

    def problems(self) -> list[Problem]:
        return super().problems() + _distinct(list(self.items), "items")


class ShortQuestion(_QuestionBase):
    type: Literal["short"]
    answer: Annotated[list[NonEmpty], Field(min_length=1)]

    def problems(self) -> list[Problem]:
        out = super().problems()
        for i, alias in enumerate(self.answer):
            if not fold(alias):
                out.append((("answer", i), "alias is only spaces or dashes"))
        return out


Question = ChoiceQuestion | TrueFalseQuestion | NumericQuestion | OrderQuestion | ShortQuestion
QuestionField = Annotated[Question, Field(discriminator="type")]

MODELS: dict[str, type[_QuestionBase]] = {
    "choice": ChoiceQuestion,
    "true_false": TrueFalseQuestion,
    "numeric": NumericQuestion,
    "order": OrderQuestion,
    "short": ShortQuestion,
}

_VALUE_ERROR = re.compile(r"^(Value error|Assertion failed), ")


def parse_question(data: Any) -> tuple[Question | None, list[Problem]]:
    """Validate one question: the model, or None and every problem with its path."""
    from pydantic import ValidationError

    if not isinstance(data, dict):
        return None, [((), f"a question must be a mapping, got {type(data).__name__}")]
    qtype = data.get("type")
    if qtype is None:
        return None, [((), f"missing 'type' (one of: {', '.join(QUESTION_TYPES)})")]
    if qtype not in MODELS:
        return None, [(("type",), f"unknown type {qtype!r} (one of: {', '.join(QUESTION_TYPES)})")]
    model = MODELS[qtype]
    try:
        question = model.model_validate(data)
    except ValidationError as exc:
        return None, [_describe(err) for err in exc.errors(include_url=False)]
    problems = question.problems()
    return (None if problems else question), problems  # type: ignore[return-value]


def _describe(err: Any) -> Problem:
    loc: Path_ = tuple(err["loc"])
    where = ".".join(str(p) for p in loc)
    kind = err["type"]
    if kind == "extra_forbidden":
        return loc, f"unknown key {loc[-1]!r}"
    if kind == "missing":
        return loc, f"missing {loc[-1]!r}"
    if kind == "literal_error" and loc == ("topic",):
        return loc, f"unknown topic {err['input']!r} (one of: {', '.join(TOPICS)})"
    if kind == "string_pattern_mismatch" and loc == ("id",):
        return loc, f"id {err['input']!r} must be lowercase kebab-case (a-z, 0-9, -)"
    if kind == "string_pattern_mismatch" and loc[:1] == ("tags",):
        return loc, f"tag {err['input']!r} must be one lowercase word (a-z, 0-9, . + _ -)"
    msg = _VALUE_ERROR.sub("", err["msg"])
    return loc, f"{where}: {msg}" if where else msg
