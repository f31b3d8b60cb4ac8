"""Reading files a student controls without being fooled by them.

Everything that picks up a file a student could have placed goes through here:
`dlgrade collect` reading a shared exchange folder, `find_submissions` (for `grade` and
`grade-batch` on a folder), and the manifest a local `submit` leaves. A student can put a
symbolic link where a file is expected (to `reference/`, to another student's folder), a
FIFO that blocks the reader forever, a device, or a huge sparse file that costs nothing on
disk but gigabytes in memory. Each is refused with one line, and the caller goes on with
the rest of the class:

* `lstat` first: only regular files (and real folders) are considered, never links;
* `open(O_NOFOLLOW | O_NONBLOCK)` relative to the already-opened folder, then `fstat` the
  open descriptor and check it is still the same regular file (no swap in between);
* the size is checked before reading, and the read itself stops one byte past the cap.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

SPARSE_MIN_BYTES = 64 * 1024  # below this, file systems that inline small files report 0 blocks
SPARSE_RATIO = 8  # allocated less than 1/8 of the apparent size: holes, not data


class IntakeRefused(Exception):
    """One file (or folder) that is not taken, with the reason in one line."""


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "not a regular file"


def _check_regular(st: os.stat_result, label: str, max_bytes: int) -> None:
    if not stat.S_ISREG(st.st_mode):
        raise IntakeRefused(f"{label} is {_kind(st.st_mode)}: refused")
    if st.st_size > max_bytes:
        raise IntakeRefused(f"{label} is {st.st_size / 1e6:.1f} MB: over the "
                            f"{max_bytes / 1e6:.1f} MB limit, refused")
    allocated = st.st_blocks * 512
    if st.st_size >= SPARSE_MIN_BYTES and allocated * SPARSE_RATIO < st.st_size:
        raise IntakeRefused(f"{label} is a sparse file ({st.st_size / 1e6:.1f} MB apparent, "
                            f"{allocated / 1e3:.0f} kB on disk): refused")


def refusal(path: Path, max_bytes: int) -> str | None:
    """Why `path` would be refused (a link, not a regular file, too big, sparse), or None."""
    try:
        _check_regular(os.lstat(path), str(path), max_bytes)
    except IntakeRefused as exc:
        return str(exc)
    except FileNotFoundError:
        return f"{path} is gone"
    return None


def read_at(dir_fd: int, name: str, max_bytes: int, label: str | None = None) -> bytes:
    """The bytes of the regular file `name` inside the open folder `dir_fd`; never follows a link."""
    label = label or name
    try:
        before = os.lstat(name, dir_fd=dir_fd)
    except FileNotFoundError:
        raise IntakeRefused(f"{label} is gone") from None
    _check_regular(before, label, max_bytes)
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=dir_fd)
    except OSError as exc:  # ELOOP: it became a link after the lstat
        raise IntakeRefused(f"{label} could not be opened safely: {exc.strerror}") from None
    try:
        after = os.fstat(fd)
        if (after.st_dev, after.st_ino) != (before.st_dev, before.st_ino):
            raise IntakeRefused(f"{label} changed while it was being read: refused")
        _check_regular(after, label, max_bytes)
        chunks, total = [], 0
        while True:
            chunk = os.read(fd, min(1 << 20, max_bytes + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > max_bytes:
                raise IntakeRefused(f"{label} grew past the {max_bytes / 1e6:.1f} MB limit: refused")
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_file(path: Path, max_bytes: int) -> bytes:
    """`read_at` for a path: its folder may be reached through links, the file itself not."""
    path = Path(path)
    dir_fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        return read_at(dir_fd, path.name, max_bytes, label=str(path))
    finally:
        os.close(dir_fd)


@dataclass(frozen=True)
class Found:
    """One file taken from an exchange folder."""

    student: str
    name: str  # the file name inside the student's folder
    data: bytes


@dataclass(frozen=True)
class Refusal:
    """One thing in an exchange folder that was not taken, and why."""

    student: str
    message: str


def scan_exchange(root: Path, wanted: dict[str, str], max_bytes: int,
                  is_student: Callable[[str], bool] = lambda _: True) -> Iterator[Found | Refusal]:
    """Every wanted file of every student folder under `root`, read safely.

    `wanted` maps a file name (`losses.py`) to what it is; names not in it (a
    `manifest.json`, notes) are never opened. A student folder that is a link is refused
    as a whole: it would hand one student another's work and times.
    """
    root_fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for student in sorted(os.listdir(root_fd)):
            if student.startswith(".") or not is_student(student):
                continue
            st = os.lstat(student, dir_fd=root_fd)
            if not stat.S_ISDIR(st.st_mode):
                if stat.S_ISLNK(st.st_mode):
                    yield Refusal(student, f"{root / student} is a symbolic link: refused")
                continue
            try:
                student_fd = os.open(student, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
                                     | os.O_CLOEXEC, dir_fd=root_fd)
            except OSError as exc:
                yield Refusal(student, f"{root / student} could not be opened safely: {exc.strerror}")
                continue
            try:
                for name in sorted(set(os.listdir(student_fd)) & set(wanted)):
                    label = str(root / student / name)
                    try:
                        yield Found(student, name, read_at(student_fd, name, max_bytes, label))
                    except IntakeRefused as exc:
                        yield Refusal(student, str(exc))
            finally:
                os.close(student_fd)
    finally:
        os.close(root_fd)
