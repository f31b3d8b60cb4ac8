"""The bank format: strict validation with file and line, and the bundled bank itself."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from quiz_helpers import FIXTURE

from grader.catalog import QUIZ_DIR
from grader.errors import UserError
from grader.quiz.bank import BankError, check_bank, load_bank
from grader.quiz.engine import grade, key_answer, present
from grader.quiz.schema import TOPICS

GOOD = """\
questions:
  - id: ok-one
    topic: milestones
    tags: [alexnet]
    type: true_false
    prompt: {ko: "질문", en: "question"}
    explanation: {ko: "해설", en: "why"}
    answer: true
"""


def write(tmp_path: Path, text: str, name: str = "bank.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems_of(path: Path) -> list[str]:
    return [str(p) for p in check_bank(path)[1]]


def one_question(body: str) -> str:
    """A file with the good question and then `body` (a question starting at line 9)."""
    return GOOD + textwrap.indent(textwrap.dedent(body), "  ")


def test_fixture_bank_is_valid():
    bank = load_bank(FIXTURE)
    assert len(bank.questions) == 10
    assert {q.type for q in bank.questions} == {"choice", "true_false", "numeric", "order", "short"}


def test_a_good_file_has_no_problems(tmp_path):
    bank, problems = check_bank(write(tmp_path, GOOD))
    assert problems == [] and [q.id for q in bank.questions] == ["ok-one"]


@pytest.mark.parametrize(("body", "line", "qid", "fragment"), [
    ("""\
     - id: bad-key
       topic: milestones
       tags: [x]
       type: true_false
       prompt: {ko: "q", en: "q"}
       explanation: "e"
       answer: false
       hint: "unknown keys are errors"
     """, 16, "bad-key", "unknown key 'hint'"),
    ("""\
     - id: bad-index
       topic: activations
       tags: [x]
       type: choice
       prompt: {ko: "q", en: "q"}
       explanation: "e"
       options: [a1, b1, c1]
       answer: [0, 3]
     """, 16, "bad-index", "answer index 3 is out of range"),
    ("""\
     - id: short-order
       topic: milestones
       tags: [x]
       type: order
       prompt: {ko: "q", en: "q"}
       explanation: "e"
       items: [AlexNet, ResNet]
     """, 15, "short-order", "at least 3"),
    ("""\
     - id: bad-topic
       topic: history
       tags: [x]
       type: true_false
       prompt: {ko: "q", en: "q"}
       explanation: "e"
       answer: true
     """, 10, "bad-topic", "unknown topic 'history'"),
    ("""\
     - id: Bad_Id
       topic: losses
       tags: [x]
       type: true_false
       prompt: {ko: "q", en: "q"}
       explanation: "e"
       answer: true
     """, 9, "Bad_Id", "kebab-case"),
    ("""\
     - id: no-english
       topic: losses
       tags: [x]
       type: true_false
       prompt: {ko: "질문만"}
       explanation: "e"
       answer: true
     """, 13, "no-english", "missing en"),
    ("""\
     - id: prompt-plain
       topic: losses
       tags: [x]
       type: true_false
       prompt: "one language only"
       explanation: "e"
       answer: true
     """, 13, "prompt-plain", "needs both languages"),
    ("""\
     - id: bad-type
       topic: losses
       tags: [x]
       type: essay
       prompt: {ko: "q", en: "q"}
       explanation: "e"
     """, 12, "bad-type", "unknown type 'essay'"),
    ("""\
     - id: no-tags
       topic: losses
       tags: []
       type: true_false
       prompt: {ko: "q", en: "q"}
       explanation: "e"
       answer: true
     """, 11, "no-tags", "tags"),
    ("""\
     - id: neg-tol
       topic: losses
       tags: [x]
       type: numeric
       prompt: {ko: "q", en: "q"}
       explanation: "e"
       answer: 3
       tolerance: -1
     """, 16, "neg-tol", "tolerance must be >= 0"),
    ("""\
     - id: string-number
       topic: milestones
       tags: [gpt-3]
       type: numeric
       prompt: {ko: "q", en: "q"}
       explanation: "e"
       answer: 1.75e11
     """, 15, "string-number", "1.75e+11"),
    ("""\
     - id: tf-string
       topic: losses
       tags: [x]
       type: true_false
       prompt: {ko: "q", en: "q"}
       explanation: "e"
       answer: "yes"
     """, 15, "tf-string", "boolean"),
    ("""\
     - id: dup-option
       topic: losses
       tags: [x]
       type: choice
       prompt: {ko: "q", en: "q"}
       explanation: "e"
       options: [MSE, mse, L1]
       answer: [0]
     """, 15, "dup-option", "repeats"),
    ("""\
     - id: positional
       topic: activations
       tags: [relu]
       type: choice
       prompt: {ko: "q", en: "q"}
       explanation:
         ko: "정답은 ReLU입니다."
         en: "The second option is ReLU itself."
       options: [ReLU, tanh]
       answer: [0]
     """, 16, "positional", "shown shuffled"),
    ("""\
     - id: twice-key
       topic: losses
       tags: [x]
       type: true_false
       prompt: {ko: "q", en: "q"}
       explanation: "e"
       answer: true
       answer: false
     """, 16, "twice-key", "appears twice"),
    ("""\
     - id: no-answer
       topic: losses
       tags: [x]
       type: short
       prompt: {ko: "q", en: "q"}
       explanation: "e"
     """, 9, "no-answer", "missing 'answer'"),
])
def test_each_problem_names_file_line_and_id(tmp_path, body, line, qid, fragment):
    path = write(tmp_path, one_question(body))
    found = problems_of(path)
    assert len(found) == 1, found
    assert found[0].startswith(f"{_rel(path)}:{line}: {qid}: "), found
    assert fragment in found[0], found


def _rel(path: Path) -> str:
    import os

    rel = os.path.relpath(path)  # paths outside the working folder are shown absolute
    return str(path) if rel.startswith("..") else rel


def test_duplicate_ids_across_files_name_both_places(tmp_path):
    write(tmp_path, GOOD, "a.yaml")
    write(tmp_path, "# another file\n" + GOOD, "b.yaml")
    found = problems_of(tmp_path)
    assert found == [f"{_rel(tmp_path / 'b.yaml')}:3: ok-one: duplicate id "
                     f"(first at {_rel(tmp_path / 'a.yaml')}:2)"]


def test_every_problem_is_reported_not_just_the_first(tmp_path):
    path = write(tmp_path, """\
        questions:
          - id: a-1
            topic: nowhere
            tags: [x]
            type: true_false
            prompt: {ko: "q", en: "q"}
            explanation: "e"
            answer: true
          - id: a-2
            topic: losses
            tags: [x]
            type: choice
            prompt: {ko: "q", en: "q"}
            explanation: "e"
            options: [x1, y1]
            answer: [5]
          - id: a-3
            topic: losses
            tags: [x, x]
            type: order
            prompt: {ko: "q", en: "q"}
            explanation: "e"
            items: [x1]
        """)
    found = problems_of(path)
    assert [p.split(": ")[0].rsplit(":", 1)[1] for p in found] == ["3", "16", "23"], found
    assert "unknown topic" in found[0] and "out of range" in found[1] and "at least 3" in found[2]


@pytest.mark.parametrize(("text", "fragment"), [
    ("questions:\n  - id: x\n   bad: [\n", "invalid YAML"),
    ("- just a list\n", "the key 'questions'"),
    ("questions: 3\n", "must be a list"),
    ("title: x\nquestions: []\n", "the key 'questions'"),
    ("", "the key 'questions'"),
])
def test_file_level_problems(tmp_path, text, fragment):
    found = problems_of(write(tmp_path, text))
    assert len(found) == 1 and fragment in found[0], found


def test_empty_folder_is_a_problem_and_missing_path_a_user_error(tmp_path):
    assert "no quiz files" in problems_of(tmp_path)[0]
    with pytest.raises(UserError):
        check_bank(tmp_path / "missing")


def test_load_bank_raises_one_line_with_the_first_problem(tmp_path):
    path = write(tmp_path, GOOD.replace("topic: milestones", "topic: nope"))
    with pytest.raises(BankError) as info:
        load_bank(path)
    message = str(info.value)
    assert "\n" not in message
    assert "1 problem" in message and ":3: ok-one: unknown topic 'nope'" in message


# ------------------------------------------------------------------ the bundled bank


def test_bundled_bank_validates_has_150_questions_and_every_key_scores_one():
    """Runs over whatever assignments/quizzes/*.yaml holds; the course needs at least 150."""
    bank, problems = check_bank(QUIZ_DIR)
    assert not problems, "\n".join(map(str, problems[:20]))
    assert len(bank.questions) >= 150, f"only {len(bank.questions)} questions in {QUIZ_DIR}"
    for q in bank.questions:
        for seed in (0, 1):
            view = present(q, seed)
            for lang in ("ko", "en", "both"):
                result = grade(view, key_answer(view), lang)
                assert result.score == 1.0 and result.correct, (q.id, lang)
    assert set(bank.topics()) == set(TOPICS), set(TOPICS) - set(bank.topics())


# ------------------------------------------------------------------ the validated-bank cache


def test_a_cached_bank_equals_the_validated_one_and_skips_the_yaml(tmp_path, monkeypatch):
    import grader.quiz.bank as bank_module

    monkeypatch.setenv("DLGRADE_HOME", str(tmp_path / "home"))
    fresh = load_bank(FIXTURE)
    assert len(list((tmp_path / "home" / "cache").glob("bank-*.json"))) == 1

    def no_yaml(*_a, **_k):
        raise AssertionError("the cache should have answered")

    monkeypatch.setattr(bank_module, "check_bank", no_yaml)
    cached = load_bank(FIXTURE)
    assert cached.questions == fresh.questions
    assert [type(q) for q in cached.questions] == [type(q) for q in fresh.questions]
    assert cached.where == fresh.where and cached.files == tuple(f.resolve() for f in fresh.files)
    for q in cached.questions:
        view = present(q, 3)
        assert grade(view, key_answer(view), "both").score == 1.0


def test_an_edited_bank_misses_the_cache_and_an_invalid_one_is_never_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("DLGRADE_HOME", str(tmp_path / "home"))
    path = write(tmp_path, GOOD)
    assert [q.answer for q in load_bank(path).questions] == [True]
    write(tmp_path, GOOD.replace("answer: true", "answer: false"))
    assert [q.answer for q in load_bank(path).questions] == [False]
    write(tmp_path, GOOD.replace("answer: true", "answer: maybe"))
    with pytest.raises(BankError):
        load_bank(path)
    assert len(list((tmp_path / "home" / "cache").glob("bank-*.json"))) == 2


def test_a_damaged_cache_is_ignored_and_rewritten(tmp_path, monkeypatch):
    monkeypatch.setenv("DLGRADE_HOME", str(tmp_path / "home"))
    fresh = load_bank(FIXTURE)
    (cache_file,) = (tmp_path / "home" / "cache").glob("bank-*.json")
    for damage in ("{not json", '{"files": [], "questions": [{"type": "essay"}]}', "[]"):
        cache_file.write_text(damage)
        assert load_bank(FIXTURE).questions == fresh.questions
        assert cache_file.read_text() != damage


def test_an_unwritable_cache_only_costs_time(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    (home / "cache").write_text("a file where the cache folder should be")
    monkeypatch.setenv("DLGRADE_HOME", str(home))
    assert len(load_bank(FIXTURE).questions) == 10
