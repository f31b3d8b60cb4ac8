"""Python source as a sequence of normalised tokens, each with its place in the source.

What a copier can change without changing the program is normalised away, so that a
renamed copy reads the same as its original: every name the student chose (variables,
parameters, their own functions and classes) becomes `V`, every number `N`, every string
`S`; comments, docstrings, blank lines and indentation are dropped. What a copier cannot
change without breaking the program is kept as written, because it tells honest
solutions apart: keywords, operators, builtins, imported modules (under their real name,
so `import numpy as xp` reads as numpy), attributes after a dot (`.sum`, `self.state`)
and keyword arguments (`axis=`).

The standard library's tokenizer reads the source; code it cannot read (a syntax error
at the level of tokens: an unclosed string, broken indentation) is read by Pygments'
lexer instead, which never fails, so such a submission is still compared.
"""

from __future__ import annotations

import builtins
import io
import keyword
import tokenize
import zlib
from dataclasses import dataclass
from typing import Literal

import numpy as np

NAME = "V"
NUMBER = "N"
STRING = "S"

Kind = Literal["name", "keyword", "number", "string", "op"]
_KEPT_NAMES = frozenset(dir(builtins)) | {"self", "cls"}
_KEYWORDS = frozenset(keyword.kwlist)
_IMPORT_PARTS = frozenset({".", ",", "as", "(", ")", "import", "*"})


@dataclass(frozen=True)
class Tokens:
    """Normalised tokens: `text[i]` is token i as compared, `spans[i]` its (start, end) in the source."""

    text: list[str]
    spans: np.ndarray  # int64, shape (n, 2)

    def __len__(self) -> int:
        return len(self.text)

    def codes(self) -> np.ndarray:
        """A stable 32-bit code per token (the same in every process, unlike hash())."""
        return np.fromiter((zlib.crc32(t.encode()) for t in self.text), dtype=np.uint64,
                           count=len(self.text))


@dataclass(frozen=True)
class Lexeme:
    start: int
    kind: Kind
    value: str
    opens_line: bool = False  # the first token of a statement (import statements end there)


def normalise(source: str) -> Tokens:
    """The normalised tokens of a Python source."""
    lexemes = lex(source)
    imported = _imported_names(lexemes)
    text: list[str] = []
    spans: list[tuple[int, int]] = []
    depth = 0
    for i, lx in enumerate(lexemes):
        if lx.kind == "string":
            text.append(STRING)
        elif lx.kind == "number":
            text.append(NUMBER)
        elif lx.kind == "name":
            text.append(_name(lexemes, i, imported, depth))
        else:
            if lx.value in ("(", "[", "{"):
                depth += 1
            elif lx.value in (")", "]", "}"):
                depth = max(0, depth - 1)
            text.append(lx.value)
        spans.append((lx.start, lx.start + len(lx.value)))
    return Tokens(text, np.array(spans, dtype=np.int64).reshape(-1, 2))


def lex(source: str) -> list[Lexeme]:
    """The significant tokens (no comments, docstrings or layout) of a Python source."""
    try:
        return _lex_tokenize(source)
    except (tokenize.TokenError, SyntaxError, ValueError):
        return _lex_pygments(source)


def _lex_tokenize(source: str) -> list[Lexeme]:
    line_starts = [0]
    for line in source.splitlines(keepends=True):
        line_starts.append(line_starts[-1] + len(line))
    out: list[Lexeme] = []
    statement_start = True  # the next token begins a statement (a docstring may stand there)
    pending_doc: Lexeme | None = None
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type in (tokenize.COMMENT, tokenize.NL, tokenize.ENCODING, tokenize.ENDMARKER):
            continue
        if tok.type in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT):
            pending_doc = None  # a string alone on its line: a docstring, dropped
            statement_start = True
            continue
        if pending_doc is not None:
            out.append(pending_doc)
            pending_doc = None
        start = line_starts[tok.start[0] - 1] + tok.start[1]
        if tok.type == tokenize.STRING:
            if out and out[-1].kind == "string" and not statement_start:
                joined = source[out[-1].start:start + len(tok.string)]
                out[-1] = Lexeme(out[-1].start, "string", joined)  # "a" "b" is one literal
            elif statement_start:
                pending_doc = Lexeme(start, "string", tok.string)
            else:
                out.append(Lexeme(start, "string", tok.string))
        elif tok.type == tokenize.NUMBER:
            out.append(Lexeme(start, "number", tok.string, statement_start))
        elif tok.type == tokenize.NAME:
            kind: Kind = "keyword" if tok.string in _KEYWORDS else "name"
            out.append(Lexeme(start, kind, tok.string, statement_start))
        else:
            out.append(Lexeme(start, "op", tok.string, statement_start))
        statement_start = False
    return out


def _lex_pygments(source: str) -> list[Lexeme]:
    from pygments.lexers import PythonLexer
    from pygments.token import Comment, Keyword, Name, Number, String, Text

    out: list[Lexeme] = []
    for start, kind, value in PythonLexer(stripnl=False, ensurenl=False).get_tokens_unprocessed(source):
        if kind in Comment or kind in String.Doc or not value.strip() or kind in Text:
            continue
        line_start = source.rfind("\n", 0, start) + 1
        opens = not source[line_start:start].strip()
        if kind in String:
            if out and out[-1].kind == "string" and out[-1].start + len(out[-1].value) >= start:
                out[-1] = Lexeme(out[-1].start, "string", source[out[-1].start:start + len(value)])
                continue
            out.append(Lexeme(start, "string", value, opens))
        elif kind in Number:
            out.append(Lexeme(start, "number", value, opens))
        elif kind in Keyword and value in _KEYWORDS:
            out.append(Lexeme(start, "keyword", value, opens))
        elif kind in Name and value != ".":
            out.append(Lexeme(start, "name", value, opens))
        else:
            out.append(Lexeme(start, "op", value, opens))
    return out


def _name(lexemes: list[Lexeme], i: int, imported: dict[str, str], depth: int) -> str:
    value = lexemes[i].value
    prev = lexemes[i - 1].value if i > 0 else ""
    following = lexemes[i + 1].value if i + 1 < len(lexemes) else ""
    if prev == ".":
        return value  # an attribute: np.sum, x.shape, self.state
    if value in imported:
        return imported[value]
    if value in _KEPT_NAMES:
        return value
    if depth > 0 and following == "=" and prev in ("(", ","):
        return value  # keyword argument: axis=, keepdims=
    return NAME


def _imported_names(lexemes: list[Lexeme]) -> dict[str, str]:
    """Names bound or read by import statements, mapped to what they import (`np` -> `numpy`)."""
    names: dict[str, str] = {}
    inside = False
    for i, lx in enumerate(lexemes):
        if lx.kind == "keyword" and lx.value in ("import", "from"):
            inside = True
            continue
        if lx.opens_line:
            inside = False
        if not inside:
            continue
        prev = lexemes[i - 1]
        if lx.kind == "name" and prev.kind != "name":
            if prev.value == "as" and i >= 2:
                names[lx.value] = lexemes[i - 2].value
            else:
                names.setdefault(lx.value, lx.value)
        elif lx.value not in _IMPORT_PARTS or lx.kind == "name":
            inside = False
    return names
