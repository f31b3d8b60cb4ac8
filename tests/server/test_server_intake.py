"""Intake of files students control: links, FIFOs, devices, huge and sparse files; collect;
the receipt log after a crash; grade-batch's times from receipts."""

from __future__ import annotations

import json
import os
import stat
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from server_helpers import dlgrade

from grader.catalog import ROOT
from grader.classroom.batch import discover
from grader.classroom.receipts import SubmissionStore, iter_handins
from grader.grading.intake import IntakeRefused, read_file
from grader.server.handins import collect

GOOD = "def mse(pred, target):\n    return 0.0\n"
T0 = datetime(2030, 5, 1, 12, 0, tzinfo=timezone.utc)


def test_a_regular_file_is_read(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(GOOD)
    assert read_file(tmp_path / "a.py", 1000) == GOOD.encode()


def test_a_symlink_is_refused_even_to_a_real_file(tmp_path: Path) -> None:
    (tmp_path / "a.py").symlink_to(ROOT / "reference" / "losses.py")
    with pytest.raises(IntakeRefused, match="is a symbolic link: refused"):
        read_file(tmp_path / "a.py", 10**6)


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "a.py")
    result: list[BaseException | bytes] = []

    def attempt() -> None:
        try:
            result.append(read_file(tmp_path / "a.py", 1000))
        except BaseException as exc:
            result.append(exc)

    reader = threading.Thread(target=attempt, daemon=True)
    reader.start()
    reader.join(5)
    assert result and isinstance(result[0], IntakeRefused), result
    assert "FIFO" in str(result[0])


@pytest.mark.skipif(os.geteuid() != 0, reason="making a device node needs root")
def test_a_device_is_refused(tmp_path: Path) -> None:
    os.mknod(tmp_path / "a.py", stat.S_IFCHR | 0o644, os.makedev(1, 5))  # like /dev/zero
    with pytest.raises(IntakeRefused, match="is a device"):
        read_file(tmp_path / "a.py", 1000)


def test_an_oversized_sparse_file_is_refused_from_its_size_alone(tmp_path: Path) -> None:
    with open(tmp_path / "a.py", "wb") as f:
        f.truncate(3 * 1024**3)  # 3 GB apparent, nothing on disk
    with pytest.raises(IntakeRefused, match="3221.2 MB: over the"):
        read_file(tmp_path / "a.py", 2 * 1024**2)


def test_a_sparse_file_under_the_limit_is_refused(tmp_path: Path) -> None:
    with open(tmp_path / "a.py", "wb") as f:
        f.seek(1024**2)
        f.write(b"x = 1\n")
    st = os.stat(tmp_path / "a.py")
    if st.st_blocks * 512 * 8 >= st.st_size:
        pytest.skip("this file system does not make holes")
    with pytest.raises(IntakeRefused, match="is a sparse file"):
        read_file(tmp_path / "a.py", 2 * 1024**2)


def make_exchange(root: Path) -> None:
    for student in ("alice", "bob", "carol", "dave", "erin"):
        (root / student).mkdir(parents=True)
    (root / "alice" / "losses.py").write_text(GOOD)
    (root / "alice" / "manifest.json").write_text(json.dumps(
        {"losses": {"submitted_at": "2000-01-01T00:00:00Z"}}))  # a forged early time
    (root / "bob" / "losses.py").symlink_to(ROOT / "reference" / "losses.py")
    os.mkfifo(root / "carol" / "losses.py")
    os.mkfifo(root / "carol" / "manifest.json")  # never opened: hangs nothing
    (root / "dave" / "losses.py").write_bytes(b"#" * (3 * 1024**2))
    (root / "erin" / "losses.py").write_text("def mse(:\n")  # collected; grading fails it
    (root / "mallory").symlink_to(root / "alice", target_is_directory=True)


def test_collect_takes_the_good_refuses_each_bad_one_and_stamps_collection_time(tmp_path: Path) -> None:
    exchange, data = tmp_path / "exchange", tmp_path / "private"
    make_exchange(exchange)
    done = collect(exchange, data, now=T0)
    assert sorted(done.taken) == [("alice", "losses"), ("erin", "losses")]
    refused = "\n".join(done.refused)
    assert len(done.refused) == 4, refused
    for words in ("bob/losses.py is a symbolic link", "carol/losses.py is a FIFO",
                  "dave/losses.py is 3.1 MB: over the", "mallory is a symbolic link"):
        assert words in refused
    handins = list(iter_handins(data))
    assert [(s, a, t) for s, a, _, t in handins] == [("alice", "losses", T0), ("erin", "losses", T0)]
    # grade-batch reads the same times, never the manifest's
    subs = discover(data)
    assert [(s.student, s.submitted_at, s.submitted_at_source) for s in subs] == [
        ("alice", T0, "receipt"), ("erin", T0, "receipt")]

    # collecting again: unchanged files keep their first stamp; a changed file gets the new one
    later = T0 + timedelta(hours=1)
    (exchange / "alice" / "losses.py").write_text(GOOD + "# v2\n")
    again = collect(exchange, data, now=later)
    assert again.taken == [("alice", "losses")] and again.unchanged == 1
    times = {s: t for s, _, _, t in iter_handins(data)}
    assert times == {"alice": later, "erin": T0}


def test_collect_command_reports_each_refusal_in_one_line(tmp_path: Path) -> None:
    exchange = tmp_path / "exchange"
    make_exchange(exchange)
    done = dlgrade("collect", str(exchange), "--to", str(tmp_path / "private"), cwd=tmp_path, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "collected 2 new hand-in(s)" in " ".join(done.stdout.split())
    refusals = [line for line in done.stderr.splitlines() if line.startswith("refused:")]
    assert len(refusals) == 4 and "Traceback" not in done.stderr


def test_a_torn_receipt_line_is_fenced_and_nothing_recorded_is_lost(tmp_path: Path) -> None:
    store = SubmissionStore(tmp_path)
    first, _ = store.accept("alice", "losses", ".py", GOOD.encode(), now=T0)
    with open(tmp_path / "receipts.jsonl", "ab") as log:  # a write cut short by kill -9
        log.write(b'{"n": 2, "student": "bob", "assi')
    reopened = SubmissionStore(tmp_path)
    assert reopened.receipts() == [first]
    second, duplicate = reopened.accept("bob", "losses", ".py", GOOD.encode(), now=T0)
    assert not duplicate
    third = SubmissionStore(tmp_path)
    assert [r.student for r in third.receipts()] == ["alice", "bob"]
    assert third.receipts()[1] == second


def test_a_line_torn_by_another_process_is_fenced_before_the_next_append(tmp_path: Path) -> None:
    server_side = SubmissionStore(tmp_path)  # stays open, as dlgrade serve's store does
    server_side.accept("alice", "losses", ".py", GOOD.encode(), now=T0)
    with open(tmp_path / "receipts.jsonl", "ab") as log:  # `dlgrade collect` killed mid-append
        log.write(b'{"n": 2, "stud')
    server_side.accept("bob", "losses", ".py", GOOD.encode(), now=T0)
    assert [r.student for r in SubmissionStore(tmp_path).receipts()] == ["alice", "bob"]


def test_a_fifo_manifest_does_not_hang_grade_batch_discovery(tmp_path: Path) -> None:
    (tmp_path / "carol").mkdir()
    (tmp_path / "carol" / "losses.py").write_text(GOOD)
    os.mkfifo(tmp_path / "carol" / "manifest.json")
    found: list = []
    worker = threading.Thread(target=lambda: found.extend(discover(tmp_path)), daemon=True)
    worker.start()
    worker.join(10)
    assert not worker.is_alive(), "discover blocked on the FIFO"
    assert [(s.student, s.submitted_at_source) for s in found] == [("carol", "mtime")]


def test_grade_batch_on_a_raw_exchange_refuses_unsafe_files_and_goes_on(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    exchange = tmp_path / "exchange"
    make_exchange(exchange)
    with caplog.at_level("WARNING", logger="dlgrade.intake"):
        subs = discover(exchange)
    assert sorted(s.student for s in subs) == ["alice", "erin"]
    lines = [r.getMessage() for r in caplog.records]
    for words in ("bob/losses.py is a symbolic link", "carol/losses.py is a FIFO",
                  "dave/losses.py is 3.1 MB", "mallory is a symbolic link"):
        assert sum(words in line for line in lines) == 1, (words, lines)
