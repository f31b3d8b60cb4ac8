"""Answers a learner really types, checked against the bundled bank's own questions."""

from __future__ import annotations

import pytest

from grader.quiz.bank import load_bank
from grader.quiz.engine import MalformedAnswer, grade, present
from grader.quiz.numbers import NotANumber, read_number
from grader.quiz.text import answer_form


@pytest.fixture(scope="module")
def bank():
    return load_bank(cache=False).by_id


def right(bank, qid: str, raw: str) -> bool:
    return grade(present(bank[qid], 0), raw).correct


@pytest.mark.parametrize("raw", [
    "1750억", "1750억 개", "175B", "175B parameters", "175 billion", "175 Billion parameters",
    "1.75e11", "1.75E+11", "175,000,000,000", "175000000000", "1.75 × 10^11", "1.75x10^11",
    "1.75*10**11", "1.75·10¹¹", "약 1750억 개", "about 175B", "175bn",
])
def test_gpt3_parameters_in_every_notation_the_help_promises(bank, raw):
    assert right(bank, "milestones-gpt3-parameters", raw), raw


@pytest.mark.parametrize("raw", ["175M", "1750만", "17.5B", "1.5B", "340M", "1.75e10"])
def test_gpt3_parameters_wrong_magnitudes_stay_wrong(bank, raw):
    assert not right(bank, "milestones-gpt3-parameters", raw), raw


def test_gpt3_parameters_bare_175_asks_for_the_magnitude(bank):
    with pytest.raises(MalformedAnswer):
        grade(present(bank["milestones-gpt3-parameters"], 0), "175")


@pytest.mark.parametrize(("qid", "raw"), [
    ("milestones-alexnet-year", "2012년"),
    ("milestones-alexnet-year", "2012."),
    ("milestones-resnet-depth", "152층"),
    ("milestones-resnet-depth", "152 layers"),
    ("neural-networks-linear-layer-params", "100,480"),
    ("neural-networks-linear-layer-params", "100480개"),
    ("activations-sigmoid-zero", "0.5"),
    ("activations-sigmoid-zero", ".5"),
])
def test_numbers_with_units_and_suffixes(bank, qid, raw):
    assert right(bank, qid, raw), (qid, raw)


@pytest.mark.parametrize(("qid", "raw"), [
    ("components-loss-name", "the loss function"),
    ("components-loss-name", "The loss function."),
    ("components-loss-name", "손실 함수"),
    ("losses-classification-name", "negative log-likelihood"),
    ("losses-classification-name", "cross-entropy loss"),
    ("losses-classification-name", "교차 엔트로피 손실"),
    ("losses-classification-name", '"cross entropy"'),
    ("losses-regression-name", "the MSE loss"),
    ("regularization-early-stopping", "early stop"),
    ("regularization-early-stopping", "Early stopping!"),
    ("universal-approximation-author", "Hornik et al."),
    ("universal-approximation-author", "Hornik et al"),
    ("universal-approximation-author", "“Hornik”"),
    ("l1-l2-huber", "the Huber loss"),
    ("milestones-gan-discriminator", "a discriminator"),
    ("milestones-transformer-title", "'Attention is all you need'"),
    ("backprop-autodiff-chain-rule-name", "The chain rule."),
])
def test_short_answers_a_learner_types(bank, qid, raw):
    assert right(bank, qid, raw), (qid, raw)


@pytest.mark.parametrize(("qid", "raw"), [
    ("components-loss-name", "the model"),
    ("losses-classification-name", "MSE loss"),
    ("regularization-early-stopping", "dropout"),
    ("universal-approximation-author", "Hinton et al."),
])
def test_normalising_does_not_make_wrong_answers_right(bank, qid, raw):
    assert not right(bank, qid, raw), (qid, raw)


@pytest.mark.parametrize(("typed", "form"), [
    ('The "cross-entropy loss".', "crossentropy"),
    ("an MLP!", "mlp"),
    ("Hornik 외", "hornik"),
    ("평등", "평등"),          # a word ending in 등 keeps it: only " 등" after a space is "et al."
    ("loss", "loss"),          # a lone "loss" is the answer itself, not a suffix
    ("a", "a"),
    ("교차 엔트로피 손실", "교차엔트로피"),
])
def test_answer_form(typed, form):
    assert answer_form(typed) == form


@pytest.mark.parametrize("raw", ["1,2,3", "224x224", "2012 or 2013", "12..5", "1e", "abc", ""])
def test_read_number_refuses_what_is_not_one_number(raw):
    with pytest.raises(NotANumber):
        read_number(raw)


def test_korean_groups_add_up_and_must_shrink():
    assert read_number("1억 2천만").value == 120_000_000
    assert read_number("3억 4천만 개").value == 340_000_000
    assert read_number("1조 7500억").value == 1_750_000_000_000
