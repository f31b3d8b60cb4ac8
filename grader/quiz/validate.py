"""Validate the bank's YAML (dlgrade quiz validate): every problem as `file:line: id: message`.

The YAML is composed to nodes first, so each problem can name the line of the key it is
about; then each question is validated on its own, so one bad question hides no other.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from grader.quiz.model import TOPICS, Question
from grader.quiz.problems import BankProblem, show_path
from grader.quiz.schema import ID_PATTERN, parse_question

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def check_file(file: Path) -> Iterable[tuple[Question | None, int, list[BankProblem]]]:
    """(question or None, its line, its problems) for each question of one YAML file."""
    name = show_path(file)
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        yield None, 1, [BankProblem(name, 1, "-", f"not UTF-8 text ({exc.reason})")]
        return
    except OSError as exc:
        yield None, 1, [BankProblem(name, 1, "-", f"cannot read: {exc.strerror}")]
        return
    try:
        root, data = _compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark else 1
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        yield None, line, [BankProblem(name, line, "-", f"invalid YAML: {reason}")]
        return
    if root is None or not isinstance(data, dict) or "questions" not in data \
            or not set(data) <= {"questions", "topics"}:
        line = root.start_mark.line + 1 if root is not None else 1
        yield None, line, [BankProblem(name, line, "-", "the file must be a mapping with the key "
                                       "'questions' (and optionally 'topics')")]
        return
    declared = data.get("topics") or {}
    if not isinstance(declared, dict) or not all(
            isinstance(k, str) and re.fullmatch(ID_PATTERN, k) for k in declared):
        node = _value_node(root, "topics")
        line = node.start_mark.line + 1 if node is not None else 1
        yield None, line, [BankProblem(name, line, "-", "'topics' must map kebab-case topic ids "
                                       "to their names, e.g. {my-topic: {ko: 내 주제, en: my topic}}")]
        return
    known_topics = set(TOPICS) | set(declared)
    keys = [k for k, _ in root.value if isinstance(k, yaml.ScalarNode) and k.value == "questions"]
    if len(keys) > 1:
        line = keys[1].start_mark.line + 1
        yield None, line, [BankProblem(name, line, "-", "the key 'questions' appears twice")]
        return
    items_node = _value_node(root, "questions")
    if not isinstance(data["questions"], list) or not isinstance(items_node, yaml.SequenceNode):
        line = items_node.start_mark.line + 1 if items_node is not None else 1
        yield None, line, [BankProblem(name, line, "-", "'questions' must be a list")]
        return
    dup_keys = list(_duplicate_keys(items_node))
    for index, (item, node) in enumerate(zip(data["questions"], items_node.value, strict=True)):
        line = node.start_mark.line + 1
        qid = item.get("id") if isinstance(item, dict) and isinstance(item.get("id"), str) else None
        label = qid or f"question {index + 1}"
        problems = [BankProblem(name, key_line, label, msg)
                    for key_node, key_line, msg in dup_keys if _inside(key_node, node)]
        question, found = parse_question(item)
        problems += [BankProblem(name, _line_of(node, loc), label, msg) for loc, msg in found]
        if question is not None and question.topic not in known_topics:
            problems.append(BankProblem(
                name, _line_of(node, ("topic",)), label,
                f"unknown topic {question.topic!r} (one of: {', '.join(sorted(known_topics))}; "
                "a deck declares its own under 'topics:')"))
        yield (None if problems else question), line, problems


def _compose(text: str) -> tuple[yaml.Node | None, Any]:
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    finally:
        loader.dispose()
    return root, data


def _value_node(mapping: yaml.Node, key: str) -> yaml.Node | None:
    if isinstance(mapping, yaml.MappingNode):
        for k, v in mapping.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key:
                return v
    return None


def _line_of(node: yaml.Node, loc: tuple[str | int, ...]) -> int:
    """The line of the deepest node that `loc` reaches (a key's own line for mapping keys)."""
    line = node.start_mark.line + 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if isinstance(k, yaml.ScalarNode) and k.value == str(part):
                    line, node = k.start_mark.line + 1, v
                    break
            else:
                continue  # a pydantic-only step (e.g. the union member's name)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
    return line


def _duplicate_keys(node: yaml.Node) -> Iterable[tuple[yaml.Node, int, str]]:
    """Keys written twice in one mapping: YAML keeps the last silently, we report it."""
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode):
                if k.value in seen:
                    yield k, k.start_mark.line + 1, f"key {k.value!r} appears twice"
                seen.add(k.value)
            yield from _duplicate_keys(v)
    elif isinstance(node, yaml.SequenceNode):
        for v in node.value:
            yield from _duplicate_keys(v)


def _inside(inner: yaml.Node, outer: yaml.Node) -> bool:
    return outer.start_mark.index <= inner.start_mark.index < outer.end_mark.index
