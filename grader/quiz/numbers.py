"""Read a typed number the way a learner writes it, in Korean or English.

`1750억`, `175B`, `175 billion`, `1.75e11`, `175,000,000,000`, `1.75 × 10^11`, `1.75·10¹¹`,
`1억 2천만` and `2012년` are all numbers here. Magnitude words scale the number whatever the
question's unit; whatever follows the number and its magnitude (a unit such as 개, layers, %,
년) is ignored, as long as it holds no digit (then the answer is ambiguous: `224x224`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

# Korean magnitudes multiply inside one group (천만 = 10^3 · 10^4) and groups add up
# (1억 2천만 = 10^8 + 2 · 10^7).
KOREAN_POWERS = {"십": 1, "백": 2, "천": 3, "만": 4, "억": 8, "조": 12, "경": 16}
ENGLISH_WORDS = {"hundred": 2, "thousand": 3, "million": 6, "billion": 9, "trillion": 12}
# Letter suffixes as papers and model cards write them: 175B, 340M, 10k, 1.2T, 3bn.
# Case matters for M (an "m" may be metres or minutes), so these are read before casefolding.
SUFFIXES = {"k": 3, "K": 3, "M": 6, "B": 9, "bn": 9, "G": 9, "T": 12}

_SUPERSCRIPT = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+")
_SUPERSCRIPTS = re.compile(r"[⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺]+")
_MANTISSA = r"[+-]?(?:\d[\d,_]*(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_TIMES_TEN = r"\s*(?:[x×*·✕]\s*(?P<base>10)\s*)?(?:\^|\*\*)\s*(?P<exp>[+-]?\d+)"
_GROUP = re.compile(
    rf"(?P<num>{_MANTISSA})(?:{_TIMES_TEN})?"
    rf"(?P<gap>\s*)(?P<mag>[{''.join(KOREAN_POWERS)}]+|(?i:{'|'.join(ENGLISH_WORDS)})s?\b"
    rf"|(?:{'|'.join(sorted(SUFFIXES, key=len, reverse=True))})(?![A-Za-z]))?")
_ABOUT = re.compile(r"^(?:약|대략|about|approx\.?|approximately|around|roughly|~|≈)\s*",
                    re.IGNORECASE)
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$|^[+-]?\d+(\.\d*)?$|^[+-]?\.\d+$")


@dataclass(frozen=True)
class Reading:
    """A typed number: its value, and whether a magnitude or an exponent said how big."""

    value: Decimal
    scaled: bool  # a magnitude word, a suffix or an exponent was given
    rest: str  # what followed the number (a unit, a suffix such as 년)


class NotANumber(ValueError):
    """The text is not one number we can be sure of."""


def read_number(raw: str) -> Reading:
    """The number in `raw`, or NotANumber."""
    text = _SUPERSCRIPTS.sub(lambda m: "^" + m[0].translate(_SUPERSCRIPT), raw)
    text = unicodedata.normalize("NFKC", text).replace("\u2212", "-").strip()
    text = _ABOUT.sub("", text)
    total = Decimal(0)
    scaled = False
    last_power: int | None = None
    pos = 0
    while True:
        match = _GROUP.match(text, pos)
        if not match or not any(c.isdigit() for c in match["num"]):
            if pos == 0:
                raise NotANumber(raw)
            break
        value = _mantissa(match["num"])
        if "e" in match["num"].casefold():
            scaled = True
        if match["exp"] is not None:
            scaled = True
            exponent = int(match["exp"])
            if abs(exponent) > 30:
                raise NotANumber(raw)
            value = value * Decimal(10) ** exponent if match["base"] else value ** exponent
        power = _power(match["mag"] or "")
        korean = bool(match["mag"]) and match["mag"][0] in KOREAN_POWERS
        if match["mag"]:
            scaled = True
            value = value.scaleb(power)
        if pos and not (korean and last_power is not None and power < last_power):
            break  # only Korean groups chain, each smaller than the one before (1억 2천만)
        total += value
        pos = match.end()
        if not korean:
            break
        last_power = power
        while pos < len(text) and text[pos].isspace():
            pos += 1
    rest = text[pos:].strip()
    if any(c.isdigit() for c in rest):
        raise NotANumber(raw)  # "1,2,3", "224x224", "2012 or 2013": not one number
    if rest[:1].isascii() and rest[:1].isalpha() and pos and not text[pos - 1].isspace() \
            and not scaled:
        raise NotANumber(raw)  # "10q": a typo, not a unit
    if rest[:1] in (".", ",") or rest in ("e", "E"):
        raise NotANumber(raw)
    return Reading(total, scaled, rest)


def _mantissa(text: str) -> Decimal:
    body = text.replace("_", "")
    plain = re.split(r"[eE]", body)[0]
    if not _THOUSANDS.match(plain):
        raise NotANumber(text)
    try:
        value = Decimal(body.replace(",", ""))
    except InvalidOperation:
        raise NotANumber(text) from None
    if not value.is_finite():
        raise NotANumber(text)
    return value


def _power(word: str) -> int:
    if not word:
        return 0
    if word[0] in KOREAN_POWERS:
        return sum(KOREAN_POWERS[c] for c in word)
    if word in SUFFIXES:
        return SUFFIXES[word]
    return ENGLISH_WORDS[word.casefold().rstrip("s")]
