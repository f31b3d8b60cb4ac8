"""Questions as the engine uses them: plain frozen dataclasses.

`schema.py` validates the YAML with pydantic and builds these; a bank read back from the
cache builds them directly, so a quiz starts without importing pydantic or yaml at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from grader.quiz.text import Bilingual, Text

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


@dataclass(frozen=True)
class _Question:
    id: str
    topic: str
    tags: tuple[str, ...]
    prompt: Bilingual
    explanation: Text


@dataclass(frozen=True)
class ChoiceQuestion(_Question):
    type: ClassVar[str] = "choice"
    options: tuple[Text, ...]
    answer: tuple[int, ...]  # indices into options; several means exactly that set


@dataclass(frozen=True)
class TrueFalseQuestion(_Question):
    type: ClassVar[str] = "true_false"
    answer: bool


@dataclass(frozen=True)
class NumericQuestion(_Question):
    type: ClassVar[str] = "numeric"
    answer: int | float
    tolerance: int | float = 0  # absolute: [answer - tolerance, answer + tolerance] is right
    unit: Text | None = None


@dataclass(frozen=True)
class OrderQuestion(_Question):
    type: ClassVar[str] = "order"
    items: tuple[Text, ...]  # in the right order


@dataclass(frozen=True)
class ShortQuestion(_Question):
    type: ClassVar[str] = "short"
    answer: tuple[str, ...]  # accepted aliases


Question = ChoiceQuestion | TrueFalseQuestion | NumericQuestion | OrderQuestion | ShortQuestion

BY_TYPE: dict[str, type[Question]] = {
    cls.type: cls  # type: ignore[misc]
    for cls in (ChoiceQuestion, TrueFalseQuestion, NumericQuestion, OrderQuestion, ShortQuestion)
}
