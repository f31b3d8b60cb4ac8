"""A data folder of hand-ins with receipts: files stored by content, an append-only log.

`dlgrade serve` fills one from uploads, `dlgrade collect` from a shared exchange folder, and
`dlgrade grade-batch` grades one (`iter_handins`) with the receipts' times.

```
<data>/receipts.jsonl                              one JSON object a line, never rewritten
<data>/files/<student>/<assignment>/<sha256>.py     every version handed in, by content
```
A hand-in is stored before its receipt is written: temp file, fsync, rename, fsync of the
folder; then the receipt line, fsync. A process killed at any moment leaves either no
receipt (the client retries; the same bytes land on the same name) or a whole one. A torn
last line (killed mid-write) is fenced off with a newline on the next open and skipped.

The time in a receipt is this machine's clock, in UTC; nothing the student sends
changes it. Handing in the same bytes as the current hand-in again (a retry, a double
click) returns the earlier receipt instead of making a new, later one; a request that
carries an idempotency key already used returns that key's receipt.
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from grader.catalog import assignment_names, get_assignment
from grader.classroom.timestamps import iso_utc, utc_now
from grader.classroom.timestamps import parse_iso as parse_time
from grader.errors import UserError

RECEIPTS = "receipts.jsonl"
FILES = "files"
LOCK = ".lock"


def iso(moment: datetime) -> str:
    """A receipt's time (and the server's): UTC to the millisecond, where manifests and the
    gradebook keep whole seconds."""
    return iso_utc(moment, timespec="milliseconds")


@dataclass(frozen=True)
class Receipt:
    n: int  # position in the log, from 1
    student: str
    assignment: str
    sha256: str
    size: int
    file: str  # relative to the data folder
    received_at: str  # this machine's UTC time
    source: str  # "upload" (dlgrade serve) or "collect" (shared folder)
    key: str | None = None  # the client's idempotency key, when it sent one

    @property
    def time(self) -> datetime:
        return parse_time(self.received_at)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Temp file in the same folder, fsync, rename, fsync the folder: whole or absent."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


class SubmissionStore:
    """Thread-safe within one process; processes sharing a data folder take turns (flock)."""

    def __init__(self, data_dir: Path) -> None:
        self.root = Path(data_dir)
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)  # students' work: the owner's only
        self.log_path = self.root / RECEIPTS
        self._lock = threading.Lock()
        self._receipts: list[Receipt] = []
        self._offset = 0
        self.skipped_lines = 0
        with self._locked():
            self._fence_torn_line()
            self._remove_stale_temp_files()
            self._refresh()

    # ------------------------------------------------------------ reading the log

    def _fence_torn_line(self) -> None:
        if not self.log_path.exists() or self.log_path.stat().st_size == 0:
            return
        with open(self.log_path, "rb") as log:
            log.seek(-1, os.SEEK_END)
            last = log.read(1)
        if last != b"\n":  # a write was cut short: close that line so the next one is whole
            with open(self.log_path, "ab") as log:
                log.write(b"\n")
                log.flush()
                os.fsync(log.fileno())

    def _remove_stale_temp_files(self) -> None:
        """Temp files of a process killed mid-write: never named by a receipt, so just litter.
        (All writes happen under the lock this runs under, so none is in progress.)"""
        files = self.root / FILES
        if files.is_dir():
            for tmp in files.rglob(".*.tmp"):
                tmp.unlink(missing_ok=True)

    def _refresh(self) -> None:
        """Read what was appended since last time (by this process or another)."""
        if not self.log_path.exists():
            return
        with open(self.log_path, "rb") as log:
            log.seek(self._offset)
            for line in log:
                if not line.endswith(b"\n"):
                    break  # being written right now by nobody (we hold the lock): a torn tail
                self._offset += len(line)
                try:
                    data = json.loads(line)
                    self._receipts.append(Receipt(**data))
                except (ValueError, TypeError):
                    self.skipped_lines += 1

    @contextmanager
    def _locked(self) -> Iterator[None]:
        with self._lock:
            fd = os.open(self.root / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                yield
            finally:
                os.close(fd)

    # ------------------------------------------------------------ queries

    def receipts(self, student: str | None = None, assignment: str | None = None) -> list[Receipt]:
        with self._lock:
            return [r for r in self._receipts
                    if (student is None or r.student == student)
                    and (assignment is None or r.assignment == assignment)]

    def latest(self) -> dict[tuple[str, str], Receipt]:
        """The current hand-in of each (student, assignment): its last receipt."""
        current: dict[tuple[str, str], Receipt] = {}
        for r in self.receipts():
            current[(r.student, r.assignment)] = r
        return current

    def path_of(self, receipt: Receipt) -> Path:
        return self.root / receipt.file

    # ------------------------------------------------------------ accepting

    def accept(self, student: str, assignment: str, suffix: str, data: bytes, *,
               source: str = "upload", key: str | None = None,
               now: datetime | None = None, sha256: str | None = None) -> tuple[Receipt, bool]:
        """Store `data` and log its receipt; (receipt, True) when it was already handed in."""
        import hashlib

        sha = sha256 or hashlib.sha256(data).hexdigest()
        with self._locked():
            self._fence_torn_line()  # another process may have died mid-append since
            self._refresh()
            mine = [r for r in self._receipts if r.student == student and r.assignment == assignment]
            if key is not None:
                for r in mine:
                    if r.key == key:
                        if r.sha256 != sha:
                            raise KeyReused(f"idempotency key {key!r} was used for other content")
                        return r, True
            if mine and mine[-1].sha256 == sha:
                return mine[-1], True
            relative = Path(FILES) / student / assignment / f"{sha}{suffix}"
            target = self.root / relative
            if not target.exists():
                write_atomic(target, data, mode=0o600)
            receipt = Receipt(n=len(self._receipts) + self.skipped_lines + 1, student=student,
                              assignment=assignment, sha256=sha, size=len(data),
                              file=relative.as_posix(), received_at=iso(now or utc_now()),
                              source=source, key=key)
            line = (json.dumps(receipt.to_dict(), sort_keys=True) + "\n").encode()
            fd = os.open(self.log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line)
                os.fsync(fd)
            finally:
                os.close(fd)
            self._offset += len(line)
            self._receipts.append(receipt)
            return receipt, False


class KeyReused(ValueError):
    """The same idempotency key came with different bytes: a client bug or a forged replay."""


def is_data_folder(path: Path) -> bool:
    return (Path(path) / RECEIPTS).is_file()


def iter_handins(data_dir: Path, assignments: Sequence[str] | None = None
                 ) -> Iterator[tuple[str, str, Path, datetime]]:
    """(student, assignment, path, receipt time) of each current hand-in, sorted.

    The time is always a receipt's, stamped by the machine that took the file in; a
    student's `manifest.json` or a file's mtime never decides lateness.
    """
    if not is_data_folder(data_dir):
        raise UserError(f"{data_dir} holds no {RECEIPTS}: not a dlgrade serve or collect data folder")
    wanted = {get_assignment(a).name for a in assignments} if assignments else set(assignment_names())
    store = SubmissionStore(data_dir)
    for (student, assignment), receipt in sorted(store.latest().items()):
        if assignment in wanted:
            yield student, assignment, store.path_of(receipt), receipt.time
