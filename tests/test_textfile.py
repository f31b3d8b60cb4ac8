"""Files the user names (a roster CSV, a deck to import): their text, or one line saying why not."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.errors import UserError
from grader.quiz.importer import import_deck
from grader.server.roster import read_roster_csv
from grader.textfile import read_text_file


def test_a_spreadsheets_byte_order_mark_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_bytes("\ufeffid,name\nkim,김\n".encode())
    assert read_text_file(path) == "id,name\nkim,김\n"


@pytest.mark.parametrize(("make", "message"), [
    (lambda p: None, "no such file: "),
    (lambda p: p.write_bytes("id\nkim\n".encode("utf-16")), " is not UTF-8 text"),
    (lambda p: p.mkdir(), "cannot read "),
], ids=["missing", "utf-16", "a folder"])
def test_what_cannot_be_read_is_one_line_naming_the_file(tmp_path: Path, make, message: str) -> None:
    path = tmp_path / "given.csv"
    make(path)
    with pytest.raises(UserError, match=message) as caught:
        read_text_file(path)
    assert str(path) in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize("read", [
    read_roster_csv,
    lambda path: import_deck(path, path.parent / "deck.yaml"),
], ids=["roster import", "quiz import"])
def test_the_roster_and_the_deck_import_read_that_way(tmp_path: Path, read) -> None:
    with pytest.raises(UserError, match="no such file: "):
        read(tmp_path / "missing.csv")
    with pytest.raises(UserError, match=f"cannot read {tmp_path}: "):
        read(tmp_path)
