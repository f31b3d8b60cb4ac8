"""Your own decks: CSV (this tool's export, or a sheet of your own) and Anki's plain-text
export, turned into a YAML deck that `quiz validate` accepts.

CSV columns (any order, case-insensitive; only a question and an answer are required):
    id, topic, type, tags, ko, en (or prompt / question / front), answer (or back), key,
    options_ko, options_en (or options), tolerance, unit_ko, unit_en,
    explanation_ko, explanation_en (or explanation / notes)
List cells (options, order items, aliases) take one entry per line, or entries split by " | ".
Without a type, a row with options is a choice question (its answer: letters, 0-based
indices or the option's text), "true"/"false"/"참"/"거짓" is true/false, a number is numeric,
anything else a short answer.

Anki's "Notes in Plain Text" (.txt): one note per line, front and back separated by a tab (or
the `#separator:` header), `#html:true` fields unescaped, `#tags column:N` read as tags, and
the `#guid column`, `#notetype column` and `#deck column` left out of the question.
"""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.errors import UserError
from grader.quiz.bank import check_bank
from grader.quiz.engine import LETTERS
from grader.quiz.model import TOPICS
from grader.quiz.numbers import NotANumber, read_number
from grader.textfile import read_text_file

FORMATS = ("csv", "anki")
_TRUE = {"true", "t", "yes", "참", "o", "맞음", "예"}
_FALSE = {"false", "f", "no", "거짓", "x", "틀림", "아니오"}
_SEPARATORS = {"tab": "\t", "comma": ",", "semicolon": ";", "pipe": "|", "space": " "}


@dataclass
class Imported:
    questions: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # "line N: why"


def slug(text: str, fallback: str = "imported") -> str:
    """Lowercase kebab-case (ids, topics, tags); Hangul is kept out of ids."""
    out = re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-")
    return out or fallback


def _split(cell: str) -> list[str]:
    parts = cell.split("\n") if "\n" in cell else cell.split(" | ") if " | " in cell else [cell]
    return [p.strip() for p in parts if p.strip()]


def _text(ko: str, en: str) -> str | dict[str, str]:
    ko, en = ko.strip(), en.strip()
    if ko and en and ko != en:
        return {"ko": ko, "en": en}
    return ko or en


def _number(text: str) -> int | float | None:
    try:
        reading = read_number(text)
    except NotANumber:
        return None
    if reading.rest:
        return None
    value = reading.value
    return int(value) if value == value.to_integral_value() else float(value)


def _answer_type(answer: str, options: list[str]) -> str:
    if options:
        return "choice"
    if answer.strip().casefold() in _TRUE | _FALSE:
        return "true_false"
    if _number(answer) is not None:
        return "numeric"
    return "short"


def _choice_key(key: str, options_ko: list[str], options_en: list[str]) -> list[int]:
    """Answer indices from "0,2", "a,c" or the right options' own text ("sigmoid | tanh")."""
    tokens = [t.strip() for t in re.split(r"[,\s]+", key) if t.strip()]
    if tokens and all(t.isdigit() for t in tokens):
        return [int(t) for t in tokens]
    if tokens and all(len(t) == 1 and t.casefold() in LETTERS for t in tokens):
        return [LETTERS.index(t.casefold()) for t in tokens]
    texts = [t.casefold() for t in _split(key)]
    out = [i for i, (ko, en) in enumerate(zip(options_ko, options_en, strict=True))
           if ko.casefold() in texts or en.casefold() in texts]
    if not out:
        raise ValueError(f"answer {key!r} names none of the options")
    return out


def row_question(row: dict[str, str], *, index: int, deck: str, topic: str,
                 tags: list[str]) -> dict[str, Any]:
    """One question (as the bank's YAML writes it) from a normalised CSV row."""
    def cell(*names: str) -> str:
        return next((row[n] for n in names if row.get(n, "").strip()), "").strip()

    ko, en = cell("ko", "prompt_ko"), cell("en", "prompt_en")
    plain = cell("prompt", "question", "front")
    if not (ko or en or plain):
        raise ValueError("no question text")
    prompt = {"ko": ko or en or plain, "en": en or ko or plain}
    answer = cell("key", "answer", "back")
    options_ko = _split(cell("options_ko", "options"))
    options_en = _split(cell("options_en", "options")) or options_ko
    options_ko = options_ko or options_en
    if len(options_ko) != len(options_en):
        raise ValueError("options_ko and options_en have different numbers of entries")
    qtype = cell("type") or _answer_type(answer, options_ko)
    if not answer and qtype != "order":
        raise ValueError("no answer")
    q: dict[str, Any] = {
        "id": slug(cell("id"), "") or f"{slug(deck)}-{index:03d}",
        "topic": slug(cell("topic") or topic),
        # order kept (the first tag reads as the main one), repeats dropped
        "tags": list(dict.fromkeys(slug(t) for t in re.split(r"[\s,;]+", cell("tags")) if t))
        or list(dict.fromkeys(slug(t) for t in tags)),
        "type": qtype,
        "prompt": prompt,
    }
    texts = [_text(k, e) for k, e in zip(options_ko, options_en, strict=True)]
    if qtype == "choice":
        q["options"] = texts
        q["answer"] = _choice_key(answer, options_ko, options_en)
    elif qtype == "order":
        q["items"] = texts
    elif qtype == "true_false":
        word = answer.casefold()
        if word not in _TRUE | _FALSE:
            raise ValueError(f"a true/false answer must be true or false, got {answer!r}")
        q["answer"] = word in _TRUE
    elif qtype == "numeric":
        value = _number(answer)
        if value is None:
            raise ValueError(f"not a number: {answer!r}")
        q["answer"] = value
        tolerance = cell("tolerance")
        if tolerance:
            tol = _number(tolerance)
            if tol is None:
                raise ValueError(f"tolerance is not a number: {tolerance!r}")
            q["tolerance"] = tol
        unit = _text(cell("unit_ko"), cell("unit_en"))
        if unit:
            q["unit"] = unit if isinstance(unit, dict) else {"ko": unit, "en": unit}
    elif qtype == "short":
        q["answer"] = _split(answer)
    else:
        raise ValueError(f"unknown type {qtype!r}")
    explanation = _text(cell("explanation_ko", "explanation", "notes"),
                        cell("explanation_en", "explanation", "notes"))
    q["explanation"] = explanation or {"ko": f"정답: {answer}", "en": f"Answer: {answer}"}
    return q


def read_csv(text: str, *, deck: str, topic: str, tags: list[str]) -> Imported:
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames:
        raise UserError("the CSV file has no header row")
    out = Imported()
    for index, raw in enumerate(reader, 1):
        row = {(k or "").strip().casefold(): (v or "") for k, v in raw.items() if k is not None}
        try:
            out.questions.append(row_question(row, index=index, deck=deck, topic=topic, tags=tags))
        except ValueError as exc:
            out.skipped.append(f"line {reader.line_num}: {exc}")
    return out


def _anki_field(text: str, is_html: bool) -> str:
    if is_html:
        text = re.sub(r"<br\s*/?>|</div>|</p>", "\n", text, flags=re.IGNORECASE)
        text = re.sub(r"<[^>]+>", "", text)
        text = html.unescape(text)
    return text.strip()


def read_anki(text: str, *, deck: str, topic: str, tags: list[str]) -> Imported:
    """Anki's plain-text export: `#key:value` headers, then front<sep>back[<sep>...] rows."""
    separator, is_html, tags_column = "\t", False, None
    skipped_columns: set[int] = set()  # guid, notetype and deck columns are not content
    lines = text.splitlines()
    body_start = 0
    for body_start, line in enumerate(lines):  # noqa: B007 - the first non-header line
        if not line.startswith("#"):
            break
        key, _, value = line[1:].partition(":")
        key, value = key.strip().casefold(), value.strip()
        if key == "separator":
            separator = _SEPARATORS.get(value.casefold(), value[:1] or "\t")
        elif key == "html":
            is_html = value.casefold() == "true"
        elif key == "tags column" and value.isdigit():
            tags_column = int(value) - 1
        elif key in ("guid column", "notetype column", "deck column") and value.isdigit():
            skipped_columns.add(int(value) - 1)
    else:
        body_start = len(lines)
    out = Imported()
    reader = csv.reader(io.StringIO("\n".join(lines[body_start:])), delimiter=separator)
    for index, fields in enumerate(reader, 1):
        line = body_start + reader.line_num
        if not any(f.strip() for f in fields):
            continue
        content = [f for k, f in enumerate(fields)
                   if k != tags_column and k not in skipped_columns]
        if len(content) < 2:
            out.skipped.append(f"line {line}: needs a front and a back")
            continue
        front, back = (_anki_field(f, is_html) for f in content[:2])
        row = {"front": front, "back": back}
        if tags_column is not None and tags_column < len(fields):
            row["tags"] = fields[tags_column]
        try:
            out.questions.append(row_question(row, index=index, deck=deck, topic=topic, tags=tags))
        except ValueError as exc:
            out.skipped.append(f"line {line}: {exc}")
    return out


def unique_ids(questions: Iterable[dict[str, Any]]) -> None:
    """Make ids unique in place: a repeated id gets -2, -3, ..."""
    seen: dict[str, int] = {}
    for q in questions:
        base = q["id"]
        if base in seen:
            seen[base] += 1
            q["id"] = f"{base}-{seen[base]}"
        else:
            seen[base] = 1


def import_deck(source: Path, out: Path, *, fmt: str | None = None, topic: str | None = None,
                tags: list[str] | None = None) -> Imported:
    """Read `source`, write a YAML deck to `out`; UserError if the result would not validate."""
    import yaml

    fmt = fmt or ("anki" if source.suffix.casefold() == ".txt" else "csv")
    if fmt not in FORMATS:
        raise UserError(f"unknown --format {fmt!r} (choose from: {', '.join(FORMATS)})")
    if out.suffix not in (".yaml", ".yml"):
        raise UserError(f"{out}: the deck must be a .yaml file")
    text = read_text_file(source)
    reader = read_anki if fmt == "anki" else read_csv
    imported = reader(text, deck=source.stem, topic=topic or source.stem, tags=tags or ["imported"])
    if not imported.questions:
        raise UserError(f"{source}: no question could be read"
                        + (f" ({imported.skipped[0]})" if imported.skipped else ""))
    unique_ids(imported.questions)
    own = sorted({q["topic"] for q in imported.questions} - set(TOPICS))
    deck: dict[str, Any] = {"topics": {t: {"ko": t, "en": t} for t in own}} if own else {}
    deck["questions"] = imported.questions
    body = yaml.safe_dump(deck, allow_unicode=True, sort_keys=False, width=1000)
    tmp = out.with_name(f".{out.name}.tmp.yaml")
    try:
        tmp.write_text(f"# imported from {source.name} by `dlgrade quiz import`\n{body}",
                       encoding="utf-8")
        _, problems = check_bank(tmp)
        if problems:
            raise UserError(f"the imported deck would not validate: {problems[0].message} "
                            f"({problems[0].qid}); nothing was written")
        tmp.replace(out)
    except OSError as exc:
        raise UserError(f"cannot write {out}: {exc.strerror}") from None
    finally:
        tmp.unlink(missing_ok=True)
    return imported
