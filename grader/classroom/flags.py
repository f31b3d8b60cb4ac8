"""Flags: what a submission did that an instructor should look at, read from its results.

The sandbox ends a case with a message that says why: a timeout, a read, write or
connection it refused, a `sys.exit`, a crash, a resource limit. Such a case fails like
any other; a flag says that it happened, so the hostile or broken submission stands out
in the batch summary, the gradebook, the reports and the exports. Flags never change a
score. Messages are matched at their start (after the import prefix), where only the
grader writes, so a student's exception text cannot raise a flag by quoting one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from grader.grading.results import TestResult

# (kind, pattern at the start of a message) — first match wins
_RULES: tuple[tuple[str, re.Pattern[str]], ...] = tuple((kind, re.compile(pattern)) for kind, pattern in (
    ("timeout", r"(importing the submission )?timed out after"),
    ("blocked read", r"refused by the sandbox: dlgrade sandbox: (reading|looking into) "),
    ("blocked write", r"refused by the sandbox: dlgrade sandbox: (writing|changing) "),
    ("blocked network", r"refused by the sandbox: dlgrade sandbox: network access"),
    ("blocked call", r"refused by the sandbox: "),
    ("exit", r"(called sys\.exit|exited with code)"),
    ("resource limit", r"(ran out of memory|used up its CPU time|was killed \(SIGKILL\)|output too large)"),
    ("crash", r"(crashed with|was killed by|stopped responding|sent back something that is not plain data)"),
))
_PREFIXES = ("could not import the submission: ", "the submission died while being imported: ")
DETAIL_CHARS = 200


def classify(message: str) -> str | None:
    """The flag kind of one case message, or None for an ordinary failure."""
    for prefix in _PREFIXES:
        message = message.removeprefix(prefix)
    for kind, pattern in _RULES:
        if pattern.match(message):
            return kind
    return None


def flags_from_tests(tests: Iterable[TestResult]) -> list[dict[str, Any]]:
    """One flag per distinct (kind, message): {kind, case, cases, detail}.

    An import that failed fails every case with one message: that is one flag, not one per
    case. Cases that were not run because an earlier one timed out add nothing.
    """
    flags: dict[tuple[str, str], dict[str, Any]] = {}
    for t in tests:
        if t.status != "failed" or t.message.startswith("not run: "):
            continue
        kind = classify(t.message)
        if kind is None:
            continue
        detail = t.message[:DETAIL_CHARS]
        flag = flags.setdefault((kind, detail), {"kind": kind, "case": t.name, "cases": 0, "detail": detail})
        flag["cases"] += 1
    return list(flags.values())


def flag_kinds(flags: Sequence[dict[str, Any]]) -> list[str]:
    """The distinct kinds, in the order first seen."""
    return list(dict.fromkeys(str(f.get("kind", "?")) for f in flags))


def flag_summary(flags: Sequence[dict[str, Any]]) -> str:
    """'timeout ×2, exit' — short enough for a table cell; '' when there is nothing."""
    counts: dict[str, int] = {}
    for f in flags:
        counts[str(f.get("kind", "?"))] = counts.get(str(f.get("kind", "?")), 0) + 1
    return ", ".join(k if n == 1 else f"{k} ×{n}" for k, n in counts.items())
