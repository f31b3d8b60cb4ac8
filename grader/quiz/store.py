"""Quiz progress in SQLite: one file, WAL, schema versioned with PRAGMA user_version.

Each answer is one transaction together with its card update, so a session killed at any
moment (Ctrl-C, a closed terminal) keeps every answer committed before it. A file that is not
a dlgrade progress database is never replaced or repaired: it is a UserError.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from fsrs import Card

from grader.errors import UserError
from grader.quiz.scheduler import as_utc, card_from_json, card_to_json
from grader.sqlite import Database, Schema, open_database

SCHEMA_VERSION = 1
DB_NAME = "quiz.db"
APPLICATION_ID = 0x646C7171  # "dlqq": tells a dlgrade progress file from any other SQLite file

_SCHEMA = """
CREATE TABLE sessions (
    id       INTEGER PRIMARY KEY,
    started  TEXT NOT NULL,              -- UTC, ISO 8601
    finished TEXT,
    mode     TEXT NOT NULL,              -- review | mistakes | exam
    seed     INTEGER,
    lang     TEXT NOT NULL,
    planned  INTEGER NOT NULL
);
CREATE TABLE answers (
    id         INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    qid        TEXT NOT NULL,
    topic      TEXT NOT NULL,
    answered   TEXT NOT NULL,            -- UTC, ISO 8601
    given      TEXT NOT NULL,
    score      REAL NOT NULL,
    correct    INTEGER NOT NULL,
    exam       INTEGER NOT NULL
);
CREATE INDEX answers_by_question ON answers(qid, answered);
CREATE INDEX answers_by_time ON answers(answered);
CREATE TABLE cards (
    qid     TEXT PRIMARY KEY,
    due     TEXT NOT NULL,               -- UTC, ISO 8601 with microseconds: sorts as text
    card    TEXT NOT NULL                -- the fsrs Card as JSON
);
CREATE INDEX cards_by_due ON cards(due);
"""
_FILE = Schema(
    noun="dlgrade's quiz progress", file_noun="progress database file",
    missing="no quiz progress yet ({path} does not exist): run `dlgrade quiz`",
    version=SCHEMA_VERSION, application_id=APPLICATION_ID, ddl=_SCHEMA,
    tables=frozenset({"sessions", "answers", "cards"}))


def default_db_path() -> Path:
    """$DLGRADE_HOME/quiz.db, else quiz.db in the user data directory."""
    home = os.environ.get("DLGRADE_HOME")
    if home:
        return Path(home).expanduser() / DB_NAME
    from platformdirs import user_data_dir

    return Path(user_data_dir("dlgrade", appauthor=False)) / DB_NAME


def stamp(moment: datetime) -> str:
    return as_utc(moment).isoformat(timespec="microseconds")


def parse_stamp(text: str) -> datetime:
    return as_utc(datetime.fromisoformat(text))


@dataclass(frozen=True)
class AnswerRow:
    qid: str
    topic: str
    answered: datetime
    score: float
    correct: bool
    exam: bool


class ProgressStore(Database):
    """The learner's answers, sessions and FSRS cards."""

    def __init__(self, conn: sqlite3.Connection, path: Path):
        super().__init__(conn)
        self.path = path

    # ------------------------------------------------------------ opening

    @classmethod
    def open(cls, path: Path | None = None, *, create: bool = True) -> ProgressStore:
        """Open (and, when `create`, make) the progress database; UserError if it is not one."""
        explicit = path is not None
        path = default_db_path() if path is None else Path(path).expanduser()
        if create and not path.exists():
            if explicit and not path.parent.is_dir():
                raise UserError(f"cannot create {path}: folder {path.parent} does not exist")
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise UserError(f"cannot create {path.parent}: {exc.strerror}") from None
        conn = open_database(path, _FILE, create=create, busy_timeout=10)
        return cls(conn, path)

    # ------------------------------------------------------------ writing

    def start_session(self, *, mode: str, seed: int | None, lang: str, planned: int,
                      now: datetime) -> int:
        with self.write() as db:
            cur = db.execute(
                "INSERT INTO sessions(started, mode, seed, lang, planned) VALUES (?, ?, ?, ?, ?)",
                (stamp(now), mode, seed, lang, planned))
        return int(cur.lastrowid or 0)

    def finish_session(self, session_id: int, now: datetime) -> None:
        with self.write() as db:
            db.execute("UPDATE sessions SET finished = ? WHERE id = ?", (stamp(now), session_id))

    def record_answer(self, *, session_id: int, qid: str, topic: str, given: str, score: float,
                      correct: bool, now: datetime, card: Card | None) -> None:
        """One answer and (unless an exam) its card's new state, in one transaction."""
        with self.write() as db:
            db.execute(
                "INSERT INTO answers(session_id, qid, topic, answered, given, score, correct, exam)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (session_id, qid, topic, stamp(now), given, score, int(correct), int(card is None)))
            if card is not None:
                db.execute(
                    "INSERT INTO cards(qid, due, card) VALUES (?, ?, ?) ON CONFLICT(qid) DO UPDATE"
                    " SET due = excluded.due, card = excluded.card",
                    (qid, stamp(card.due), card_to_json(card)))

    # ------------------------------------------------------------ reading

    def card(self, qid: str) -> Card | None:
        row = self.conn.execute("SELECT card FROM cards WHERE qid = ?", (qid,)).fetchone()
        return card_from_json(row[0]) if row else None

    def due_ids(self, now: datetime) -> list[str]:
        """Questions due at `now`, most overdue first."""
        rows = self.conn.execute("SELECT qid FROM cards WHERE due <= ? ORDER BY due, qid",
                                  (stamp(now),))
        return [r[0] for r in rows]

    def count_due(self, until: datetime) -> int:
        return self.conn.execute("SELECT COUNT(*) FROM cards WHERE due <= ?",
                                  (stamp(until),)).fetchone()[0]

    def next_due(self) -> datetime | None:
        row = self.conn.execute("SELECT MIN(due) FROM cards").fetchone()
        return parse_stamp(row[0]) if row and row[0] else None

    def seen_ids(self) -> set[str]:
        rows = self.conn.execute("SELECT qid FROM cards UNION SELECT qid FROM answers")
        return {r[0] for r in rows}

    def mistake_ids(self) -> list[str]:
        """Questions whose latest answer was wrong, most recent first."""
        rows = self.conn.execute(
            "SELECT qid FROM answers a WHERE correct = 0 AND id = "
            "(SELECT MAX(id) FROM answers b WHERE b.qid = a.qid) ORDER BY id DESC")
        return [r[0] for r in rows]

    def answers(self, since: datetime | None = None) -> list[AnswerRow]:
        query = "SELECT qid, topic, answered, score, correct, exam FROM answers"
        args: tuple[str, ...] = ()
        if since is not None:
            query, args = query + " WHERE answered >= ?", (stamp(since),)
        rows = self.conn.execute(query + " ORDER BY id", args)
        return [AnswerRow(q, t, parse_stamp(a), s, bool(c), bool(e)) for q, t, a, s, c, e in rows]

    def count_answers(self) -> int:
        return self.conn.execute("SELECT COUNT(*) FROM answers").fetchone()[0]
