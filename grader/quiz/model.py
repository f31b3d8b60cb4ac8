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


# Short names for people, in both languages (stats, summaries); a deck's own topics show as is.
TOPIC_NAMES: dict[str, tuple[str, str]] = {
    "components": ("딥러닝의 네 구성 요소", "key components"),
    "good-deep-learner": ("좋은 딥러너의 조건", "good deep learner"),
    "milestones": ("딥러닝의 이정표", "milestones"),
    "neural-networks": ("신경망", "neural networks"),
    "linear-collapse": ("선형 층의 붕괴", "linear collapse"),
    "activations": ("활성화 함수", "activations"),
    "universal-approximation": ("보편 근사 정리", "universal approximation"),
    "losses": ("손실 함수", "loss functions"),
    "l1-l2": ("L1과 L2 손실", "L1 vs L2"),
    "optimizers": ("최적화 알고리즘", "optimizers"),
    "regularization": ("규제(정규화)", "regularization"),
    "learning-paradigms": ("학습 패러다임", "learning paradigms"),
    "gradient-descent": ("경사하강법", "gradient descent"),
    "backprop-autodiff": ("역전파와 자동 미분", "backprop & autodiff"),
    "gpus": ("GPU", "GPUs"),
}


def topic_name(topic: str, lang: str) -> str:
    """A topic's name in `lang` ("both": Korean with the English after it)."""
    if topic not in TOPIC_NAMES:
        return topic
    ko, en = TOPIC_NAMES[topic]
    return ko if lang == "ko" else en if lang == "en" else f"{ko} ({en})"


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
