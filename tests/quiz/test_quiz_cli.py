"""`dlgrade quiz` end to end: sessions with scripted input, durability, stats, validate, export."""

from __future__ import annotations

import csv
import io
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from quiz_helpers import FIXTURE, flat
from rich.console import Console
from typer.testing import CliRunner

from cli import app
from grader.quiz.bank import load_bank
from grader.quiz.engine import LETTERS, grade, key_answer, plan_review, present
from grader.quiz.export import gift_escape
from grader.quiz.model import (
    ChoiceQuestion,
    NumericQuestion,
    OrderQuestion,
    TrueFalseQuestion,
    topic_name,
)
from grader.quiz.session import QuizOptions, run_quiz

DLGRADE = Path(sys.executable).with_name("dlgrade")
runner = CliRunner()


def wrong_answer(view) -> str:
    q = view.question
    if isinstance(q, ChoiceQuestion):
        return next(LETTERS[k] for k, i in enumerate(view.order) if i not in q.answer)
    if isinstance(q, TrueFalseQuestion):
        return "f" if q.answer else "t"
    if isinstance(q, NumericQuestion):
        return str(q.answer + q.tolerance + 1000)
    if isinstance(q, OrderQuestion):
        return key_answer(view)[::-1]  # every pair inverted: score 0
    return "definitely-not-it"


def planned_views(n: int, seed: int):
    pool = load_bank(FIXTURE).questions
    return [present(q, seed) for q, _ in plan_review(pool, due=[], seen=set(), n=n, seed=seed)]


def db_rows(home: Path, query: str) -> list[tuple]:
    conn = sqlite3.connect(home / "quiz.db")
    try:
        return conn.execute(query).fetchall()
    finally:
        conn.close()


def answered(*answers: str) -> str:
    """Input for a scheduled session: each answer, then Enter at its rating/next prompt."""
    return "".join(f"{a}\n\n" for a in answers)


def scripted(answers):
    """An `ask` that answers questions from `answers` (then quits) and presses Enter elsewhere."""
    it = iter(answers)

    def ask(prompt: str) -> str:
        if prompt.strip() != "[bold cyan]›[/]":
            return ""  # a rating or next prompt: Enter
        return next(it, "q")

    return ask


def invoke(args: list[str], home: Path, input: str | None = None):
    return runner.invoke(app, args, input=input, env={"DLGRADE_HOME": str(home)})


# ------------------------------------------------------------------ a whole session


def test_full_session_summary_and_stats(tmp_path):
    views = planned_views(5, seed=11)
    typed = ["?", "zz-not-a-letter" if views[0].question.type in ("choice", "order") else "?"]
    result = invoke(["quiz", "--bank", str(FIXTURE), "--n", "5", "--seed", "11", "--lang", "en"],
                    tmp_path, "\n".join(typed) + "\n"
                    + answered(key_answer(views[0]), key_answer(views[1]), wrong_answer(views[2]),
                               key_answer(views[3])) + "s\n"
                    + answered(key_answer(views[2])))  # the missed one, relearned at the end
    out = flat(result.output)
    assert result.exit_code == 0, result.output
    assert "1/5" in out and "5/5" in out
    assert "s: skip" in out  # the help for `?`
    assert out.count("Right!") == 4 and out.count("Wrong") == 1
    assert "relearn" in out and "relearned: 1/1" in out
    assert "Score: 3 / 4 (75%)" in out and "skipped: 1" in out
    mistake = views[2].question
    assert "Mistakes" in out and f"({mistake.id})" in out
    assert flat(grade(views[2], wrong_answer(views[2]), "en").explanation) in out
    assert "Next review" in out

    rows = db_rows(tmp_path, "SELECT qid, correct, exam FROM answers ORDER BY id")
    assert rows == [(v.question.id, int(v.question.id != mistake.id), 0) for v in views[:4]] \
        + [(mistake.id, 1, 0)]
    assert len(db_rows(tmp_path, "SELECT qid FROM cards")) == 4

    stats = invoke(["quiz", "stats"], tmp_path)
    assert stats.exit_code == 0, stats.output
    text = flat(stats.output)
    assert "total answers 5" in text and "streak 1 day" in text
    assert "due today 4" in text  # learning steps: due again within minutes
    for topic in {v.question.topic for v in views[:4]}:
        assert topic_name(topic, "en") in text  # the session was in English: so are the stats
    assert "retention" in text and "Reviews due in the next 30 days" in text
    assert "█" in stats.output


def test_run_subcommand_and_korean_interface(tmp_path):
    views = planned_views(1, seed=3)
    result = invoke(["quiz", "run", "--bank", str(FIXTURE), "--n", "1", "--seed", "3",
                     "--lang", "ko"], tmp_path, key_answer(views[0]) + "\n")
    assert result.exit_code == 0, result.output
    assert "정답!" in result.output and "점수: 1 / 1 (100%)" in flat(result.output)
    assert views[0].question.prompt.ko in flat(result.output)
    assert views[0].question.prompt.en not in flat(result.output)


def test_quit_prints_the_summary_and_keeps_answers(tmp_path):
    views = planned_views(3, seed=5)
    result = invoke(["quiz", "--bank", str(FIXTURE), "--n", "3", "--seed", "5", "--lang", "en"],
                    tmp_path, f"{key_answer(views[0])}\nq\n")
    out = flat(result.output)
    assert result.exit_code == 0
    assert "Stopped: every answer so far is saved" in out and "Score: 1 / 1 (100%)" in out
    assert db_rows(tmp_path, "SELECT COUNT(*) FROM answers") == [(1,)]


def test_end_of_input_ends_the_session_like_ctrl_c(tmp_path):
    views = planned_views(4, seed=8)
    result = invoke(["quiz", "--bank", str(FIXTURE), "--n", "4", "--seed", "8", "--lang", "en"],
                    tmp_path, answered(key_answer(views[0]), wrong_answer(views[1])))
    assert result.exit_code == 0
    assert "Interrupted: every answer so far is saved" in flat(result.output)
    assert "Score: 1 / 2 (50%)" in flat(result.output)
    assert db_rows(tmp_path, "SELECT COUNT(*) FROM answers") == [(2,)]


@pytest.mark.parametrize("k", [0, 1, 3])
def test_keyboard_interrupt_after_k_answers_keeps_k_answers(tmp_path, k):
    views = planned_views(5, seed=21)
    answers = iter(key_answer(v) for v in views)
    asked = 0

    def ask(prompt: str) -> str:
        nonlocal asked
        if prompt.strip() != "[bold cyan]›[/]":
            return ""  # Enter at the rating prompt: Good
        if asked == k:
            raise KeyboardInterrupt
        asked += 1
        return next(answers)

    console = Console(file=io.StringIO(), width=100)
    run_quiz(QuizOptions(n=5, seed=21, lang="en", db=tmp_path / "p.db", bank=FIXTURE),
             console=console, ask=ask)
    out = flat(console.file.getvalue())  # type: ignore[attr-defined]
    assert "Interrupted" in out
    assert f"Score: {k} / {k}" in out
    conn = sqlite3.connect(tmp_path / "p.db")
    assert conn.execute("SELECT qid FROM answers ORDER BY id").fetchall() == \
        [(v.question.id,) for v in views[:k]]
    assert conn.execute("SELECT COUNT(*) FROM cards").fetchone() == (k,)
    conn.close()


def test_due_reviews_come_first_then_new_questions(tmp_path):
    now = [datetime(2024, 5, 1, 12, tzinfo=timezone.utc)]
    views = planned_views(2, seed=4)
    opts = QuizOptions(n=2, seed=4, lang="en", db=tmp_path / "p.db", bank=FIXTURE)
    run_quiz(opts, console=Console(file=io.StringIO()),
             ask=scripted([wrong_answer(views[0]), key_answer(views[1])]),
             clock=lambda: now[0], fuzz=False)

    now[0] += timedelta(minutes=2)  # the wrong one is due (1 min), the right one not (10 min)
    console = Console(file=io.StringIO(), width=120)
    asked: list[str] = []

    def ask(_prompt: str) -> str:
        asked.append(_prompt)
        return "s"

    run_quiz(QuizOptions(n=3, seed=9, lang="en", db=tmp_path / "p.db", bank=FIXTURE),
             console=console, ask=ask, clock=lambda: now[0], fuzz=False)
    out = console.file.getvalue()  # type: ignore[attr-defined]
    headers = [line for line in out.splitlines() if line.startswith(("1/3", "2/3", "3/3"))]
    assert "review" in headers[0] and "new" in headers[1] and "new" in headers[2]
    assert views[0].question.prompt.en in flat(out.split(headers[1])[0])
    assert views[1].question.prompt.en not in flat(out)  # not due yet, and not new


def test_mistakes_retakes_what_was_wrong_last_time(tmp_path):
    views = planned_views(3, seed=2)
    first = invoke(["quiz", "--bank", str(FIXTURE), "--n", "3", "--seed", "2", "--lang", "en"],
                   tmp_path, answered(key_answer(views[0]), wrong_answer(views[1]),
                                      wrong_answer(views[2])))
    assert first.exit_code == 0
    retake = invoke(["quiz", "--bank", str(FIXTURE), "--mistakes", "--lang", "en", "--seed", "2"],
                    tmp_path, f"{key_answer(views[2])}\n{key_answer(views[1])}\n")
    out = flat(retake.output)
    assert retake.exit_code == 0, retake.output
    assert "1/2" in out and "retake" in out and "Score: 2 / 2 (100%)" in out
    assert views[0].question.prompt.en not in out
    again = invoke(["quiz", "--bank", str(FIXTURE), "--mistakes", "--lang", "en"], tmp_path)
    assert again.exit_code == 0 and "Nothing to retake" in again.output


def test_exam_is_a_fixed_paper_with_a_final_score_and_no_scheduling(tmp_path):
    args = ["quiz", "--bank", str(FIXTURE), "--exam", "--seed", "7", "--n", "4", "--lang", "en"]
    a = invoke(args, tmp_path / "a", "s\n" * 4)
    b = invoke(args, tmp_path / "b", "s\n" * 4)
    assert a.exit_code == 0 and b.exit_code == 0
    assert a.output == b.output  # the same paper, the same shuffles
    assert "exam (seed 7): 0 / 4 (0%)" in flat(a.output)

    paper = [line for line in a.output.splitlines() if line[:2] in ("1/", "2/", "3/", "4/")]
    assert len(paper) == 4
    bank = load_bank(FIXTURE)
    from grader.quiz.engine import plan_exam

    views = [present(q, 7) for q, _ in plan_exam(bank.questions, n=4, seed=7)]
    c = invoke(args, tmp_path / "c", "\n".join(key_answer(v) for v in views[:3]) + "\ns\n")
    assert "exam (seed 7): 3 / 4 (75%)" in flat(c.output)
    assert db_rows(tmp_path / "c", "SELECT COUNT(*), SUM(exam) FROM answers") == [(3, 3)]
    assert db_rows(tmp_path / "c", "SELECT COUNT(*) FROM cards") == [(0,)]


# ------------------------------------------------------------------ errors a user can cause


@pytest.mark.parametrize(("args", "fragment"), [
    (["--topic", "history"], "unknown topic 'history'"),
    (["--tag", "alexnte"], "unknown tag 'alexnte'"),
    (["--n", "0"], "--n must be at least 1"),
    (["--lang", "fr"], "unknown --lang 'fr'"),
    (["--exam", "--mistakes"], "cannot be combined"),
    (["--topic", "gpus"], "unknown topic 'gpus' (choose from: activations,"),
    (["--topic", "milestones", "--tag", "relu"], "no question matches --topic milestones --tag relu"),
])
def test_bad_options_are_one_line_and_exit_2(tmp_path, args, fragment):
    result = invoke(["quiz", "--bank", str(FIXTURE), *args], tmp_path)
    assert result.exit_code == 2, result.output
    assert fragment in result.output
    assert result.output.strip().count("\n") == 0 and "Traceback" not in result.output
    assert not (tmp_path / "quiz.db").exists() or fragment.startswith("no question")


def test_unknown_tag_suggests_a_close_one(tmp_path):
    result = invoke(["quiz", "--bank", str(FIXTURE), "--tag", "alexnte"], tmp_path)
    assert "did you mean alexnet" in result.output


def test_a_bank_that_fails_validation_is_a_user_error(tmp_path):
    bad = tmp_path / "bank.yaml"
    bad.write_text((FIXTURE / "theory.yaml").read_text().replace("topic: l1-l2", "topic: l3"))
    result = invoke(["quiz", "--bank", str(bad)], tmp_path)
    assert result.exit_code == 2
    assert result.output.strip().count("\n") == 0
    assert "the quiz bank has 1 problem" in result.output and "unknown topic 'l3'" in result.output
    missing = invoke(["quiz", "--bank", str(tmp_path / "nowhere")], tmp_path)
    assert missing.exit_code == 2 and "no such quiz bank" in missing.output


@pytest.mark.parametrize("content", [b"\x00garbage\xff" * 100, b"SQLite format 3\x00" + b"\x07" * 5000])
def test_a_corrupt_db_is_exit_2_one_line_and_left_untouched(tmp_path, content):
    db = tmp_path / "quiz.db"
    db.write_bytes(content)
    for args in (["quiz", "--bank", str(FIXTURE), "--n", "1"], ["quiz", "stats"]):
        result = invoke(args, tmp_path, "t\n")
        assert result.exit_code == 2, result.output
        assert result.output.strip().count("\n") == 0 and str(db) in result.output
        assert db.read_bytes() == content
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith("quiz")] == ["quiz.db"]
    explicit = runner.invoke(app, ["quiz", "stats", "--db", str(db)])
    assert explicit.exit_code == 2 and db.read_bytes() == content


def test_stats_without_progress_is_a_clear_message(tmp_path):
    result = invoke(["quiz", "stats"], tmp_path)
    assert result.exit_code == 2 and "no quiz progress yet" in result.output
    assert not (tmp_path / "quiz.db").exists()


# ------------------------------------------------------------------ validate and export


def test_validate_ok_counts_per_topic():
    result = runner.invoke(app, ["quiz", "validate", str(FIXTURE)])
    assert result.exit_code == 0
    out = flat(result.output)
    assert "OK: 10 questions in 2 file(s)" in out and "milestones 4" in out and "activations 3" in out


def test_validate_lists_every_problem_and_exits_1(tmp_path):
    bad = tmp_path / "bad.yaml"
    text = (FIXTURE / "theory.yaml").read_text()
    text = text.replace("answer: [0, 1]", "answer: [0, 9]").replace("type: true_false", "type: yes_no", 1)
    bad.write_text(text)
    result = runner.invoke(app, ["quiz", "validate", str(bad)])
    assert result.exit_code == 1
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    rel = str(bad) if os.path.relpath(bad).startswith("..") else os.path.relpath(bad)
    assert lines[0].startswith(f"{rel}:5: fx-relu-range: unknown type 'yes_no'")
    assert lines[1].startswith(f"{rel}:25: fx-bounded-activations: answer index 9 is out of range")
    assert len(lines) == 2
    assert "2 problems" in result.stderr


def test_validate_missing_path_is_exit_2(tmp_path):
    result = runner.invoke(app, ["quiz", "validate", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2 and "no such quiz bank" in result.output


def test_gift_escaping():
    assert gift_escape("a{b}=c~d#e:f\\g") == "a\\{b\\}\\=c\\~d\\#e\\:f\\\\g"
    assert gift_escape("two\nlines") == "two\\nlines"


def test_export_gift(tmp_path):
    out = tmp_path / "bank.gift"
    result = runner.invoke(app, ["quiz", "export", "--format", "gift", str(out), "--bank", str(FIXTURE)])
    assert result.exit_code == 0, result.output
    assert "wrote 10 questions" in result.output
    gift = out.read_text(encoding="utf-8")
    blocks = {b.split("\n")[1].split("::")[1]: b for b in gift.split("\n\n") if "::" in b}
    assert len(blocks) == 10
    assert "$CATEGORY: $course$/dlgrade/milestones" in gift
    assert "{#2012:0 ####" in blocks["fx-alexnet-year"]
    assert "{#175000000000:5000000000 ####" in blocks["fx-gpt3-params"]  # never 1.75e+11
    assert "{T ####" in blocks["fx-relu-range"]
    assert "{=잔차(skip) 연결 (residual (skip) connections) ~모든 층의 드롭아웃 (dropout in every layer)" in blocks["fx-resnet-idea"]
    assert "~%50%sigmoid ~%50%tanh ~%-50%ReLU ~%-50%항등 함수 (identity)" in blocks["fx-bounded-activations"]
    assert "{=backpropagation =backprop =역전파 =오차역전파 =back-propagation ####" in blocks["fx-backprop-name"]
    assert "{=AlexNet -> 1 =ResNet -> 2 =Transformer -> 3 =GPT-3 -> 4 ####" in blocks["fx-timeline"]
    # special characters in the text are escaped: "1 / (1 + e^0) \= 0.5"
    assert "####1 / (1 + e^0) \\= 0.5}" in blocks["fx-sigmoid-mid"]
    assert "::[html]AlexNet이 ILSVRC에서 우승한 해는?<br>In which year" in blocks["fx-alexnet-year"]


def test_export_csv(tmp_path):
    out = tmp_path / "bank.csv"
    result = runner.invoke(app, ["quiz", "export", "--format", "csv", str(out), "--bank", str(FIXTURE)])
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0])[:6] == ["id", "topic", "type", "ko", "en", "answer"]
    assert {"key", "options_ko", "options_en", "explanation_ko", "explanation_en", "tags"} \
        <= set(rows[0])
    by_id = {r["id"]: r for r in rows}
    assert len(by_id) == 10
    assert by_id["fx-alexnet-year"]["answer"] == "2012"
    assert by_id["fx-timeline"]["answer"] == "AlexNet → ResNet → Transformer → GPT-3"
    assert by_id["fx-bounded-activations"]["answer"] == "sigmoid | tanh"
    assert by_id["fx-relu-range"]["ko"] == "ReLU의 출력은 음수가 될 수 없다."


@pytest.mark.parametrize(("args", "fragment"), [
    (["--format", "xml", "OUT"], "unknown --format 'xml'"),
    (["--format", "csv", "NODIR/x.csv"], "does not exist"),
])
def test_export_errors(tmp_path, args, fragment):
    args = [a.replace("OUT", str(tmp_path / "o")).replace("NODIR", str(tmp_path / "nodir")) for a in args]
    result = runner.invoke(app, ["quiz", "export", *args, "--bank", str(FIXTURE)])
    assert result.exit_code == 2 and fragment in result.output


# ------------------------------------------------------------------ a real process, a real SIGINT


def test_sigint_mid_session_keeps_every_answer(tmp_path):
    """A real `dlgrade quiz` process gets SIGINT while waiting for its third answer."""
    views = planned_views(5, seed=13)
    env = {**os.environ, "DLGRADE_HOME": str(tmp_path), "PYTHONUNBUFFERED": "1", "COLUMNS": "120"}
    proc = subprocess.Popen(
        [str(DLGRADE), "quiz", "--bank", str(FIXTURE), "--n", "5", "--seed", "13", "--lang", "en"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    chunks: list[bytes] = []
    reader = threading.Thread(target=lambda: chunks.extend(iter(lambda: proc.stdout.read1(4096), b"")))
    reader.start()

    def wait_for_prompts(count: int) -> None:
        deadline = time.monotonic() + 20
        while b"".join(chunks).count("›".encode()) < count:
            assert time.monotonic() < deadline, b"".join(chunks).decode(errors="replace")
            assert proc.poll() is None, b"".join(chunks).decode(errors="replace")
            time.sleep(0.02)

    try:
        for k in range(2):
            wait_for_prompts(2 * k + 1)  # the question
            proc.stdin.write((key_answer(views[k]) + "\n").encode())
            proc.stdin.flush()
            wait_for_prompts(2 * k + 2)  # its rating: Enter is Good
            proc.stdin.write(b"\n")
            proc.stdin.flush()
        wait_for_prompts(5)  # blocked in input() for the third question
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        reader.join(timeout=5)
    out = flat(b"".join(chunks).decode())
    assert "Interrupted: every answer so far is saved" in out and "Score: 2 / 2 (100%)" in out
    assert "Traceback" not in out
    assert db_rows(tmp_path, "SELECT qid FROM answers ORDER BY id") == [(v.question.id,) for v in views[:2]]


def test_when_everything_is_seen_and_nothing_due_it_says_when_to_come_back(tmp_path):
    view = present(load_bank(FIXTURE).by_id["fx-relu-range"], 0)
    args = ["quiz", "--bank", str(FIXTURE), "--tag", "relu", "--lang", "en"]
    first = invoke(args, tmp_path, key_answer(view) + "\n")
    assert first.exit_code == 0 and "Score: 1 / 1" in flat(first.output)
    again = invoke(args, tmp_path)
    assert again.exit_code == 0
    assert "Nothing is due and every question has been seen. Next review: in 10 min." in flat(again.output)


def test_a_malformed_answer_is_asked_again_and_never_stored(tmp_path):
    view = present(load_bank(FIXTURE).by_id["fx-resnet-idea"], 1)
    args = ["quiz", "--bank", str(FIXTURE), "--tag", "resnet", "--lang", "en", "--seed", "1"]
    result = invoke(args, tmp_path, f"z\n\n9\n{key_answer(view)}\n")
    out = flat(result.output)
    assert result.exit_code == 0
    assert out.count("Type a letter a–d") == 3 and out.count("›") == 5  # 4 tries, 1 rating
    assert "Score: 1 / 1 (100%)" in out
    assert db_rows(tmp_path, "SELECT given, correct FROM answers") == [(key_answer(view), 1)]


def test_db_option_wins_over_dlgrade_home(tmp_path):
    view = present(load_bank(FIXTURE).by_id["fx-relu-range"], 0)
    db = tmp_path / "mine.db"
    args = ["quiz", "--bank", str(FIXTURE), "--tag", "relu", "--db", str(db)]
    result = invoke(args, tmp_path / "home", key_answer(view) + "\n")
    assert result.exit_code == 0 and db.exists() and not (tmp_path / "home" / "quiz.db").exists()
    stats = invoke(["quiz", "stats", "--db", str(db)], tmp_path / "home")
    assert stats.exit_code == 0 and "total answers 1" in flat(stats.output)
    missing_dir = invoke(["quiz", "--bank", str(FIXTURE), "--db", str(tmp_path / "no" / "x.db")],
                         tmp_path / "home")
    assert missing_dir.exit_code == 2 and "does not exist" in missing_dir.output


def test_partial_credit_for_an_order_question_in_a_session(tmp_path):
    view = present(load_bank(FIXTURE).by_id["fx-timeline"], 1)
    key = key_answer(view)
    one_swap = key[1] + key[0] + key[2:]  # 5 of 6 pairs in the right order
    args = ["quiz", "--bank", str(FIXTURE), "--tag", "timeline", "--lang", "en", "--seed", "1"]
    result = invoke(args, tmp_path, one_swap + "\n")
    out = flat(result.output)
    assert result.exit_code == 0
    assert "Partly right 83% · 5 of 6 pairs in the right order" in out
    assert f"answer: {key}: AlexNet → ResNet → Transformer → GPT-3" in out
    assert "Score: 0.83 / 1 (83%)" in out
    assert db_rows(tmp_path, "SELECT round(score, 4), correct FROM answers") == [(0.8333, 0)]


def test_skip_and_quit_work_with_the_korean_input_method_on(tmp_path):
    args = ["quiz", "--bank", str(FIXTURE), "--n", "3", "--lang", "ko", "--seed", "1"]
    result = invoke(args, tmp_path, "ㄴ\nㅂ\n")  # the s and q keys
    out = flat(result.output)
    assert result.exit_code == 0 and "건너뜀" in out and "그만둠" in out and "2/3" in out
    assert "3/3" not in out


# ------------------------------------------------------------------ the start-up fast path


@pytest.mark.parametrize("argv", [
    ["quiz"],
    ["quiz", "run"],
    ["quiz", "--n", "3", "--lang", "ko", "--seed", "7"],
    ["quiz", "--topic", "losses", "--topic=gpus", "--tag", "adam", "--mistakes"],
    ["quiz", "run", "--exam", "--n=5", "--db", "x/p.db", "--bank=bank.yaml"],
])
def test_the_fast_path_reads_every_accepted_shape_as_typer_does(monkeypatch, argv):
    import cli

    seen: list[dict] = []

    def capture(topic, tag, n, lang, mistakes, exam, seed, db, bank):
        seen.append(dict(topic=topic, tag=tag, n=n, lang=lang, mistakes=mistakes, exam=exam,
                         seed=seed, db=db, bank=bank))

    monkeypatch.setattr(cli, "_quiz_session", capture)
    result = runner.invoke(app, argv)
    assert result.exit_code == 0, result.output
    assert cli._quiz_fast_args(argv) == seen[0]


@pytest.mark.parametrize("argv", [
    ["quiz", "--help"], ["quiz", "--n", "x"], ["quiz", "--n"], ["quiz", "--lang", "--n"],
    ["quiz", "--n", "-1"], ["quiz", "stats"], ["quiz", "--nn", "3"], ["list"], [],
    ["quiz", "--exam=yes"], ["quiz", "--topic", ""],
])
def test_anything_else_is_left_to_typer(argv):
    import cli

    assert cli._quiz_fast_args(argv) is None


def test_the_installed_command_takes_the_fast_path_and_keeps_its_errors(tmp_path):
    env = {**os.environ, "DLGRADE_HOME": str(tmp_path), "COLUMNS": "100"}
    bad = subprocess.run([str(DLGRADE), "quiz", "--bank", str(FIXTURE), "--lang", "fr"],
                         capture_output=True, text=True, env=env, timeout=60)
    assert bad.returncode == 2 and "unknown --lang 'fr'" in bad.stderr and not bad.stdout
    code = ("import sys, cli; sys.argv = ['dlgrade', 'quiz', '--bank', sys.argv[1], '--n', '1'];"
            "import builtins; builtins.input = lambda *a: 'q';"
            "import atexit; atexit.register(lambda: print('loaded:', sorted(m for m in "
            "('pydantic', 'torch', 'numpy', 'grader.grading') if m in sys.modules)));"
            "cli.app()")
    for _ in range(2):  # the first start validates the bank (pydantic); the second uses its cache
        run = subprocess.run([sys.executable, "-c", code, str(FIXTURE)], capture_output=True,
                             text=True, env=env, timeout=60)
    assert run.returncode == 0, run.stderr
    assert "Stopped" in run.stdout or "그만둠" in run.stdout
    assert "loaded: []" in run.stdout  # typer built no pydantic validators; no torch either


def test_a_defect_on_the_fast_path_is_one_line_unless_debugging(tmp_path, monkeypatch, capsys):
    import cli

    def broken(**_kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(cli, "_quiz_session", broken)
    with pytest.raises(SystemExit) as info:
        cli._quiz_fast_path(["quiz", "--n", "1"])
    assert info.value.code == 1
    assert "internal error: RuntimeError: boom" in capsys.readouterr().err
    monkeypatch.setenv("DLGRADE_DEBUG", "1")
    with pytest.raises(RuntimeError, match="boom"):
        cli._quiz_fast_path(["quiz", "--n", "1"])
