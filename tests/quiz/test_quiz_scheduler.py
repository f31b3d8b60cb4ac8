"""FSRS scheduling with a fixed clock, and the SQLite progress store."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from grader.errors import UserError
from grader.quiz import stats
from grader.quiz.scheduler import QuizScheduler, as_utc
from grader.quiz.store import SCHEMA_VERSION, ProgressStore, default_db_path

T0 = datetime(2024, 3, 1, 9, 0, tzinfo=timezone.utc)


class FakeClock:
    def __init__(self, now: datetime = T0):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


def test_right_is_due_later_than_wrong_on_first_and_later_reviews():
    clock = FakeClock()
    sched = QuizScheduler(clock, fuzz=False)
    right = sched.review(sched.new_card("a"), correct=True)
    wrong = sched.review(sched.new_card("b"), correct=False)
    assert wrong.due == T0 + timedelta(minutes=1)  # Again: the first learning step
    assert right.due == T0 + timedelta(minutes=10)  # Good: the next learning step
    assert right.due.tzinfo == timezone.utc

    clock.now = right.due
    graduated = sched.review(right, correct=True)
    assert graduated.due - clock.now >= timedelta(days=1)
    clock.now = graduated.due
    longer = sched.review(graduated, correct=True)
    lapsed = sched.review(graduated, correct=False)
    assert longer.due - clock.now > graduated.due - right.due  # intervals grow
    assert lapsed.due < longer.due
    assert lapsed.due - clock.now <= timedelta(minutes=10)


def test_naive_times_are_refused():
    sched = QuizScheduler(lambda: datetime(2024, 1, 1), fuzz=False)
    with pytest.raises(ValueError, match="timezone-aware"):
        sched.new_card("a")
    seoul = timezone(timedelta(hours=9))
    assert as_utc(datetime(2024, 1, 1, 9, tzinfo=seoul)) == datetime(2024, 1, 1, tzinfo=timezone.utc)


def test_store_round_trips_cards_and_orders_due(tmp_path):
    clock = FakeClock()
    sched = QuizScheduler(clock, fuzz=False)
    with ProgressStore.open(tmp_path / "p.db") as store:
        sid = store.start_session(mode="review", seed=1, lang="ko", planned=3, now=clock())
        for qid, correct in (("late", True), ("soon", False), ("mid", True)):
            card = sched.review(sched.new_card(qid), correct)
            if qid == "mid":
                card.due = T0 + timedelta(minutes=5)
            store.record_answer(session_id=sid, qid=qid, topic="losses", given="x",
                                score=float(correct), correct=correct, now=clock(), card=card)
        assert store.due_ids(T0) == []
        assert store.due_ids(T0 + timedelta(minutes=6)) == ["soon", "mid"]
        assert store.due_ids(T0 + timedelta(hours=1)) == ["soon", "mid", "late"]
        loaded = store.card("late")
        assert loaded is not None and loaded.due == T0 + timedelta(minutes=10)
        assert loaded.due.tzinfo == timezone.utc
        assert store.seen_ids() == {"late", "soon", "mid"}
        assert store.mistake_ids() == ["soon"]


def test_mistakes_are_the_questions_whose_latest_answer_was_wrong(tmp_path):
    with ProgressStore.open(tmp_path / "p.db") as store:
        sid = store.start_session(mode="review", seed=1, lang="ko", planned=3, now=T0)
        for qid, correct in (("a", False), ("b", False), ("a", True), ("c", False)):
            store.record_answer(session_id=sid, qid=qid, topic="t", given="", score=0.0,
                                correct=correct, now=T0, card=None)
        assert store.mistake_ids() == ["c", "b"]


def test_exam_answers_are_recorded_without_touching_cards(tmp_path):
    with ProgressStore.open(tmp_path / "p.db") as store:
        sid = store.start_session(mode="exam", seed=1, lang="en", planned=1, now=T0)
        store.record_answer(session_id=sid, qid="a", topic="t", given="b", score=0.0,
                            correct=False, now=T0, card=None)
        assert store.card("a") is None and store.count_answers() == 1
        assert store.answers()[0].exam


def test_schema_is_versioned_and_in_wal_mode(tmp_path):
    path = tmp_path / "p.db"
    ProgressStore.open(path).close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    with pytest.raises(UserError, match="newer"):
        ProgressStore.open(path)


@pytest.mark.parametrize("content", [
    b"this is not a database, it is somebody's notes\n" * 20,
    b"SQLite format 3\x00" + b"\xff" * 4000,
])
def test_a_corrupt_or_foreign_file_is_refused_and_left_untouched(tmp_path, content):
    path = tmp_path / "quiz.db"
    path.write_bytes(content)
    with pytest.raises(UserError) as info:
        ProgressStore.open(path)
    assert "\n" not in str(info.value) and str(path) in str(info.value)
    assert path.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["quiz.db"]


def test_a_sqlite_file_of_someone_else_is_refused(tmp_path):
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE grades(x)")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(UserError, match="not dlgrade's quiz progress"):
        ProgressStore.open(path)
    assert path.read_bytes() == before


def test_db_location_from_dlgrade_home(monkeypatch, tmp_path):
    monkeypatch.setenv("DLGRADE_HOME", str(tmp_path / "home"))
    assert default_db_path() == tmp_path / "home" / "quiz.db"
    monkeypatch.delenv("DLGRADE_HOME")
    assert default_db_path().name == "quiz.db" and "dlgrade" in str(default_db_path())


def test_stats_open_never_creates_a_database(tmp_path):
    with pytest.raises(UserError, match="no quiz progress yet"):
        ProgressStore.open(tmp_path / "none.db", create=False)
    assert not (tmp_path / "none.db").exists()


def test_an_interrupted_write_leaves_neither_the_answer_nor_the_card(tmp_path, monkeypatch):
    """A KeyboardInterrupt between the answer and the card update rolls both back."""
    path = tmp_path / "p.db"
    sched = QuizScheduler(FakeClock(), fuzz=False)
    with ProgressStore.open(path) as store:
        sid = store.start_session(mode="review", seed=1, lang="ko", planned=1, now=T0)
        card = sched.review(sched.new_card("a"), True)

        def interrupted(_card):
            raise KeyboardInterrupt

        monkeypatch.setattr("grader.quiz.store.card_to_json", interrupted)
        with pytest.raises(KeyboardInterrupt):
            store.record_answer(session_id=sid, qid="a", topic="t", given="t", score=1.0,
                                correct=True, now=T0, card=card)
        assert store.count_answers() == 0 and store.card("a") is None


def test_stats_streak_due_today_and_activity(tmp_path):
    seoul = timezone(timedelta(hours=9))
    now = datetime(2024, 3, 10, 3, 0, tzinfo=timezone.utc)  # 12:00 in Seoul
    days_ago = [0, 0, 1, 2, 4, 29, 30]
    with ProgressStore.open(tmp_path / "p.db") as store:
        sid = store.start_session(mode="review", seed=1, lang="ko", planned=9, now=now)
        for i, d in enumerate(days_ago):
            store.record_answer(session_id=sid, qid=f"q{i}", topic="losses" if i % 2 else "gpus",
                                given="", score=float(i % 3 == 0), correct=i % 3 == 0,
                                now=now - timedelta(days=d), card=None)
        sched = QuizScheduler(lambda: now, fuzz=False)
        for qid, due in (("d1", now + timedelta(hours=11)), ("d2", now + timedelta(hours=13)),
                         ("d3", now - timedelta(days=3))):
            card = sched.new_card(qid)
            card.due = due
            store.record_answer(session_id=sid, qid=qid, topic="gpus", given="", score=1.0,
                                correct=True, now=now, card=card)
        result = stats.collect(store, now, seoul)
    # Seoul's day ends at 15:00 UTC: d1 (14:00 UTC) is due today, d2 (16:00) tomorrow
    assert result.due_today == 2
    assert result.streak == 3  # today, yesterday, the day before; not 4 days ago
    assert result.total == 10
    assert [n for _, n in result.activity][-5:] == [1, 0, 1, 1, 5]
    assert result.activity[0] == (result.today - timedelta(days=29), 1)
    assert sum(n for _, n in result.activity) == 9  # 30 days ago is outside the window
    by_topic = {row.topic: row for row in result.topics}
    assert by_topic["losses"].answered == 3 and by_topic["gpus"].answered == 7
    bar = stats.activity_bar(result.activity).plain
    assert len(bar) == 30 and bar[-1] == "█" and bar[-2] == "▂" and bar[-4] == "·"


def test_streak_survives_until_the_end_of_the_next_day(tmp_path):
    now = datetime(2024, 3, 10, 12, 0, tzinfo=timezone.utc)
    with ProgressStore.open(tmp_path / "p.db") as store:
        sid = store.start_session(mode="review", seed=1, lang="ko", planned=2, now=now)
        for d in (1, 2):
            store.record_answer(session_id=sid, qid=f"q{d}", topic="t", given="", score=1.0,
                                correct=True, now=now - timedelta(days=d), card=None)
        assert stats.collect(store, now, timezone.utc).streak == 2
        assert stats.collect(store, now + timedelta(days=1), timezone.utc).streak == 0


def test_a_quiz_imports_no_torch_and_from_a_warm_cache_no_pydantic_or_yaml(tmp_path: Path):
    """Start-up cost: torch and numpy are never imported; validation only when the bank changed."""
    import os
    import subprocess
    import sys

    fixture = Path(__file__).resolve().parents[1] / "data" / "quiz_bank"
    code = ("import sys, cli, grader.quiz.session, grader.quiz.store, grader.quiz.stats;"
            "from grader.quiz.bank import load_bank;"
            f"bank = load_bank(__import__('pathlib').Path({str(fixture)!r}));"
            "print(len(bank.questions), sorted(m for m in ('torch', 'numpy', 'pydantic', 'yaml')"
            " if m in sys.modules))")
    env = {**os.environ, "DLGRADE_HOME": str(tmp_path)}
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                           env=env) for _ in range(2)]
    assert [r.stdout.strip() for r in runs] == ["10 ['pydantic', 'yaml']", "10 []"], runs
