"""What `dlgrade similarity` does, end to end: compare, record the flags, write the reports."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from grader.catalog import get_assignment
from grader.classroom.gradebook import Gradebook
from grader.errors import UserError
from grader.similarity.detect import AssignmentResult, Settings, compare_class
from grader.similarity.export import export_flagged
from grader.similarity.flags import record_flags
from grader.similarity.html_report import write_report


@dataclass(frozen=True)
class SimilarityRun:
    results: list[AssignmentResult]
    flags_recorded: int | None  # None: no gradebook given
    report: Path | None
    export: Path | None


def check_settings(settings: Settings) -> None:
    if settings.threshold is not None and not 0.0 < settings.threshold <= 1.0:
        raise UserError(f"--threshold must be in (0, 1] (got {settings.threshold:g}): it is a share of code")
    if not 0.0 < settings.common_share <= 1.0:
        raise UserError(f"--common-share must be in (0, 1] (got {settings.common_share:g})")
    if settings.max_bytes < 1024:
        raise UserError(f"--max-kb must be at least 1 (got {settings.max_bytes / 1024:g})")


def run_similarity(root: Path, assignments: Sequence[str] | None, settings: Settings, *,
                   db: Path | None, report: Path | None, export: Path | None) -> SimilarityRun:
    """Everything a user can get wrong is checked before the comparison, which takes a while."""
    check_settings(settings)
    # before the gradebook is opened: a mistyped folder or name must not leave a new, empty one
    if not root.is_dir():
        raise UserError(f"no such folder: {root}")
    for name in assignments or ():
        get_assignment(name)
    for option, folder in (("--report", report), ("--export", export)):
        if folder is not None and folder.exists() and not folder.is_dir():
            raise UserError(f"{option} {folder} is a file, not a folder")
    with ExitStack() as stack:
        gradebook = None
        if db is not None:
            gradebook = stack.enter_context(Gradebook(db))
        results = compare_class(root, assignments, settings)
        if not results:
            raise UserError(f"no submissions in {root} (expected {root}/<student>/<assignment>.py)")
        recorded = None
        if gradebook is not None:
            recorded = record_flags(gradebook, results)
    report_path = None
    if report is not None:
        report_path = write_report(results, report)
    export_path = None
    if export is not None:
        export_path = export_flagged(results, export)
    return SimilarityRun(results, recorded, report_path, export_path)
