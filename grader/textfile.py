"""Reading a text file that the person at the keyboard named (a roster CSV, a deck to import).

A top-level module: the quiz and the course server both read such files, and neither room
may import the other.
"""

from __future__ import annotations

from pathlib import Path

from grader.errors import UserError


def read_text_file(path: Path) -> str:
    """The file's text as UTF-8, a leading byte-order mark dropped (spreadsheets write one);
    a missing, unreadable or non-UTF-8 file is a one-line UserError naming it."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UserError(f"no such file: {path}") from None
    except UnicodeDecodeError:
        raise UserError(f"{path} is not UTF-8 text") from None
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror}") from None
