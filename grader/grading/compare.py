"""Comparing an actual output with the expected one, in the trusted process only.

Both sides are plain data (see grader.grading.case): what the sandbox sends back has already
been decoded into plain Python and plain ndarrays, so nothing here can be fooled by
a lying `__eq__` or an ndarray subclass. A comparison checks structure, shape, dtype
kind, finiteness and tolerance; its message says what differs, where, and, when a
common mistake is recognisable (a factor 2, a missing 1/N, a transposed gradient,
a flipped sign), what to look at.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from grader.grading.case import Data, Judge, Verdict

_NUMERIC_KINDS = "biuf"  # bool, signed, unsigned, float

Kind = Literal["loss", "gradient"]


@dataclass(frozen=True)
class Batch:
    """What the grader knows of a case's input: N rows of D values each (D = 1 for (N,)),
    and whether the answer is a loss value or a gradient. It turns a constant ratio into
    the mistake that makes it."""

    n: int
    d: int
    kind: Kind

    @classmethod
    def of(cls, shape: Sequence[int], kind: Kind) -> Batch:
        shape = [int(s) for s in shape]
        return cls(shape[0] if shape else 1, int(np.prod(shape[1:])) if len(shape) > 1 else 1, kind)


def _where(path: str) -> str:
    return f"{path}: " if path else ""


def _fmt_index(index: tuple[int, ...]) -> str:
    return "()" if not index else "(" + ", ".join(str(i) for i in index) + ")"


def _as_numeric(value: Data) -> np.ndarray | None:
    """A numeric ndarray for numbers and numeric arrays; None for anything else."""
    if isinstance(value, (bool, int, float, np.number, np.bool_)):
        return np.asarray(value)
    if isinstance(value, np.ndarray) and value.dtype.kind in _NUMERIC_KINDS:
        return value
    return None


def _describe(value: Data) -> str:
    if value is None:
        return "None"
    if isinstance(value, np.ndarray):
        return f"an array of dtype {value.dtype} and shape {value.shape}"
    return type(value).__name__


def _constant_ratio(actual: np.ndarray, expected: np.ndarray) -> float | None:
    """r when actual == r·expected everywhere (to 1e-6), r ∉ {0, 1}; None otherwise."""
    mask = np.abs(expected) > 1e-12
    if not mask.any():
        return None
    ratios = actual[mask] / expected[mask]
    ratio = float(np.median(ratios))
    if not np.isfinite(ratio) or not np.allclose(ratios, ratio, rtol=1e-6, atol=0):
        return None
    if abs(ratio - 1) < 1e-9 or ratio == 0:
        return None
    if not np.allclose(actual[~mask], 0.0, atol=1e-12):
        return None
    return ratio


def _near(x: float, y: float) -> bool:
    return abs(x - y) <= 1e-6 * abs(y)


def _factor_words(kind: Kind, n: int, d: int) -> list[tuple[float, str]]:
    """(the factor a mistake multiplies every value by, what to tell the student)."""
    loss = kind == "loss"
    words = [
        (0.5, "an extra ½ in the loss" if loss
         else "a missing factor 2 (the derivative of a square: d(r²)/dr = 2r)"),
        (2.0, "a factor 2 too many" + ("" if loss else " (the derivative of r² is 2r, not 4r)")),
        (float(n), f"no division by N = {n} (the mean over the batch's rows)"),
        (1.0 / n, f"a division by N = {n} once too often"),
    ]
    if d > 1:
        words.append((1.0 / d, f"a mean over all N·D = {n * d} elements (np.mean over every "
                               f"element): sum over the D = {d} columns, divide by N = {n} only"
                      if loss else f"a division by N·D = {n * d} (pred.size) instead of N = {n}"))
    return words


def _explain_ratio(ratio: float, kind: Kind, n: int, d: int) -> str:
    """The mistakes, alone or two together, that multiply every value by `ratio`; several
    explanations of the same ratio (N = 2, D = 2) are all given."""
    sign = ratio < 0
    magnitude = abs(ratio)
    words = _factor_words(kind, n, d)
    found: list[str] = []
    if _near(magnitude, 1.0):
        found.append("")
    found += [w for f, w in words if _near(magnitude, f)]
    if not found:
        found = [f"{w1} and {w2}" for i, (f1, w1) in enumerate(words)
                 for f2, w2 in words[i + 1:] if _near(magnitude, f1 * f2)]
    found = list(dict.fromkeys(found))
    if not found:
        return ""
    flip = "the sign is flipped (pred − target vs target − pred)"
    if found == [""]:
        return flip
    what = " or ".join(found)
    if sign:
        what = f"{flip}, and {what}"
    size = "a scalar" if kind == "loss" else f"shape ({n}, {d})" if d > 1 else f"shape ({n},)"
    return f"every value is {ratio:.6g}× the expected one ({size}, N = {n}): {what}?"


def _ratio_hint(actual: np.ndarray, expected: np.ndarray, gradient: bool,
                batch: Batch | None) -> str:
    """Recognise answers that are a constant multiple of the right one. With the batch's
    shape (N, D) and the case's kind, the hint names the mistake (1/N missing, a mean over
    N·D, an extra ½, the square's factor 2, a sign); without it, only the factor."""
    ratio = _constant_ratio(actual, expected)
    if ratio is None:
        return ""
    if batch is not None:
        hint = _explain_ratio(ratio, batch.kind, batch.n, batch.d)
        if hint:
            return hint
    if abs(ratio + 1) < 1e-9:
        return "every value has the wrong sign: check the direction (y − ŷ vs ŷ − y)"
    if gradient and abs(ratio - 0.5) < 1e-9:
        return "every value is half the expected one: a missing factor 2 (the derivative of a square)?"
    return f"{'the value' if actual.size == 1 else 'every value'} is {ratio:.6g}× the expected one"


def digits(actual: float, expected: float) -> tuple[str, str]:
    """Both numbers with the fewest significant digits (6 or more) that tell them apart; past
    6, both with one digit more (trailing zeros kept: 0.099944001 against 0.099944007)."""
    for places in range(6, 18):
        a, e = f"{actual:.{places}g}", f"{expected:.{places}g}"
        if a != e:
            if places == 6:
                return a, e
            places = min(places + 1, 17)  # one digit past the first that differs
            return f"{actual:#.{places}g}", f"{expected:#.{places}g}"
    return repr(float(actual)), repr(float(expected))


def _transposed(a: np.ndarray, e: np.ndarray, rtol: float, atol: float) -> bool:
    return (a.ndim == 2 and a.shape == e.shape[::-1] and a.size > 1
            and bool(np.allclose(a.T, e, rtol=max(rtol, 1e-6), atol=max(atol, 1e-9))))


def _compare_arrays(actual: np.ndarray, expected: np.ndarray, path: str, rtol: float,
                    atol: float, gradient: bool, batch: Batch | None) -> Verdict:
    where = _where(path)
    if actual.shape != expected.shape:
        hint = ""
        if _transposed(actual, expected, rtol, atol):
            hint = " — it equals the transpose of the expected value: a transposed gradient?"
        elif actual.size == expected.size:
            hint = " — same number of elements: reshape to the expected shape (keep the batch axis first)"
        exp_shape = "a scalar" if expected.ndim == 0 else f"shape {expected.shape}"
        got_shape = "a scalar" if actual.ndim == 0 else f"shape {actual.shape}"
        return Verdict(False, f"{where}expected {exp_shape}, got {got_shape}{hint}")
    if expected.dtype.kind in "iub" and actual.dtype.kind == "f" and not np.all(np.isfinite(actual)):
        return Verdict(False, f"{where}expected integers, got non-finite values")

    with np.errstate(all="ignore"):  # NaN and inf are reported, not warned about
        return _compare_values(actual.astype(np.float64), expected.astype(np.float64), where,
                               rtol, atol, gradient, batch)


def _compare_values(a: np.ndarray, e: np.ndarray, where: str, rtol: float, atol: float,
                    gradient: bool, batch: Batch | None) -> Verdict:
    bad_finite = np.isfinite(e) & ~np.isfinite(a)
    if bad_finite.any():
        idx = tuple(int(i) for i in np.argwhere(bad_finite)[0])
        return Verdict(False, f"{where}{int(bad_finite.sum())} non-finite value(s) (NaN or inf), "
                              f"first at index {_fmt_index(idx)}: got {float(a[idx])}, expected "
                              f"{float(e[idx]):.10g} — look for overflow (exp of a large number, "
                              "log of 0)")
    same_special = ~np.isfinite(e) & ((a == e) | (np.isnan(a) & np.isnan(e)))
    other_special = ~np.isfinite(e) & ~same_special  # expected inf or NaN, got something else
    if other_special.any():
        idx = tuple(int(i) for i in np.argwhere(other_special)[0])
        return Verdict(False, f"{where}{int(other_special.sum())} value(s) differ where the expected "
                              f"value is not finite, first at index {_fmt_index(idx)}: got "
                              f"{float(a[idx])}, expected {float(e[idx])}")
    diff = np.array(np.abs(a - e))  # np.array: 0-d stays an array, assignable
    diff[same_special] = 0.0
    if gradient:
        rel = np.array(diff / np.maximum(1e-8, np.abs(a) + np.abs(e)))
        bad = np.array((rel > rtol) & (diff > atol))
    else:
        rel = np.array(diff / np.maximum(np.abs(e), 1e-300))
        bad = np.array(diff > atol + rtol * np.abs(e))
    bad &= ~same_special
    if not bad.any():
        return Verdict(True, "")
    worst = np.unravel_index(int(np.argmax(np.where(bad, diff, -1.0))), a.shape) if a.ndim else ()
    first = tuple(int(i) for i in np.argwhere(bad)[0]) if a.ndim else ()
    worst = tuple(int(i) for i in worst)
    if gradient:
        figure = f"max relative error {float(rel.max()):.3g} (CS231n |a-b|/(|a|+|b|), tolerance {rtol:g})"
    else:
        figure = (f"max rel error {float(rel[bad].max()):.3g}, max abs error {float(diff.max()):.3g} "
                  f"(rtol {rtol:g}, atol {atol:g})")
    count = f"{int(bad.sum())} of {a.size} value(s) differ" if a.ndim else "value differs"
    at = f"; first at index {_fmt_index(first)}" if a.ndim else ""
    got, want = digits(float(a[first]), float(e[first]))
    msg = f"{where}{count}; {figure}{at}: got {got}, expected {want}"
    if worst != first:
        msg += f"; worst at {_fmt_index(worst)}"
    hint = _ratio_hint(a, e, gradient, batch)
    if not hint and _transposed(a, e, rtol, atol) and a.shape[0] > 1:
        hint = "it equals the transpose of the expected value: a transposed gradient?"
    return Verdict(False, f"{msg} — hint: {hint}" if hint else msg)


def _compare(actual: Data, expected: Data, path: str, rtol: float, atol: float,
             gradient: bool, batch: Batch | None) -> Verdict:
    where = _where(path)
    if isinstance(expected, Mapping):
        if not isinstance(actual, Mapping):
            return Verdict(False, f"{where}expected a dict, got {_describe(actual)}")
        missing = [k for k in expected if k not in actual]
        if missing:
            return Verdict(False, f"{where}missing key(s): {', '.join(map(repr, missing))}")
        for key in expected:
            verdict = _compare(actual[key], expected[key], f"{path}[{key!r}]", rtol, atol,
                               gradient, batch)
            if not verdict.passed:
                return verdict
        return Verdict(True, "")
    if isinstance(expected, (str, type(None))):
        if actual == expected and type(actual) is type(expected):
            return Verdict(True, "")
        return Verdict(False, f"{where}expected {expected!r}, got {_describe(actual) if not isinstance(actual, str) else repr(actual)}")
    if isinstance(expected, Sequence):
        if not isinstance(actual, Sequence) or isinstance(actual, str):
            return Verdict(False, f"{where}expected a sequence of {len(expected)}, got {_describe(actual)}")
        if len(actual) != len(expected):
            return Verdict(False, f"{where}expected {len(expected)} item(s), got {len(actual)}")
        for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
            verdict = _compare(a, e, f"{path}[{i}]", rtol, atol, gradient, batch)
            if not verdict.passed:
                return verdict
        return Verdict(True, "")
    exp_arr = _as_numeric(expected)
    if exp_arr is None:
        raise TypeError(f"expected value of unsupported type {type(expected).__name__}")
    act_arr = _as_numeric(actual)
    if act_arr is None:
        return Verdict(False, f"{where}expected a number or numeric array, got {_describe(actual)}")
    return _compare_arrays(act_arr, exp_arr, path, rtol, atol, gradient, batch)


def compare(actual: Data, expected: Data, *, rtol: float = 1e-7, atol: float = 1e-9,
            gradient: bool = False, batch: Batch | None = None) -> Verdict:
    """Structural comparison of nested plain data.

    Numbers and arrays must match in shape and be finite where the expected value is;
    values pass numpy.isclose semantics (|a-e| <= atol + rtol·|e|). gradient=True uses
    CS231n's relative error |a-b| / max(1e-8, |a|+|b|) <= rtol (or |a-b| <= atol) instead
    and reports it. `batch`: the case's input shape and kind, for hints that name the
    mistake behind a constant factor.
    """
    return _compare(actual, expected, "", rtol, atol, gradient, batch)


class _Close:
    """A Judge; called with batch= (grader.specs._common.inputs_kept does, where the case's
    run reports the input's shape) its hints use the batch's N and D."""

    def __init__(self, rtol: float, atol: float, gradient: bool) -> None:
        self.rtol, self.atol, self.gradient = rtol, atol, gradient

    def __call__(self, actual: Data, expected: Data, batch: Batch | None = None) -> Verdict:
        return compare(actual, expected, rtol=self.rtol, atol=self.atol, gradient=self.gradient,
                       batch=batch)


def close(rtol: float = 1e-7, atol: float = 1e-9) -> Judge:
    """A Judge: actual matches expected within rtol/atol (numpy.allclose semantics)."""
    return _Close(rtol, atol, gradient=False)


def grad_close(max_rel_error: float = 1e-7, atol: float = 0.0) -> Judge:
    """A Judge for gradients: CS231n relative error at most max_rel_error, or an absolute
    error at most atol (entries that are a difference of nearly equal numbers, p − 1 for a
    probability near 1, carry an absolute rounding error however they are computed)."""
    return _Close(max_rel_error, atol, gradient=True)


def accepts_batch(judge: Judge) -> bool:
    """Whether `judge` takes a batch= (the judges close and grad_close make)."""
    return isinstance(judge, _Close)
