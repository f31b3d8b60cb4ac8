"""Learning like Anki with FSRS: ratings with intervals, relearning, undo, overrides, leeches,
daily limits, desired retention, unscheduled retakes and exams, the v1 -> v2 migration,
quiz.toml and `quiz optimize`. Every session runs on a frozen, injectable clock."""

from __future__ import annotations

import io
import json
import sqlite3
from datetime import datetime, timedelta, timezone

import pytest
from fsrs import Rating, State
from quiz_helpers import FIXTURE
from rich.console import Console

from grader.errors import UserError
from grader.quiz.bank import load_bank
from grader.quiz.config import load_settings, parse_assignment, save_settings
from grader.quiz.engine import key_answer, plan_review, present, select
from grader.quiz.scheduler import QuizScheduler, Settings, interval_text
from grader.quiz.session import QuizOptions, run_quiz
from grader.quiz.store import SCHEMA_VERSION, ProgressStore

T0 = datetime(2024, 5, 1, 9, 0, tzinfo=timezone.utc)
QUESTION_PROMPT = "[bold cyan]›[/]"


class Clock:
    def __init__(self, now: datetime = T0):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Learner:
    """Types `script` in order; every prompt it is shown is kept, and the clock moves on."""

    def __init__(self, script: list[str], clock: Clock, step: timedelta = timedelta(seconds=15)):
        self.script = list(script)
        self.clock = clock
        self.step = step
        self.prompts: list[str] = []

    def __call__(self, prompt: str) -> str:
        self.prompts.append(prompt)
        self.clock.now += self.step
        if not self.script:
            raise EOFError
        return self.script.pop(0)


def views_for(tag: str, n: int, seed: int = 1):
    pool = select(load_bank(FIXTURE).questions, tags=[tag])
    return [present(q, seed) for q, _ in plan_review(pool, due=[], seen=set(), n=n, seed=seed)]


def session(tmp_path, script, clock, *, tag="tmux", n=3, settings: Settings | None = None,
            **opts):
    learner = Learner(script, clock)
    console = Console(file=io.StringIO(), width=120)
    run_quiz(QuizOptions(n=n, seed=1, lang=opts.pop("lang", "en"), db=tmp_path / "p.db",
                         bank=FIXTURE, tags=(tag,) if tag else (), **opts),
             console=console, ask=learner, clock=clock, fuzz=False,
             settings=settings or Settings())
    return " ".join(console.file.getvalue().split()), learner  # type: ignore[attr-defined]


def rows(tmp_path, query):
    conn = sqlite3.connect(tmp_path / "p.db")
    try:
        return conn.execute(query).fetchall()
    finally:
        conn.close()


# ------------------------------------------------------------------ ratings and intervals


def test_each_rating_has_its_interval_and_a_review_card_orders_them():
    clock = Clock()
    sched = QuizScheduler(clock, fuzz=False)
    card = sched.rate(sched.new_card("q"), Rating.Good)
    clock.now = card.due
    card = sched.rate(card, Rating.Good)  # graduated: a review card
    assert card.state == State.Review
    clock.now = card.due
    after = {r: c.due - clock.now for r, c in sched.outcomes(card).items()}
    assert after[Rating.Again] < after[Rating.Hard] < after[Rating.Good] < after[Rating.Easy]
    assert after[Rating.Again] <= timedelta(minutes=10)


def test_a_higher_desired_retention_schedules_sooner():
    clock = Clock()
    dues = {}
    for retention in (0.8, 0.95):
        sched = QuizScheduler(clock, fuzz=False, settings=Settings(desired_retention=retention))
        card = sched.rate(sched.new_card("q"), Rating.Easy)
        dues[retention] = card.due
    assert dues[0.95] < dues[0.8]


@pytest.mark.parametrize(("delta", "text", "korean"), [
    (timedelta(minutes=1), "1m", "1분"), (timedelta(minutes=10), "10m", "10분"),
    (timedelta(hours=5), "5h", "5시간"), (timedelta(days=3), "3d", "3일"),
    (timedelta(days=75), "2.5mo", "2.5개월"), (timedelta(days=730), "2y", "2년")])
def test_interval_labels(delta, text, korean):
    assert interval_text(delta) == text
    assert interval_text(delta, "ko") == korean


def test_hard_and_easy_after_a_right_answer_apply_the_interval_shown(tmp_path):
    views = views_for("tmux", 3)
    clock = Clock()
    script = []
    for view, rating in zip(views, ["2", "4", ""], strict=True):  # Hard, Easy, Enter = Good
        script += [key_answer(view), rating]
    out, learner = session(tmp_path, script, clock)
    assert out.count("1 Again 1m · 2 Hard") == 3 and "4 Easy" in out
    assert "→ Hard:" in out and "→ Easy:" in out
    assert sum("Enter = Good" in p for p in learner.prompts) == 3
    ratings = rows(tmp_path, "SELECT qid, rating FROM answers ORDER BY id")
    assert ratings == [(views[0].question.id, 2), (views[1].question.id, 4),
                       (views[2].question.id, 3)]
    dues = dict(rows(tmp_path, "SELECT qid, due FROM cards"))
    easy = datetime.fromisoformat(dues[views[1].question.id])
    hard = datetime.fromisoformat(dues[views[0].question.id])
    assert easy - hard > timedelta(days=1)  # Easy graduates at once, Hard stays in learning


# ------------------------------------------------------------------ relearning in the session


def test_a_missed_card_comes_back_in_the_same_session(tmp_path):
    views = views_for("tmux", 3)
    clock = Clock()
    wrong = "2011" if views[0].question.type == "numeric" else "not-it"
    script = [wrong if views[0].question.type != "true_false" else "x", ""]
    for view in views[1:]:
        script += [key_answer(view), ""]
    script += [key_answer(views[0]), ""]  # relearned after the others
    out, _ = session(tmp_path, script, clock)
    assert "again in: 1m" in out and "relearn" in out
    assert "relearned: 1/1" in out and "Score: 2 / 3" in out
    kinds = rows(tmp_path, "SELECT qid, kind, rating FROM answers ORDER BY id")
    assert kinds[-1] == (views[0].question.id, "relearn", 3)
    assert len(kinds) == 4


def test_relearning_waits_for_the_card_to_be_due_when_there_is_more_to_ask(tmp_path):
    views = views_for("tmux", 3)
    clock = Clock()
    wrong = {"numeric": "1999", "true_false": "x", "short": "nope"}[views[0].question.type]
    learner_script = [wrong, "", key_answer(views[1]), "", key_answer(views[0]), "",
                      key_answer(views[2]), ""]
    # each prompt takes 40 s: the missed card (due in 1 min) is due again after the next question
    learner = Learner(learner_script, clock, step=timedelta(seconds=40))
    console = Console(file=io.StringIO(), width=120)
    run_quiz(QuizOptions(n=3, seed=1, lang="en", db=tmp_path / "p.db", bank=FIXTURE,
                         tags=("tmux",)), console=console, ask=learner, clock=clock, fuzz=False,
             settings=Settings())
    order = [qid for qid, in rows(tmp_path, "SELECT qid FROM answers ORDER BY id")]
    assert order == [views[0].question.id, views[1].question.id, views[0].question.id,
                     views[2].question.id]


def test_learn_ahead_zero_keeps_missed_cards_for_a_later_session(tmp_path):
    views = views_for("tmux", 1)
    out, _ = session(tmp_path, ["1999" if views[0].question.type == "numeric" else "x", ""],
                     Clock(), n=1, settings=Settings(learn_ahead_minutes=0))
    assert "relearn" not in out and "Interrupted" not in out


# ------------------------------------------------------------------ undo and override


def test_undo_takes_the_last_answer_back_and_asks_again(tmp_path):
    views = views_for("tmux", 2)
    clock = Clock()
    script = [key_answer(views[0]), "4",   # Easy...
              "u",                         # ...undone at the next question
              key_answer(views[0]), "",     # answered again: Good
              key_answer(views[1]), "u",    # undone at its own rating prompt
              key_answer(views[1]), ""]
    out, _ = session(tmp_path, script, clock, n=2)
    assert out.count("Last answer undone") == 2
    assert rows(tmp_path, "SELECT qid, rating FROM answers ORDER BY id") == \
        [(views[0].question.id, 3), (views[1].question.id, 3)]
    assert "Score: 2 / 2" in out


def test_undo_of_a_new_card_removes_the_card_and_of_a_review_restores_it(tmp_path):
    clock = Clock()
    sched = QuizScheduler(clock, fuzz=False)
    with ProgressStore.open(tmp_path / "p.db") as store:
        sid = store.start_session(mode="review", seed=1, lang="en", planned=2, now=T0)
        first = store.record_answer(session_id=sid, qid="a", topic="t", given="x", score=1.0,
                                    correct=True, now=T0, card=sched.review(sched.new_card("a"), True))
        before = store.card("a")
        second = store.record_answer(session_id=sid, qid="a", topic="t", given="y", score=0.0,
                                     correct=False, now=T0, card=sched.review(before, False),
                                     card_before=before)
        assert store.undo(second.answer_id) == "a"
        assert store.card("a").to_json() == before.to_json()
        store.undo(first.answer_id)
        assert store.card("a") is None and store.count_answers() == 0
        with pytest.raises(UserError, match="nothing to undo"):
            store.undo(first.answer_id)


def test_i_was_right_is_recorded_with_the_typed_answer_and_listed(tmp_path):
    views = views_for("tmux", 1)
    typed = {"numeric": "2012 (the ILSVRC year)", "short": "backprop algorithm",
             "true_false": "f"}[views[0].question.type]
    out, _ = session(tmp_path, [typed, "!"], Clock(), n=1)
    if "Right!" in out.split("Summary")[0]:
        pytest.skip("the typed answer was accepted as right; nothing to override")
    assert "Recorded as right" in out and "Score: 1 / 1" in out
    assert rows(tmp_path, "SELECT given, correct, rating, override FROM answers") == \
        [(typed, 1, 3, 1)]
    with ProgressStore.open(tmp_path / "p.db") as store:
        assert [(d.qid, d.given) for d in store.disputes()] == [(views[0].question.id, typed)]


# ------------------------------------------------------------------ leeches and daily limits


def test_a_card_forgotten_n_times_is_suspended_and_listed(tmp_path):
    clock = Clock()
    sched = QuizScheduler(clock, fuzz=False)
    with ProgressStore.open(tmp_path / "p.db") as store:
        sid = store.start_session(mode="review", seed=1, lang="en", planned=9, now=T0)
        card = sched.rate(sched.new_card("a"), Rating.Easy)  # straight to review
        store.record_answer(session_id=sid, qid="a", topic="t", given="", score=1, correct=True,
                            now=clock.now, card=card, rating=4)
        suspended = []
        for _ in range(3):
            clock.now = card.due
            before, card = card, sched.rate(card, Rating.Again)
            suspended.append(store.record_answer(
                session_id=sid, qid="a", topic="t", given="", score=0, correct=False,
                now=clock.now, card=card, rating=1, card_before=before, lapse=True,
                leech_lapses=3).suspended)
            clock.now = card.due
            before, card = card, sched.rate(card, Rating.Good)  # relearned, back to review
            store.record_answer(session_id=sid, qid="a", topic="t", given="", score=1,
                                correct=True, now=clock.now, card=card, card_before=before,
                                rating=3)
        assert suspended == [False, False, True]
        assert store.due_ids(clock.now + timedelta(days=999)) == []
        assert [(x.qid, x.lapses, x.suspended) for x in store.leeches()] == [("a", 3, True)]
        assert store.unsuspend("a") and store.due_ids(clock.now + timedelta(days=999)) == ["a"]


def test_the_daily_new_card_limit_holds_across_sessions(tmp_path):
    clock = Clock()
    views = views_for("tmux", 3)
    settings = Settings(new_per_day=2, learn_ahead_minutes=0)
    out, _ = session(tmp_path, [key_answer(views[0]), "", key_answer(views[1]), ""], clock,
                     n=3, settings=settings)
    assert "2/2" in out and "3/3" not in out
    again, _ = session(tmp_path, [], clock, n=3, settings=settings)
    assert "Today's 2 new questions are done" in again
    clock.now += timedelta(days=1)
    tomorrow, _ = session(tmp_path, ["s", "s", "s"], clock, n=3, settings=settings)
    assert "2 review" not in tomorrow and views[2].question.prompt.en in tomorrow  # 2 due + 1 new


def test_the_daily_review_limit(tmp_path):
    clock = Clock()
    views = views_for("tmux", 3)
    script = []
    for view in views:
        script += [key_answer(view), ""]
    session(tmp_path, script, clock, n=3)
    clock.now += timedelta(hours=1)  # all three due (learning steps)
    settings = Settings(reviews_per_day=1)
    out, learner = session(tmp_path, [key_answer(views[0]), ""] * 3, clock, n=3, settings=settings)
    assert "1/1" in out and "2/2" not in out


# ------------------------------------------------------------------ retakes and exams


def test_mistakes_and_exam_never_touch_the_schedule(tmp_path):
    clock = Clock()
    views = views_for("tmux", 3)
    wrong = {"numeric": "1999", "true_false": "x" if views[0].question.answer else "o",
             "short": "nope"}
    script = []
    for view in views:
        script += [wrong[view.question.type] if view.question.type != "true_false"
                   or view.question.answer else "o", ""]
    session(tmp_path, script, clock, n=3, settings=Settings(learn_ahead_minutes=0))
    cards = rows(tmp_path, "SELECT qid, due, card FROM cards ORDER BY qid")
    clock.now += timedelta(minutes=5)
    retake = [key_answer(v) for v in views]
    out, _ = session(tmp_path, retake + ["", "", ""], clock, mistakes=True, n=3)
    assert "the review schedule is left as it is" in out
    exam, learner = session(tmp_path, ["s"] + [key_answer(v) for v in views], clock, exam=True,
                            n=3, tag=None)
    assert rows(tmp_path, "SELECT qid, due, card FROM cards ORDER BY qid") == cards
    assert rows(tmp_path, "SELECT COUNT(*) FROM answers WHERE kind = 'retake' AND rating IS NULL")[0][0] >= 1
    assert "Right!" not in exam.split("Summary")[0] and "Wrong" not in exam.split("Summary")[0]
    assert "answers are shown at the end" in exam


# ------------------------------------------------------------------ the database migrates


V1_SCHEMA = """
CREATE TABLE sessions (id INTEGER PRIMARY KEY, started TEXT NOT NULL, finished TEXT,
    mode TEXT NOT NULL, seed INTEGER, lang TEXT NOT NULL, planned INTEGER NOT NULL);
CREATE TABLE answers (id INTEGER PRIMARY KEY, session_id INTEGER NOT NULL REFERENCES sessions(id),
    qid TEXT NOT NULL, topic TEXT NOT NULL, answered TEXT NOT NULL, given TEXT NOT NULL,
    score REAL NOT NULL, correct INTEGER NOT NULL, exam INTEGER NOT NULL);
CREATE INDEX answers_by_question ON answers(qid, answered);
CREATE INDEX answers_by_time ON answers(answered);
CREATE TABLE cards (qid TEXT PRIMARY KEY, due TEXT NOT NULL, card TEXT NOT NULL);
CREATE INDEX cards_by_due ON cards(due);
PRAGMA user_version = 1;
"""


def test_a_version_1_database_is_migrated_without_losing_anything(tmp_path):
    path = tmp_path / "old.db"
    sched = QuizScheduler(Clock(), fuzz=False)
    card = sched.review(sched.new_card("fx-relu-range"), True)
    conn = sqlite3.connect(path)
    conn.executescript(V1_SCHEMA)
    conn.execute("INSERT INTO sessions VALUES (1, ?, ?, 'review', 3, 'ko', 3)",
                 (T0.isoformat(), T0.isoformat()))
    stamp = T0.isoformat(timespec="microseconds")
    conn.executemany("INSERT INTO answers VALUES (?, 1, ?, 't', ?, ?, ?, ?, ?)", [
        (1, "fx-relu-range", stamp, "o", 1.0, 1, 0),
        (2, "fx-alexnet-year", stamp, "2011", 0.0, 0, 0),
        (3, "fx-timeline", stamp, "abdc", 0.83, 0, 1)])
    conn.execute("INSERT INTO cards VALUES ('fx-relu-range', ?, ?)",
                 (card.due.isoformat(timespec="microseconds"), card.to_json()))
    conn.commit()
    conn.close()

    with ProgressStore.open(path) as store:
        assert store.count_answers() == 3
        assert store.card("fx-relu-range").to_json() == card.to_json()
        assert store.mistake_ids() == ["fx-timeline", "fx-alexnet-year"]
    check = sqlite3.connect(path)
    assert check.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,) == (2,)
    assert check.execute("SELECT id, rating, kind, lapse, override FROM answers ORDER BY id").fetchall() == \
        [(1, 3, "review", 0, 0), (2, 1, "review", 0, 0), (3, None, "exam", 0, 0)]
    assert check.execute("SELECT lapses, suspended FROM cards").fetchall() == [(0, 0)]
    check.close()
    backup = tmp_path / "old.db.schema1.bak"
    old = sqlite3.connect(backup)
    assert old.execute("PRAGMA user_version").fetchone() == (1,)
    assert old.execute("SELECT COUNT(*) FROM answers").fetchone() == (3,)
    old.close()
    # and a session runs on the migrated file
    by_id = {v.question.id: v for v in views_for("tmux", 3)}
    # due first: the migrated card; then the one question never answered
    script = [key_answer(by_id["fx-relu-range"]), "", key_answer(by_id["fx-backprop-name"]), ""]
    clock = Clock(T0 + timedelta(days=2))
    learner = Learner(script, clock)
    run_quiz(QuizOptions(n=3, seed=1, lang="en", db=path, bank=FIXTURE, tags=("tmux",)),
             console=Console(file=io.StringIO()), ask=learner, clock=clock, fuzz=False,
             settings=Settings())
    with ProgressStore.open(path) as store:
        assert store.count_answers() == 5
        assert store.card("fx-relu-range").to_json() != card.to_json()  # reviewed again


# ------------------------------------------------------------------ quiz.toml


def test_settings_round_trip_and_bad_values_are_one_line(tmp_path):
    path = tmp_path / "quiz.toml"
    assert load_settings(path) == Settings()
    save_settings(Settings(desired_retention=0.85, new_per_day=5), path)
    assert load_settings(path) == Settings(desired_retention=0.85, new_per_day=5)
    assert parse_assignment("desired-retention=0.8") == ("desired_retention", 0.8)
    for bad, fragment in (("desired_retention = 1.5", "between 0.7 and 0.99"),
                          ("new_per_day = 2.5", "whole number"), ("colour = 1", "unknown setting"),
                          ("new_per_day = ", "not valid TOML")):
        path.write_text(bad + "\n")
        with pytest.raises(UserError, match=fragment):
            load_settings(path)


# ------------------------------------------------------------------ optimize


def synthetic_log(cards: int, reviews: int, seed: int = 0):
    """A learner whose recall falls with the days since the last review, scheduled by FSRS."""
    import random

    from fsrs import Card, Scheduler

    rng = random.Random(seed)
    scheduler = Scheduler(enable_fuzzing=False)
    log = []
    for c in range(cards):
        card = Card(card_id=c, due=T0)
        when = T0 + timedelta(hours=rng.randrange(48))
        for _ in range(reviews):
            elapsed = (when - card.last_review).days if card.last_review else 0
            recall = 0.95 / (1 + elapsed / (9 * (2 + 3 * (card.stability or 0))))
            rating = Rating.Good if rng.random() < recall else Rating.Again
            log.append((f"q{c}", int(rating), when))
            card, _ = scheduler.review_card(card, rating, review_datetime=when)
            when = max(card.due, when + timedelta(days=1)) + timedelta(hours=rng.randrange(30))
    return log


def test_optimize_refuses_a_log_smaller_than_it_needs():
    from grader.quiz.optimize import MIN_REVIEWS, cross_day_reviews, fit

    log = synthetic_log(cards=20, reviews=4)
    assert cross_day_reviews(log) < MIN_REVIEWS == 512
    with pytest.raises(UserError, match=f"at least {MIN_REVIEWS} reviews"):
        fit(log)


@pytest.mark.slow
def test_optimize_fits_parameters_on_a_synthetic_log_of_the_size_it_needs(monkeypatch, tmp_path):
    pytest.importorskip("pandas")
    pytest.importorskip("torch")
    import fsrs.optimizer
    from fsrs.scheduler import DEFAULT_PARAMETERS

    from grader.quiz.optimize import MIN_REVIEWS, cross_day_reviews, fit

    monkeypatch.setattr(fsrs.optimizer, "num_epochs", 1)  # one pass keeps the test short
    log = synthetic_log(cards=90, reviews=7)
    assert cross_day_reviews(log) >= MIN_REVIEWS
    result = fit(log)
    assert result.reviews >= MIN_REVIEWS and result.cards == 90
    assert len(result.parameters) == len(DEFAULT_PARAMETERS)
    assert result.parameters != tuple(DEFAULT_PARAMETERS)
    sched = QuizScheduler(Clock(), fuzz=False, settings=Settings(parameters=result.parameters))
    assert sched.rate(sched.new_card("q"), Rating.Good).due > T0

    # stored in the progress database, and used by the next session
    with ProgressStore.open(tmp_path / "p.db") as store:
        store.set_setting("fsrs_parameters", json.dumps(result.parameters))
        from grader.quiz.session import with_fitted_parameters

        assert with_fitted_parameters(Settings(), store).parameters == result.parameters


def test_unusable_fitted_parameters_are_one_clear_line(tmp_path):
    with ProgressStore.open(tmp_path / "p.db") as store:
        store.set_setting("fsrs_parameters", "[1, 2, 3]")  # wrong length: fsrs refuses them
    with pytest.raises(UserError, match="optimize --reset"):
        session(tmp_path, [], Clock(), n=1)
    with ProgressStore.open(tmp_path / "p.db") as store:
        store.set_setting("fsrs_parameters", "not json")
    with pytest.raises(UserError, match="optimize --reset"):
        session(tmp_path, [], Clock(), n=1)


def test_undo_and_override_keys_work_with_the_korean_input_method_on(tmp_path):
    views = views_for("tmux", 2)
    typed = {"numeric": "2012 (year)", "short": "backprop algorithm x", "true_false": "f"}
    script = [key_answer(views[0]), "", "ㅕ", key_answer(views[0]), "",  # ㅕ is u
              typed[views[1].question.type], "!"]
    out, _ = session(tmp_path, script, Clock(), n=2, settings=Settings(learn_ahead_minutes=0))
    assert "Last answer undone" in out
    assert rows(tmp_path, "SELECT COUNT(*) FROM answers")[0][0] == 2


# ------------------------------------------------------------------ the commands around a session


def test_disputes_leeches_optimize_and_config_commands(tmp_path):
    from typer.testing import CliRunner

    from cli import app

    runner = CliRunner()
    home = tmp_path / "home"
    env = {"DLGRADE_HOME": str(home), "COLUMNS": "160"}
    views = views_for("tmux", 1)
    typed = {"numeric": "2012 (year)", "short": "reverse-mode autodiff", "true_false": "f"}
    first = runner.invoke(app, ["quiz", "--bank", str(FIXTURE), "--tag", "tmux", "--n", "1",
                                "--seed", "1", "--lang", "en"],
                          input=f"{typed[views[0].question.type]}\n!\n", env=env)
    assert first.exit_code == 0, first.output
    disputes = runner.invoke(app, ["quiz", "disputes", "--bank", str(FIXTURE)], env=env)
    assert disputes.exit_code == 0 and views[0].question.id in disputes.output
    assert typed[views[0].question.type] in disputes.output

    leeches = runner.invoke(app, ["quiz", "leeches"], env=env)
    assert leeches.exit_code == 0 and "No leeches" in leeches.output
    with ProgressStore.open(home / "quiz.db") as store:
        store.conn.execute("UPDATE cards SET lapses = 8, suspended = 1")
    listed = runner.invoke(app, ["quiz", "leeches"], env=env)
    assert views[0].question.id in listed.output and "suspended" in listed.output
    back = runner.invoke(app, ["quiz", "leeches", "--unsuspend", views[0].question.id], env=env)
    assert back.exit_code == 0 and "back in your reviews" in back.output
    again = runner.invoke(app, ["quiz", "leeches", "--unsuspend", "nope"], env=env)
    assert again.exit_code == 2 and "not a suspended leech" in again.output

    small = runner.invoke(app, ["quiz", "optimize"], env=env)
    assert small.exit_code == 2 and "at least 512 reviews" in small.output
    reset = runner.invoke(app, ["quiz", "optimize", "--reset"], env=env)
    assert reset.exit_code == 0 and "reset to the defaults" in reset.output

    shown = runner.invoke(app, ["quiz", "config", "--set", "desired_retention=0.85",
                                "--set", "new_per_day=7"], env=env)
    assert shown.exit_code == 0 and "0.85" in shown.output
    assert load_settings(home / "quiz.toml") == Settings(desired_retention=0.85, new_per_day=7)
    bad = runner.invoke(app, ["quiz", "config", "--set", "desired_retention=2"], env=env)
    assert bad.exit_code == 2 and "between 0.7 and 0.99" in bad.output
    for command in (["quiz", "disputes"], ["quiz", "leeches"], ["quiz", "optimize"]):
        fresh = runner.invoke(app, command, env={"DLGRADE_HOME": str(tmp_path / "none")})
        assert fresh.exit_code == 2 and "no quiz progress yet" in fresh.output


def test_undo_of_a_relearning_answer_asks_it_again_before_anything_due(tmp_path):
    views = views_for("tmux", 2)
    wrong = {"numeric": "1999", "true_false": "x", "short": "nope"}
    first, second = views
    script = [wrong[first.question.type] if first.question.type != "true_false"
              or first.question.answer else "o", "",      # missed: relearned later
              key_answer(second), "",                      # the second question
              key_answer(first), "u",                      # relearned, then taken back at once
              key_answer(first), ""]                       # so it is asked again, right away
    out, learner = session(tmp_path, script, Clock(), n=2)
    assert out.count("Last answer undone") == 1
    kinds = rows(tmp_path, "SELECT qid, kind, rating FROM answers ORDER BY id")
    assert kinds == [(first.question.id, "new", 1), (second.question.id, "new", 3),
                     (first.question.id, "relearn", 3)]
    assert "relearned: 1/1" in out and "Interrupted" not in out


def test_the_question_taken_back_comes_before_a_due_relearning_card(tmp_path):
    views = views_for("tmux", 3)
    first, second, third = views
    wrong = {"numeric": "1999", "true_false": "x" if first.question.answer else "o",
             "short": "nope"}[first.question.type]
    # 15 s a key: the missed first is due again at 75 s, just as "u" is typed at the third
    script = [wrong, "", key_answer(second), "",
              "u",                                  # at the third: take the second back
              key_answer(second), "4",              # asked again at once, rated Easy
              key_answer(first), "",                # only then the due relearning
              key_answer(third), ""]
    clock = Clock()
    learner = Learner(script, clock, step=timedelta(seconds=15))
    console = Console(file=io.StringIO(), width=120)
    run_quiz(QuizOptions(n=3, seed=1, lang="en", db=tmp_path / "p.db", bank=FIXTURE,
                         tags=("tmux",)), console=console, ask=learner, clock=clock, fuzz=False,
             settings=Settings())
    assert rows(tmp_path, "SELECT qid, kind, rating FROM answers ORDER BY id") == [
        (first.question.id, "new", 1), (second.question.id, "new", 4),
        (first.question.id, "relearn", 3), (third.question.id, "new", 3)]
