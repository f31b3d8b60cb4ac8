"""Times as the classroom records them: UTC, written as ISO 8601 text ending in Z.

Manifests, the gradebook and the receipts log all store their times this way, so one
reader (`parse_iso`) takes any of them back; a time written without a zone is UTC.
"""

from __future__ import annotations

from datetime import datetime, timezone


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def iso_utc(moment: datetime, timespec: str = "seconds") -> str:
    """`2025-03-14T14:59:00Z`: `moment` in UTC, to the second unless `timespec` says finer."""
    return moment.astimezone(timezone.utc).isoformat(timespec=timespec).replace("+00:00", "Z")


def parse_iso(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
