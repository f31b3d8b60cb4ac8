"""The question bank: load it (through a cache of the validated bank) or check it.

Checking (`validate.py`: YAML with line numbers, pydantic) runs when the bank's files changed;
a quiz that starts from the cache imports neither yaml nor pydantic.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from grader import __version__
from grader.catalog import QUIZ_DIR
from grader.errors import UserError
from grader.quiz.model import BY_TYPE, Question
from grader.quiz.problems import BankProblem, show_path
from grader.quiz.text import Bilingual


@dataclass(frozen=True)
class Bank:
    questions: tuple[Question, ...]
    files: tuple[Path, ...]
    where: dict[str, tuple[str, int]] = field(default_factory=dict)  # id -> (file, line)

    @property
    def by_id(self) -> dict[str, Question]:
        return {q.id: q for q in self.questions}

    def topics(self) -> Counter[str]:
        return Counter(q.topic for q in self.questions)

    def tags(self) -> set[str]:
        return {t for q in self.questions for t in q.tags}


class BankError(UserError):
    """The bank does not validate; `problems` holds every problem found."""

    def __init__(self, problems: Sequence[BankProblem]):
        self.problems = list(problems)
        n = len(self.problems)
        super().__init__(
            f"the quiz bank has {n} problem{'s' * (n != 1)}, first {self.problems[0]} "
            "(run `dlgrade quiz validate` to see all)"
        )


def default_bank_dir() -> Path:
    return QUIZ_DIR


def bank_files(path: Path) -> list[Path]:
    """The YAML files of a bank: `path` itself, or the *.yaml/*.yml files in a folder."""
    if not path.exists():
        raise UserError(f"no such quiz bank: {path}")
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    return [path]


def check_bank(path: Path | None = None) -> tuple[Bank, list[BankProblem]]:
    """Every valid question and every problem of the bank at `path` (default: the bundled one)."""
    # imported here: checking needs yaml and pydantic, which a quiz started from the cache
    # never imports (tens of milliseconds of start-up)
    from grader.quiz.validate import check_file

    path = default_bank_dir() if path is None else path
    files = bank_files(path)
    problems: list[BankProblem] = []
    if not files:
        problems.append(BankProblem(show_path(path), 0, "-", "no quiz files (*.yaml) here"))
    questions: list[Question] = []
    where: dict[str, tuple[str, int]] = {}
    for file in files:
        for question, line, file_problems in check_file(file):
            problems.extend(file_problems)
            if question is None:
                continue
            if question.id in where:
                first_file, first_line = where[question.id]
                problems.append(BankProblem(show_path(file), line, question.id,
                                            f"duplicate id (first at {first_file}:{first_line})"))
                continue
            where[question.id] = (show_path(file), line)
            questions.append(question)
    problems.sort(key=lambda p: (p.file, p.line))
    return Bank(tuple(questions), tuple(files), where), problems


def audit_bank(path: Path | None = None) -> tuple[Bank, list[BankProblem]]:
    """`check_bank`, then the content checks of `lint.py` on every valid question."""
    from grader.quiz.lint import lint

    bank, problems = check_bank(path)
    where_bank = show_path(default_bank_dir() if path is None else path)
    for finding in lint(bank.questions):
        file, line = bank.where.get(finding.qid, (where_bank, 0))
        problems.append(BankProblem(file, line, finding.qid, finding.message, finding.kind))
    problems.sort(key=lambda p: (p.file, p.line))
    return bank, problems


def load_bank(path: Path | None = None, *, cache: bool = True) -> Bank:
    """The bank, or a BankError (a UserError) if anything in it is wrong.

    A bank that validated once is cached (keyed by the files' contents and the checking code),
    so a quiz starts without importing yaml or building pydantic validators again.
    """
    path = default_bank_dir() if path is None else path
    files = bank_files(path)
    key = _cache_key(files) if cache and files else None
    if key is not None:
        cached = _read_cache(key)
        if cached is not None:
            return cached
    bank, problems = check_bank(path)
    if problems:
        raise BankError(problems)
    if key is not None:
        _write_cache(key, bank)
    return bank


# ------------------------------------------------------------------ the validated-bank cache

_CACHE_FORMAT = 2


def cache_dir() -> Path:
    """$DLGRADE_HOME/cache, else dlgrade's folder in the user cache directory."""
    home = os.environ.get("DLGRADE_HOME")
    if home:
        return Path(home).expanduser() / "cache"
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("dlgrade", appauthor=False))


def _cache_key(files: Sequence[Path]) -> str | None:
    digest = hashlib.sha256(f"{_CACHE_FORMAT}:{__version__}\0".encode())
    here = Path(__file__).parent
    try:
        for source in ("schema.py", "model.py", "validate.py", "text.py"):  # what decides validity
            digest.update((here / source).read_bytes())
        for file in files:
            digest.update(f"\0{file.resolve()}\0".encode())
            digest.update(file.read_bytes())
    except OSError:
        return None
    return digest.hexdigest()[:40]


def _plain(value: Any) -> Any:
    if isinstance(value, Bilingual):
        return {"ko": value.ko, "en": value.en}
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def _rich(value: Any) -> Any:
    # in a validated question every mapping is a bilingual text
    if isinstance(value, dict):
        return Bilingual(ko=value["ko"], en=value["en"])
    if isinstance(value, list):
        return tuple(_rich(v) for v in value)
    return value


def _write_cache(key: str, bank: Bank) -> None:
    """Best effort: a cache that cannot be written only costs the next start some time."""
    data = {
        "files": [str(f.resolve()) for f in bank.files],
        "questions": [
            {"type": q.type, **{f.name: _plain(getattr(q, f.name)) for f in fields(q)},
             "_where": [str(Path(bank.where[q.id][0]).resolve()), bank.where[q.id][1]]}
            for q in bank.questions
        ],
    }
    target = cache_dir() / f"bank-{key}.json"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, target)  # readers see the old file or the new one, never half of one
    except OSError:
        pass


def _read_cache(key: str) -> Bank | None:
    try:
        data = json.loads((cache_dir() / f"bank-{key}.json").read_text(encoding="utf-8"))
        questions, where = [], {}
        for item in data["questions"]:
            file, line = item.pop("_where")
            cls = BY_TYPE[item.pop("type")]
            values = {name: _rich(value) for name, value in item.items()}
            questions.append(cls(**values))
            where[values["id"]] = (show_path(Path(file)), line)
        return Bank(tuple(questions), tuple(Path(f) for f in data["files"]), where)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # missing or damaged: validate the YAML again
