"""dlgrade's SQLite files (the gradebook, the quiz progress): one way to open and create them.

A file is dlgrade's when its application_id says so (or, for files written before the id
was set, when its schema version and tables are ours). Anything else, including a file of
another program, a corrupt file or one from a newer dlgrade, is refused with one line and
left exactly as it is. Every write is one `BEGIN IMMEDIATE` transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from grader.errors import UserError

Self = TypeVar("Self", bound="Database")
SQLITE_MAGIC = b"SQLite format 3\x00"


@dataclass(frozen=True)
class Schema:
    noun: str  # in messages: "a dlgrade gradebook", "dlgrade's quiz progress"
    file_noun: str  # "gradebook file"
    missing: str  # the message when the file is absent and may not be created; {path}
    version: int  # PRAGMA user_version
    application_id: int
    ddl: str  # statements separated by ";"
    tables: frozenset[str]


@contextmanager
def immediate_transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE ... COMMIT: takes the write lock up front (waiting out the busy
    timeout for another writer), rolled back on any exception, KeyboardInterrupt included,
    so a write is all there or not there at all."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


class Database:
    """An open dlgrade SQLite file: closed by `with`, written one transaction at a time."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def close(self) -> None:
        self.conn.close()

    def __enter__(self: Self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def write(self) -> AbstractContextManager[sqlite3.Connection]:
        """One write transaction; waits (busy timeout) for another writer rather than failing."""
        return immediate_transaction(self.conn)


def open_database(path: Path, schema: Schema, *, create: bool,
                  busy_timeout: float) -> sqlite3.Connection:
    """A connection (WAL, full sync, foreign keys, autocommit) to `path`, created when absent
    and `create`; UserError for anything that is not this schema's file."""
    _check_file(path, schema, create)
    try:
        conn = sqlite3.connect(path, timeout=busy_timeout, isolation_level=None)
    except sqlite3.Error as exc:
        raise UserError(f"cannot open {path}: {exc}") from None
    try:
        _check_contents(conn, path, schema)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        _create(conn, schema)
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise UserError(f"{path} is not {schema.noun} ({exc}); it was left as it is") from None
    except BaseException:
        conn.close()
        raise
    return conn


def _check_file(path: Path, schema: Schema, create: bool) -> None:
    """Refuse what cannot be the file before SQLite touches it."""
    if path.is_dir():
        raise UserError(f"{path} is a folder, not a {schema.file_noun}")
    if not path.exists():
        if not create:
            raise UserError(schema.missing.format(path=path))
        if not path.parent.is_dir():
            raise UserError(f"folder {path.parent} does not exist (for {path})")
        return
    try:
        with path.open("rb") as fh:
            head = fh.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror}") from None
    if head and head != SQLITE_MAGIC:
        raise UserError(f"{path} is not {schema.noun} (not an SQLite file); it was left as it is")


def _tables(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def _check_contents(conn: sqlite3.Connection, path: Path, schema: Schema) -> None:
    """Read-only checks before anything is written to the file."""
    ok = conn.execute("PRAGMA quick_check").fetchone()[0]
    if ok != "ok":
        raise UserError(f"{path} is corrupt ({ok}); it was left as it is")
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    tables = _tables(conn)
    ours = app_id == schema.application_id or (
        app_id == 0 and version >= 1 and tables >= schema.tables)  # written before the id was set
    if not ours and (app_id != 0 or tables):
        raise UserError(f"{path} is not {schema.noun} (an SQLite file of something else); "
                        "it was left as it is")
    if version > schema.version:
        raise UserError(f"{path} was written by a newer dlgrade (schema {version}); upgrade dlgrade")
    if version >= 1 and not tables >= schema.tables:
        raise UserError(f"{path} is missing tables {', '.join(sorted(schema.tables - tables))}; "
                        "it was left as it is")


def _create(conn: sqlite3.Connection, schema: Schema) -> None:
    if conn.execute("PRAGMA user_version").fetchone()[0] != 0:
        return
    with immediate_transaction(conn):
        # another process may have created it meanwhile: look again under the write lock
        if conn.execute("PRAGMA user_version").fetchone()[0] == 0:
            for statement in schema.ddl.split(";"):  # executescript would commit early
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA application_id={schema.application_id}")
            conn.execute(f"PRAGMA user_version={schema.version}")
