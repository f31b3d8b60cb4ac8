"""The classroom's one way of writing and reading times: manifests, gradebook, receipts."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from grader.classroom.handin import iso_utc, parse_iso
from grader.classroom.receipts import iso, parse_time

SEOUL = timezone(timedelta(hours=9))


def test_times_are_written_in_utc_with_a_z() -> None:
    moment = datetime(2025, 3, 14, 23, 59, 30, 123456, tzinfo=SEOUL)
    assert iso_utc(moment) == "2025-03-14T14:59:30Z"
    assert iso(moment) == "2025-03-14T14:59:30.123Z"  # receipts keep milliseconds


def test_both_forms_read_back_as_the_same_moment() -> None:
    moment = datetime(2025, 3, 14, 14, 59, 30, 123000, tzinfo=timezone.utc)
    assert parse_time(iso(moment)) == moment == parse_iso(iso(moment))
    assert parse_iso(iso_utc(moment)) == moment.replace(microsecond=0)


def test_a_time_without_a_zone_is_utc() -> None:
    assert parse_iso("2025-03-14T14:59:30") == datetime(2025, 3, 14, 14, 59, 30, tzinfo=timezone.utc)
    assert parse_iso("2025-03-14T23:59:30+09:00") == datetime(2025, 3, 14, 14, 59, 30, tzinfo=timezone.utc)
