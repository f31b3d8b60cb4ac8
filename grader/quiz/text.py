"""Bilingual text: one string for both languages, or a Korean/English pair; normalisation."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

Lang = Literal["ko", "en", "both"]
LANGS: tuple[str, ...] = ("ko", "en", "both")


@dataclass(frozen=True)
class Bilingual:
    ko: str
    en: str


Text = str | Bilingual

# Dashes and underscores count as spacing: "self-supervised" == "self supervised" == "selfsupervised".
_IGNORED = re.compile(r"[\s\-_\u2010-\u2015\u2212]+")


def tr(text: Text, lang: Lang) -> str:
    """`text` in one language; for "both", Korean with the English after it when they differ."""
    if isinstance(text, str):
        return text
    if lang == "ko":
        return text.ko
    if lang == "en":
        return text.en
    return text.ko if text.ko == text.en else f"{text.ko} ({text.en})"


def tr_block(text: Text, lang: Lang) -> str:
    """Like `tr`, but for "both" the English goes on its own line (prompts, explanations)."""
    if isinstance(text, Bilingual) and lang == "both" and text.ko != text.en:
        return f"{text.ko}\n{text.en}"
    return tr(text, lang)


def variants(text: Text) -> tuple[str, ...]:
    """Every spelling a learner may type for `text`."""
    return (text,) if isinstance(text, str) else (text.ko, text.en)


def fold(s: str) -> str:
    """Canonical form for matching: NFKC (so NFD Hangul composes), casefold, no spacing at all."""
    return _IGNORED.sub("", unicodedata.normalize("NFKC", s).casefold())


# What a learner may wrap around a short answer that does not change it.
_QUOTES = "\"'`‘’‚‛“”„‟«»‹›「」『』〈〉《》"
_TRAILING = re.compile(r"[\s.!?。,;:…]+$")
_ARTICLE = re.compile(r"^(?:the|an?)\s+", re.IGNORECASE)
_ET_AL = re.compile(r"(?:\s*\bet\.?\s*al\.?|\s+(?:외|등))$", re.IGNORECASE)
_LOSS = re.compile(r"(?<=\S)[\s\-_]*(?:loss|손실)$", re.IGNORECASE)


def answer_form(s: str) -> str:
    """Canonical form of a short answer: `fold` after dropping what does not change it.

    Quotes, trailing punctuation, a leading article, a trailing "et al." and a trailing
    "loss"/"손실" go ("The 'cross-entropy loss'." reads as "crossentropy"). Applied to the
    typed answer and to every alias alike, so an alias may be written either way.
    """
    text = unicodedata.normalize("NFKC", s).strip()
    for _ in range(3):  # each rule may uncover another: '"Hornik et al."'
        before = text
        text = text.strip(_QUOTES + " \t")
        text = _TRAILING.sub("", text)
        text = _ARTICLE.sub("", text)
        text = _ET_AL.sub("", text).strip()
        text = _LOSS.sub("", text)
        if text == before:
            break
    return fold(text) or fold(s)


def squash(s: str) -> str:
    """Light form for parsing commands and letters: NFKC, casefold, outer spaces stripped."""
    return unicodedata.normalize("NFKC", s).casefold().strip()


# The Korean (dubeolsik) keyboard puts these jamo on the keys of the Latin letters that
# answers and commands use: typing `a` with the Korean input method on gives `ㅁ`.
_DUBEOLSIK = str.maketrans("ㅁㅠㅊㅇㄷㄹㅎㅗㅅㅐㅌㄴㅂㅛㅜㅕㄱ", "abcdefghtoxsqynur")
_JAMO_KEYS = set("ㅁㅠㅊㅇㄷㄹㅎㅗㅅㅐㅌㄴㅂㅛㅜㅕㄱ")


def latin_keys(s: str) -> str:
    """`s` as typed with the Latin layout, when it is made only of keyboard jamo (and spacing).

    Call it before NFKC, which turns these compatibility jamo into conjoining ones.
    """
    letters = [c for c in s if not c.isspace() and c not in ",;/|+"]
    if letters and all(c in _JAMO_KEYS for c in letters):
        return s.translate(_DUBEOLSIK)
    return s


@dataclass(frozen=True)
class Msg:
    """A message for the learner in both languages."""

    ko: str
    en: str

    def __call__(self, lang: Lang) -> str:
        if lang == "ko":
            return self.ko
        if lang == "en":
            return self.en
        return f"{self.ko}\n{self.en}"

    def inline(self, lang: Lang) -> str:
        """Short labels: "ko / en" on one line for both languages."""
        return f"{self.ko} / {self.en}" if lang == "both" else self(lang)
