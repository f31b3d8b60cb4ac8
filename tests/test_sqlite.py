"""dlgrade's SQLite files grow by migrations: a new file and a migrated one end alike, and a
migration that cannot run leaves the file as it was."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from grader.errors import UserError
from grader.sqlite import Migration, Schema, open_database

V1 = "CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL)"
ADD_TAGS = Migration(version=2, what="the tags table",
                     ddl="CREATE TABLE tags (note INTEGER NOT NULL, tag TEXT NOT NULL)")


def schema(*migrations: Migration, backup: bool = False) -> Schema:
    return Schema(noun="a test file", file_noun="test file", missing="no {path}",
                  version=1 + len(migrations), application_id=0x74657374, ddl=V1,
                  tables=frozenset({"notes"}), migrations=migrations,
                  backup_before_migrating=backup)


def tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def test_a_new_file_and_a_migrated_one_end_alike(tmp_path: Path) -> None:
    open_database(tmp_path / "new.db", schema(ADD_TAGS), create=True, busy_timeout=1).close()
    old = tmp_path / "old.db"
    conn = open_database(old, schema(), create=True, busy_timeout=1)
    conn.execute("INSERT INTO notes (text) VALUES ('kept')")
    conn.close()
    conn = open_database(old, schema(ADD_TAGS), create=False, busy_timeout=1)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 2
    assert conn.execute("SELECT text FROM notes").fetchall() == [("kept",)]
    conn.close()
    assert tables(old) == tables(tmp_path / "new.db") == {"notes", "tags"}


def test_a_migration_that_cannot_run_leaves_the_file_at_its_version(tmp_path: Path) -> None:
    path = tmp_path / "g.db"
    conn = open_database(path, schema(), create=True, busy_timeout=1)
    conn.execute("CREATE TABLE tags (x)")  # in the way of the migration's own table
    conn.close()
    with pytest.raises(UserError, match="needs the tags table"):
        open_database(path, schema(ADD_TAGS), create=False, busy_timeout=1)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1


def test_migrations_must_lead_from_version_1_without_a_gap() -> None:
    with pytest.raises(ValueError, match="do not lead"):
        Schema(noun="a test file", file_noun="test file", missing="no {path}", version=3,
               application_id=1, ddl=V1, tables=frozenset({"notes"}),
               migrations=(Migration(version=3, what="x", ddl="SELECT 1"),))


def test_a_schema_that_asks_for_it_keeps_the_older_file_before_migrating(tmp_path: Path) -> None:
    path = tmp_path / "p.db"
    conn = open_database(path, schema(backup=True), create=True, busy_timeout=1)
    conn.execute("INSERT INTO notes (text) VALUES ('kept')")
    conn.close()
    assert not (tmp_path / "p.db.v1.bak").exists()  # a new file has nothing to keep
    open_database(path, schema(ADD_TAGS, backup=True), create=False, busy_timeout=1).close()
    backup = tmp_path / "p.db.v1.bak"
    with sqlite3.connect(backup) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
        assert conn.execute("SELECT text FROM notes").fetchall() == [("kept",)]
    assert tables(backup) == {"notes"} and tables(path) == {"notes", "tags"}
