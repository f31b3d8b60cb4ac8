"""The pure quiz engine: every question type's grading, parsing and edge cases."""

from __future__ import annotations

import unicodedata

import pytest

from grader.quiz.engine import (
    LETTERS,
    MalformedAnswer,
    Presented,
    concordant_pairs,
    grade,
    key_answer,
    plan_exam,
    plan_review,
    present,
    select,
    shown,
)
from grader.quiz.schema import parse_question


def make(**fields):
    base = {"id": "q-test", "topic": "milestones", "tags": ["t"],
            "prompt": {"ko": "질문", "en": "question"}, "explanation": {"ko": "해설", "en": "why"}}
    question, problems = parse_question({**base, **fields})
    assert not problems, problems
    return question


def view_with(question, order=()):
    """A question shown in a known order (original index at each letter)."""
    return Presented(question, tuple(order))


def letter_of(view, original_index):
    return LETTERS[view.order.index(original_index)]


# ------------------------------------------------------------------ choice

ONE = dict(type="choice", options=["ReLU", {"ko": "시그모이드", "en": "sigmoid"}, "tanh", "GELU"],
           answer=[1])
SEVERAL = dict(type="choice", options=["sigmoid", "tanh", "ReLU", "identity", "GELU"], answer=[0, 1])


def test_choice_letter_number_and_text_all_pick_the_same_option():
    view = view_with(make(**ONE), order=(2, 0, 3, 1))  # sigmoid shown at letter d, number 4
    for raw in ("d", "D", " d ", "4", "시그모이드", "Sigmoid", "SIGMOID "):
        result = grade(view, raw, "en")
        assert result.correct and result.score == 1.0, raw
    wrong = grade(view, "a", "en")  # a shows tanh
    assert not wrong.correct and wrong.score == 0.0
    assert wrong.expected == "d) sigmoid"
    assert wrong.given == "a) tanh"
    assert wrong.explanation == "why"


def test_choice_single_answer_rejects_several_letters_as_malformed():
    view = view_with(make(**ONE), order=(0, 1, 2, 3))
    with pytest.raises(MalformedAnswer):
        grade(view, "a,b", "en")


@pytest.mark.parametrize("raw", ["", "   ", "e", "z", "5", "0", "a?", "a-b"])
def test_choice_malformed_answers_are_reprompts_not_wrong(raw):
    view = view_with(make(**ONE), order=(0, 1, 2, 3))
    with pytest.raises(MalformedAnswer) as info:
        grade(view, raw, "en")
    assert "a–d" in info.value.msg.en and "a–d" in info.value.msg.ko


def test_choice_several_answers_in_any_order_and_with_any_separator():
    view = view_with(make(**SEVERAL), order=(4, 1, 3, 0, 2))  # tanh=b, sigmoid=d
    for raw in ("b,d", "d,b", "bd", "db", "b d", "d, b", "b;d", "B D", "2 4", "4,2", "24", "b,d,b"):
        assert grade(view, raw, "en").correct, raw
    for raw in ("b", "d", "b,d,e", "a,b,d"):  # a subset or a superset is wrong
        result = grade(view, raw, "en")
        assert not result.correct and result.score == 0.0, raw
    assert grade(view, "b", "en").expected == "b) tanh, d) sigmoid"


def test_numeric_looking_options_match_their_text_before_their_position():
    q = make(type="choice", options=["0", "1", "2"], answer=[1])
    view = view_with(q, order=(2, 0, 1))  # "1" is shown at letter c, position 3
    assert grade(view, "1", "en").correct
    assert grade(view, "c", "en").correct
    assert not grade(view, "a", "en").correct


def test_choice_shuffle_is_seeded_and_every_permutation_is_reachable():
    q = make(**ONE)
    assert present(q, 7) == present(q, 7)
    orders = {present(q, seed).order for seed in range(200)}
    assert len(orders) > 12  # of 24
    assert all(sorted(o) == [0, 1, 2, 3] for o in orders)


def test_shown_lists_options_in_display_order_in_the_requested_language():
    view = view_with(make(**ONE), order=(1, 0, 2, 3))
    assert shown(view, "ko")[0] == ("a", "시그모이드")
    assert shown(view, "en")[0] == ("a", "sigmoid")
    assert shown(view, "both")[0] == ("a", "시그모이드 (sigmoid)")
    assert shown(view, "both")[1] == ("b", "ReLU")


# ------------------------------------------------------------------ true / false


@pytest.mark.parametrize("raw", ["t", "T", "true", "True", "o", "O", "1", "예", "네", "y", "yes", "참"])
def test_true_false_accepts_true_in_many_spellings(raw):
    view = present(make(type="true_false", answer=True), 0)
    assert grade(view, raw).correct


@pytest.mark.parametrize("raw", ["f", "F", "false", "x", "X", "0", "아니오", "아니요", "n", "no", "거짓"])
def test_true_false_accepts_false_in_many_spellings(raw):
    view = present(make(type="true_false", answer=True), 0)
    result = grade(view, raw, "en")
    assert not result.correct and result.expected == "true (t)" and result.given == "false (f)"


@pytest.mark.parametrize("raw", ["", "maybe", "2", "tf", "yes no"])
def test_true_false_malformed(raw):
    with pytest.raises(MalformedAnswer):
        grade(present(make(type="true_false", answer=False), 0), raw)


# ------------------------------------------------------------------ numeric


def numeric(answer, tolerance=0, unit=None):
    fields = dict(type="numeric", answer=answer, tolerance=tolerance)
    if unit is not None:
        fields["unit"] = unit
    return present(make(**fields), 0)


@pytest.mark.parametrize(("answer", "tol", "raw", "right"), [
    (2012, 0, "2012", True),
    (2012, 0, "2012.0", True),
    (2012, 0, "2011", False),
    (2012, 0, "2013", False),
    (175, 5, "170", True),      # exactly at the lower bound
    (175, 5, "180", True),      # exactly at the upper bound
    (175, 5, "169.999", False),
    (175, 5, "180.001", False),
    (2.5, 0.1, "2.6", True),    # 2.6 - 2.5 > 0.1 in binary floats; exact in decimals
    (2.5, 0.1, "2.4", True),
    (2.5, 0.1, "2.61", False),
    (0.1, 0.2, "0.3", True),
    (0.1, 0.2, "-0.1", True),
    (-3, 0, "-3", True),
    (175_000_000_000, 0, "175,000,000,000", True),
    (175_000_000_000, 0, "1.75e11", True),
    (175_000_000_000, 0, "175_000_000_000", True),
    (0.5, 0, ".5", True),
])
def test_numeric_tolerance_bounds(answer, tol, raw, right):
    result = grade(numeric(answer, tol), raw)
    assert result.correct is right
    assert result.score == float(right)


def test_numeric_accepts_the_unit_typed_after_the_number_in_either_language():
    view = numeric(175, 5, unit={"ko": "십억 개", "en": "billion"})
    assert grade(view, "175 billion").correct
    assert grade(view, "175십억 개").correct
    assert grade(view, "175", "en").expected == "175 ± 5 billion"
    assert grade(view, "175", "ko").expected == "175 ± 5 십억 개"


def test_numeric_accepts_korean_suffixes_and_magnitude_words():
    assert grade(numeric(2012), "2012년").correct
    assert grade(numeric(2012), "2012 년").correct
    assert grade(numeric(175_000_000_000), "1750억").correct
    assert grade(numeric(175_000_000_000), "1750억 개").correct
    assert grade(numeric(175_000_000_000), "175 billion").correct
    assert not grade(numeric(175_000_000_000), "175").correct
    assert grade(numeric(60_000_000), "6천만").correct
    assert grade(numeric(60_000_000), "6000만").correct
    assert grade(numeric(60_000_000), "60 million").correct
    assert grade(numeric(60_000_000), "6천만 개").correct
    assert not grade(numeric(60_000_000), "6만").correct


@pytest.mark.parametrize("raw", ["", "abc", "twenty", "nan", "inf", "1,2,3", "12..5", "1e", "10k",
                                 ".", "-", "224x224", "2012 or 2013", "1,00"])
def test_numeric_malformed(raw):
    with pytest.raises(MalformedAnswer):
        grade(numeric(2012), raw)


def test_numeric_expected_renders_thousands_and_decimals():
    assert grade(numeric(175_000_000_000), "1").expected == "175,000,000,000"
    assert grade(numeric(0.5, 0.01), "1").expected == "0.5 ± 0.01"


# ------------------------------------------------------------------ order

ITEMS = dict(type="order", items=["AlexNet", "ResNet", "Transformer", "GPT-3"])


def test_order_right_sequence_scores_one_in_letters_numbers_or_separated():
    view = view_with(make(**ITEMS), order=(2, 0, 3, 1))  # a=Transformer b=AlexNet c=GPT-3 d=ResNet
    for raw in ("bdac", "b,d,a,c", "b d a c", "BDAC", "2 4 1 3", "2413"):
        result = grade(view, raw, "en")
        assert result.correct and result.score == 1.0, raw
    assert grade(view, "abcd", "en").expected == "bdac: AlexNet → ResNet → Transformer → GPT-3"


def test_order_partial_credit_counts_pairs_in_the_right_relative_order():
    view = view_with(make(**ITEMS), order=(0, 1, 2, 3))  # letters in the right order: abcd
    assert grade(view, "abcd").score == 1.0
    swapped = grade(view, "bacd", "en")  # one of six pairs inverted
    assert swapped.score == pytest.approx(5 / 6) and not swapped.correct
    assert swapped.detail == "5 of 6 pairs in the right order"
    assert grade(view, "dcba").score == 0.0  # fully reversed
    assert grade(view, "acbd").score == pytest.approx(5 / 6)
    assert grade(view, "cdab").score == pytest.approx(2 / 6)


def test_concordant_pairs_matches_a_brute_force_count():
    from itertools import permutations

    for perm in permutations(range(5)):
        inversions = sum(1 for i in range(5) for j in range(i + 1, 5) if perm[i] > perm[j])
        assert concordant_pairs(perm) == (10 - inversions, 10)


@pytest.mark.parametrize("raw", ["", "abc", "abcde", "aabc", "abcz", "a b c c", "1 2 3"])
def test_order_needs_every_letter_once(raw):
    view = view_with(make(**ITEMS), order=(0, 1, 2, 3))
    with pytest.raises(MalformedAnswer) as info:
        grade(view, raw)
    assert "4" in info.value.msg.en


def test_order_is_never_shown_already_solved():
    q = make(type="order", items=["a1", "b2", "c3"])
    assert all(present(q, seed).order != (0, 1, 2) for seed in range(100))


# ------------------------------------------------------------------ short

SHORT = dict(type="short", answer=["backpropagation", "backprop", "역전파", "오차역전파"])


@pytest.mark.parametrize("raw", [
    "backpropagation", "Backpropagation", "BACKPROP", "back propagation", " back-propagation ",
    "역전파", "역 전 파", "오차 역전파",
    unicodedata.normalize("NFD", "역전파"),      # decomposed jamo, as some IMEs and macOS produce
    unicodedata.normalize("NFD", "오차역전파"),
    "ＢＡＣＫＰＲＯＰ",                            # full-width letters
])
def test_short_answer_ignores_normalisation_case_and_spacing(raw):
    assert unicodedata.normalize("NFD", "역전파") != "역전파"
    assert grade(present(make(**SHORT), 0), raw).correct


@pytest.mark.parametrize("raw", ["forward", "backpropagations", "역전", "gradient descent"])
def test_short_answer_wrong(raw):
    result = grade(present(make(**SHORT), 0), raw)
    assert not result.correct
    assert result.expected.startswith("backpropagation")
    assert "역전파" in result.expected


def test_short_answer_case_folding_handles_more_than_ascii():
    q = make(type="short", answer=["Straße"])
    assert grade(present(q, 0), "STRASSE").correct


@pytest.mark.parametrize("raw", ["", "   ", " - "])
def test_short_answer_empty_is_malformed(raw):
    with pytest.raises(MalformedAnswer):
        grade(present(make(**SHORT), 0), raw)


# ------------------------------------------------------------------ languages and keys


def test_explanation_follows_the_language():
    view = present(make(type="true_false", answer=True), 0)
    assert grade(view, "t", "ko").explanation == "해설"
    assert grade(view, "t", "en").explanation == "why"
    assert grade(view, "t", "both").explanation == "해설\nwhy"


@pytest.mark.parametrize("fields", [ONE, SEVERAL, ITEMS, SHORT, dict(type="true_false", answer=False),
                                    dict(type="numeric", answer=0.5, tolerance=0.01)])
def test_key_answer_scores_one_for_every_seed(fields):
    q = make(**fields)
    for seed in range(20):
        view = present(q, seed)
        assert grade(view, key_answer(view)).score == 1.0


# ------------------------------------------------------------------ sessions


def test_select_by_topic_and_tag():
    a = make(id="a", topic="milestones", tags=["x", "y"], type="true_false", answer=True)
    b = make(id="b", topic="losses", tags=["y"], type="true_false", answer=True)
    c = make(id="c", topic="losses", tags=["z"], type="true_false", answer=True)
    assert select([a, b, c]) == [a, b, c]
    assert select([a, b, c], topics=["losses"]) == [b, c]
    assert select([a, b, c], tags=["y"]) == [a, b]
    assert select([a, b, c], topics=["losses"], tags=["y"]) == [b]
    assert select([a, b, c], topics=["milestones", "losses"], tags=["z", "x"]) == [a, c]


def test_plan_review_puts_due_first_in_due_order_then_new():
    qs = [make(id=f"q{i}", type="true_false", answer=True) for i in range(6)]
    plan = plan_review(qs, due=["q4", "q1", "gone"], seen={"q1", "q4", "q5"}, n=10, seed=1)
    assert [(q.id, kind) for q, kind in plan[:2]] == [("q4", "review"), ("q1", "review")]
    assert {q.id for q, _ in plan[2:]} == {"q0", "q2", "q3"}
    assert all(kind == "new" for _, kind in plan[2:])
    assert plan_review(qs, due=[], seen=set(), n=3, seed=1) == plan_review(qs, due=[], seen=set(), n=3, seed=1)
    assert len(plan_review(qs, due=["q4"], seen=set(), n=2, seed=1)) == 2


def test_plan_exam_is_fixed_by_the_seed_and_independent_of_input_order():
    qs = [make(id=f"q{i}", type="true_false", answer=True) for i in range(30)]
    paper = [q.id for q, _ in plan_exam(qs, n=10, seed=42)]
    assert paper == [q.id for q, _ in plan_exam(list(reversed(qs)), n=10, seed=42)]
    assert len(set(paper)) == 10
    assert paper != [q.id for q, _ in plan_exam(qs, n=10, seed=43)]
    assert len(plan_exam(qs, n=100, seed=1)) == 30


def test_letters_typed_with_the_korean_input_method_still_count():
    """With the Korean IME on, the a/b/c/d keys give ㅁ/ㅠ/ㅊ/ㅇ and t/f give ㅅ/ㄹ."""
    view = view_with(make(**SEVERAL), order=(4, 1, 3, 0, 2))  # tanh=b, sigmoid=d
    assert grade(view, "ㅠㅇ").correct and grade(view, "ㅠ, ㅇ").correct
    order = view_with(make(**ITEMS), order=(0, 1, 2, 3))
    assert grade(order, "ㅁㅠㅊㅇ").correct
    tf = present(make(type="true_false", answer=True), 0)
    assert grade(tf, "ㅅ").correct and not grade(tf, "ㄹ").correct
    assert grade(present(make(**SHORT), 0), "역전파").correct  # real Korean words are untouched
    with pytest.raises(MalformedAnswer):
        grade(view, "ㅎ")  # the g key: past the options
