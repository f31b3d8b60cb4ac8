"""Quiz progress in SQLite: one file, WAL, schema versioned with PRAGMA user_version.

Each answer is one transaction together with its card update, so a session killed at any
moment (Ctrl-C, a closed terminal) keeps every answer committed before it. A file that is not
a dlgrade progress database is never replaced or repaired: it is a UserError.

Schema versions migrate forward in place, each step in one transaction, after a copy of the
old file is kept beside it (quiz.db.schema1.bak): progress is never lost to an upgrade. Version 2
added ratings (Again/Hard/Good/Easy), the card before each answer (for undo), lapses and
suspended leeches, the learner's "I was right" overrides, and a settings table (fitted FSRS
parameters).
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
from grader.sqlite import Database, Migration, Schema, open_database

SCHEMA_VERSION = 2
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
# Existing rows get what they imply: a right scheduled answer was Good, a wrong one Again.
_RATINGS = Migration(version=2, what="ratings, undo, leeches, overrides and settings", ddl="""
ALTER TABLE answers ADD COLUMN rating INTEGER;           -- 1 Again 2 Hard 3 Good 4 Easy, NULL: unscheduled
UPDATE answers SET rating = CASE WHEN exam = 1 THEN NULL WHEN correct = 1 THEN 3 ELSE 1 END;
ALTER TABLE answers ADD COLUMN card_before TEXT;         -- the card as it was, for undo
ALTER TABLE answers ADD COLUMN lapse INTEGER NOT NULL DEFAULT 0;
ALTER TABLE answers ADD COLUMN override INTEGER NOT NULL DEFAULT 0;  -- "I was right"
ALTER TABLE answers ADD COLUMN kind TEXT NOT NULL DEFAULT 'review';  -- new|review|relearn|retake|exam
UPDATE answers SET kind = 'exam' WHERE exam = 1;
ALTER TABLE cards ADD COLUMN lapses INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cards ADD COLUMN suspended INTEGER NOT NULL DEFAULT 0;
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
""")
_FILE = Schema(
    noun="dlgrade's quiz progress", file_noun="progress database file",
    missing="no quiz progress yet ({path} does not exist): run `dlgrade quiz`",
    version=SCHEMA_VERSION, application_id=APPLICATION_ID, ddl=_SCHEMA,
    tables=frozenset({"sessions", "answers", "cards"}), migrations=(_RATINGS,))


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
    exam: bool  # unscheduled: an exam or a --mistakes retake
    rating: int | None = None
    reviewed_state: int | None = None  # the card's fsrs State before this answer, if any


@dataclass(frozen=True)
class Recorded:
    """What recording an answer did: its row, and whether the card just became a leech."""

    answer_id: int
    suspended: bool = False


@dataclass(frozen=True)
class Dispute:
    qid: str
    given: str
    answered: datetime


@dataclass(frozen=True)
class Leech:
    qid: str
    lapses: int
    suspended: bool


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
                      correct: bool, now: datetime, card: Card | None, rating: int | None = None,
                      card_before: Card | None = None, kind: str = "review", lapse: bool = False,
                      leech_lapses: int = 0) -> Recorded:
        """One answer and (unless unscheduled) its card's new state, in one transaction.

        `card=None` records an answer that leaves the schedule alone (exam, retake). A lapse
        counts towards the card's lapses; at `leech_lapses` (if > 0) the card is suspended.
        """
        if card is not None and rating is None:
            rating = 3 if correct else 1
        with self.write() as db:
            cur = db.execute(
                "INSERT INTO answers(session_id, qid, topic, answered, given, score, correct, exam,"
                " rating, card_before, lapse, kind) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (session_id, qid, topic, stamp(now), given, score, int(correct), int(card is None),
                 rating if card is not None else None,
                 card_to_json(card_before) if card_before is not None else None, int(lapse), kind))
            suspended = False
            if card is not None:
                db.execute(
                    "INSERT INTO cards(qid, due, card) VALUES (?, ?, ?) ON CONFLICT(qid) DO UPDATE"
                    " SET due = excluded.due, card = excluded.card",
                    (qid, stamp(card.due), card_to_json(card)))
                suspended = self._count_lapse(db, qid, int(lapse), leech_lapses)
        return Recorded(int(cur.lastrowid or 0), suspended)

    def _count_lapse(self, db: sqlite3.Connection, qid: str, delta: int, leech_lapses: int) -> bool:
        """Add `delta` to the card's lapses; suspend it when it reaches the leech threshold."""
        if not delta:
            return False
        db.execute("UPDATE cards SET lapses = MAX(0, lapses + ?) WHERE qid = ?", (delta, qid))
        lapses, suspended = db.execute("SELECT lapses, suspended FROM cards WHERE qid = ?",
                                       (qid,)).fetchone()
        if delta > 0 and leech_lapses and lapses >= leech_lapses and not suspended:
            db.execute("UPDATE cards SET suspended = 1 WHERE qid = ?", (qid,))
            return True
        if delta < 0 and suspended and (not leech_lapses or lapses < leech_lapses):
            db.execute("UPDATE cards SET suspended = 0 WHERE qid = ?", (qid,))
        return False

    def rerate(self, answer_id: int, *, rating: int, card: Card, lapse: bool, correct: bool,
               score: float, override: bool = False, leech_lapses: int = 0) -> bool:
        """Change an answer's rating (Hard/Easy, or "I was right") and its card accordingly.

        The card passed in is the one the new rating gives from the answer's card_before.
        Returns whether the card became a leech.
        """
        with self.write() as db:
            qid, old_lapse = db.execute("SELECT qid, lapse FROM answers WHERE id = ?",
                                        (answer_id,)).fetchone()
            db.execute("UPDATE answers SET rating = ?, lapse = ?, override = ?, correct = ?, "
                       "score = ? WHERE id = ?",
                       (rating, int(lapse), int(override), int(correct), score, answer_id))
            db.execute("UPDATE cards SET due = ?, card = ? WHERE qid = ?",
                       (stamp(card.due), card_to_json(card), qid))
            return self._count_lapse(db, qid, int(lapse) - old_lapse, leech_lapses)

    def undo(self, answer_id: int, leech_lapses: int = 0) -> str:
        """Take an answer back: its row goes, its card returns to how it was. Returns its qid."""
        with self.write() as db:
            row = db.execute("SELECT qid, card_before, lapse, exam FROM answers WHERE id = ?",
                             (answer_id,)).fetchone()
            if row is None:
                raise UserError("nothing to undo")
            qid, before, lapse, unscheduled = row
            if not unscheduled:
                self._count_lapse(db, qid, -lapse, leech_lapses)
                if before is None:  # the answer that introduced the card
                    db.execute("DELETE FROM cards WHERE qid = ?", (qid,))
                else:
                    card = card_from_json(before)
                    db.execute("UPDATE cards SET due = ?, card = ? WHERE qid = ?",
                               (stamp(card.due), before, qid))
            db.execute("DELETE FROM answers WHERE id = ?", (answer_id,))
        return qid

    def mark_override(self, answer_id: int) -> None:
        """"I was right" on an unscheduled answer: counted right, the typed answer kept."""
        with self.write() as db:
            db.execute("UPDATE answers SET override = 1, correct = 1, score = 1.0 WHERE id = ?",
                       (answer_id,))

    def unsuspend(self, qid: str) -> bool:
        with self.write() as db:
            cur = db.execute("UPDATE cards SET suspended = 0, lapses = 0 WHERE qid = ? AND "
                             "suspended = 1", (qid,))
        return cur.rowcount > 0

    def set_setting(self, key: str, value: str | None) -> None:
        with self.write() as db:
            if value is None:
                db.execute("DELETE FROM settings WHERE key = ?", (key,))
            else:
                db.execute("INSERT INTO settings(key, value) VALUES (?, ?) ON CONFLICT(key) "
                           "DO UPDATE SET value = excluded.value", (key, value))

    def setting(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    # ------------------------------------------------------------ reading

    def card(self, qid: str) -> Card | None:
        row = self.conn.execute("SELECT card FROM cards WHERE qid = ?", (qid,)).fetchone()
        return card_from_json(row[0]) if row else None

    def due_ids(self, now: datetime) -> list[str]:
        """Questions due at `now`, most overdue first; suspended leeches are never due."""
        rows = self.conn.execute("SELECT qid FROM cards WHERE due <= ? AND suspended = 0 "
                                  "ORDER BY due, qid", (stamp(now),))
        return [r[0] for r in rows]

    def count_due(self, until: datetime) -> int:
        return self.conn.execute("SELECT COUNT(*) FROM cards WHERE due <= ? AND suspended = 0",
                                  (stamp(until),)).fetchone()[0]

    def due_times(self) -> list[datetime]:
        """When each card not suspended is due (for the forecast)."""
        rows = self.conn.execute("SELECT due FROM cards WHERE suspended = 0")
        return [parse_stamp(r[0]) for r in rows]

    def next_due(self) -> datetime | None:
        row = self.conn.execute("SELECT MIN(due) FROM cards WHERE suspended = 0").fetchone()
        return parse_stamp(row[0]) if row and row[0] else None

    def last_lang(self) -> str | None:
        """The language of the latest session: the learner's language, for stats."""
        row = self.conn.execute("SELECT lang FROM sessions ORDER BY id DESC LIMIT 1").fetchone()
        return row[0] if row else None

    def suspended_ids(self) -> set[str]:
        return {r[0] for r in self.conn.execute("SELECT qid FROM cards WHERE suspended = 1")}

    def leeches(self, min_lapses: int = 1) -> list[Leech]:
        """Cards forgotten at least `min_lapses` times, suspended ones first, most lapses first."""
        rows = self.conn.execute(
            "SELECT qid, lapses, suspended FROM cards WHERE lapses >= ? OR suspended = 1 "
            "ORDER BY suspended DESC, lapses DESC, qid", (min_lapses,))
        return [Leech(q, n, bool(s)) for q, n, s in rows]

    def disputes(self) -> list[Dispute]:
        """Answers the learner overrode as right: what they typed, for the bank's maintainers."""
        rows = self.conn.execute("SELECT qid, given, answered FROM answers WHERE override = 1 "
                                  "ORDER BY qid, id")
        return [Dispute(q, g, parse_stamp(a)) for q, g, a in rows]

    def introduced_since(self, since: datetime) -> int:
        """New cards introduced (first scheduled answer) at or after `since`."""
        return self.conn.execute(
            "SELECT COUNT(*) FROM (SELECT qid, MIN(answered) AS first FROM answers "
            "WHERE rating IS NOT NULL GROUP BY qid) WHERE first >= ?", (stamp(since),)).fetchone()[0]

    def reviews_since(self, since: datetime) -> int:
        """Scheduled reviews of cards already introduced, at or after `since`."""
        return self.conn.execute(
            "SELECT COUNT(*) FROM answers WHERE rating IS NOT NULL AND kind = 'review' "
            "AND answered >= ?", (stamp(since),)).fetchone()[0]

    def review_log(self) -> list[tuple[str, int, datetime]]:
        """(qid, rating, time) of every scheduled answer, oldest first: the optimizer's input."""
        rows = self.conn.execute("SELECT qid, rating, answered FROM answers "
                                  "WHERE rating IS NOT NULL ORDER BY id")
        return [(q, r, parse_stamp(a)) for q, r, a in rows]

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
        query = "SELECT qid, topic, answered, score, correct, exam, rating, card_before FROM answers"
        args: tuple[str, ...] = ()
        if since is not None:
            query, args = query + " WHERE answered >= ?", (stamp(since),)
        rows = self.conn.execute(query + " ORDER BY id", args)
        return [AnswerRow(q, t, parse_stamp(a), s, bool(c), bool(e), r,
                          int(card_from_json(b).state) if b else None)
                for q, t, a, s, c, e, r, b in rows]

    def count_answers(self) -> int:
        return self.conn.execute("SELECT COUNT(*) FROM answers").fetchone()[0]
