"""`quiz validate`'s content checks: each catches a constructed bad question; the bank is clean."""

from __future__ import annotations

import pytest

from grader.quiz.bank import audit_bank
from grader.quiz.lint import KINDS, lint
from grader.quiz.schema import parse_question

BASE = {"id": "q-bad", "topic": "milestones", "tags": ["t"],
        "prompt": {"ko": "질문", "en": "question"}, "explanation": {"ko": "해설", "en": "why"}}


def make(**fields):
    question, problems = parse_question({**BASE, **fields})
    assert not problems, problems
    return question


def kinds(*questions):
    return {f.kind for f in lint(questions)}


SKEWED = dict(type="choice", answer=[0], options=[
    {"ko": "기울기 제곱을 끝없이 더하기만 해서 학습이 길어지면 실질 학습률이 0에 가까워진다",
     "en": "It keeps adding squared gradients forever, so the effective learning rate goes to 0"},
    {"ko": "학습률이 같다", "en": "Same learning rate"},
    {"ko": "부호를 무시한다", "en": "Ignores the sign"},
    {"ko": "메모리가 없다", "en": "No memory"}])


@pytest.mark.parametrize(("kind", "fields"), [
    ("skew", SKEWED),
    ("count", dict(type="choice", answer=[0, 1], options=["a1", "b2", "c3"],
                   prompt={"ko": "맞는 것을 모두 고르세요.", "en": "Select both right answers."})),
    ("count", dict(type="choice", answer=[0, 1], options=["a1", "b2", "c3"],
                   prompt={"ko": "맞는 두 가지를 고르세요.", "en": "Select every right answer."})),
    ("count", dict(type="choice", answer=[0, 1, 2], options=["a1", "b2", "c3", "d4"],
                   prompt={"ko": "고르세요.", "en": "Select all three components."})),
    ("count", dict(type="choice", answer=[0, 1], options=["a1", "b2", "c3"],
                   prompt={"ko": "필요한 두 분야를 고르세요.", "en": "Select every area."})),
    ("unit", dict(type="numeric", answer=152, unit="layers / 층")),
    ("unit", dict(type="numeric", answer=175, unit={"ko": "10억 개", "en": "billion"})),
    ("numbers", dict(type="numeric", answer=34,  # an explanation written for an outlier of 20
                     prompt={"ko": "오차가 1, −1, 10일 때 MSE는?",
                             "en": "What is the MSE of the errors 1, −1 and 10?"},
                     explanation={"ko": "(1 + 1 + 400) / 3 = 134입니다.",
                                  "en": "(1 + 1 + 400) / 3 = 134."})),
    ("verdict", dict(type="true_false", answer=False,
                     explanation={"ko": "틀렸습니다. 그렇지 않습니다.", "en": "False. It is not."})),
    ("verdict", dict(type="true_false", answer=True,
                     explanation={"ko": "참입니다.", "en": "Correct! It is."})),
    ("parity", dict(type="true_false", answer=True,
                    prompt={"ko": "2012년에 우승했다.", "en": "It won in 2013."})),
    ("same-pair", dict(type="choice", answer=[0], options=[{"ko": "Adam", "en": "Adam"}, "SGD"])),
    ("spelling", dict(type="true_false", answer=True,
                      prompt={"ko": "정규화", "en": "Normalisation helps the optimiser."})),
    ("spelling", dict(type="true_false", answer=True,
                      prompt={"ko": "레이블 없는", "en": "Unlabelled, unnormalised data."})),
])
def test_each_check_catches_a_constructed_bad_question(kind, fields):
    assert kind in kinds(make(**fields))


def test_good_questions_pass_every_check():
    fine = [
        make(type="choice", answer=[0, 1], options=["a1", "b2", "c3"],
             prompt={"ko": "맞는 것을 모두 고르세요.", "en": "Select every right answer."}),
        make(type="numeric", answer=6, unit={"ko": "개", "en": "parameters"},
             prompt={"ko": "x = 2일 때 3x는?", "en": "What is 3x at x = 2?"},
             explanation={"ko": "3 × 2 = 6입니다.", "en": "3 × 2 = 6."}),
        make(type="true_false", answer=False,
             explanation={"ko": "거짓입니다. 1등은 2012년입니다.", "en": "False. It came first in 2012."}),
        make(type="choice", answer=[0], options=["224 × 224", "28 × 28", "32 × 32"]),
    ]
    assert kinds(*fine) == set()


def test_longest_option_strategy_is_scored_over_the_bank():
    skewed = [make(**{**SKEWED, "id": f"q-{k}"}) for k in range(10)]
    assert "longest-wins" in kinds(*skewed)


def test_every_kind_is_described():
    assert {"skew", "longest-wins", "count", "unit", "numbers", "verdict", "parity",
            "spelling", "same-pair"} <= set(KINDS)


def test_the_shipped_bank_is_clean():
    bank, problems = audit_bank()
    assert len(bank.questions) >= 228
    assert problems == [], "\n".join(map(str, problems))


def test_beyond_lecture_questions_are_tagged_and_coverage_gaps_are_filled():
    bank, _ = audit_bank()
    by_id = bank.by_id
    assert sum("beyond-lecture" in q.tags for q in bank.questions) >= 40
    for qid in ("components-data-detection", "components-model-families", "losses-erm-name",
                "neural-networks-neuron-parts", "milestones-big-lm-lecture-year"):
        assert qid in by_id and "beyond-lecture" not in by_id[qid].tags
    assert by_id["milestones-big-lm-lecture-year"].answer == 2019
