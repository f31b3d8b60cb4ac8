"""Comparing an actual output with the expected one, in the trusted process only.

Both sides are plain data (see grader.spec): what the sandbox sends back has already
been decoded into plain Python and plain ndarrays, so nothing here can be fooled by
a lying `__eq__` or an ndarray subclass. A comparison checks structure, shape, dtype
kind, finiteness and tolerance; its message says what differs, where, and, when a
common mistake is recognisable (a factor 2, a missing 1/N, a transposed gradient,
a flipped sign), what to look at.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from grader.spec import Check, Data, Verdict

_NUMERIC_KINDS = "biuf"  # bool, signed, unsigned, float


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


def _ratio_hint(actual: np.ndarray, expected: np.ndarray) -> str:
    """Recognise answers that are a constant multiple of the right one."""
    mask = np.abs(expected) > 1e-12
    if not mask.any():
        return ""
    ratios = actual[mask] / expected[mask]
    ratio = float(np.median(ratios))
    if not np.allclose(ratios, ratio, rtol=1e-6, atol=0) or abs(ratio - 1) < 1e-9 or ratio == 0:
        return ""
    if abs(ratio + 1) < 1e-9:
        return "every value has the wrong sign: check the direction of the gradient (y - ŷ vs ŷ - y)"
    if abs(ratio - 2) < 1e-9:
        return "every value is twice the expected one: a factor 2 too many (the ½ in the loss?)"
    if abs(ratio - 0.5) < 1e-9:
        return "every value is half the expected one: a missing factor 2 (the derivative of a square)"
    rounded = round(ratio)
    if rounded > 2 and abs(ratio - rounded) < 1e-9:
        return f"every value is {rounded}× the expected one: did you forget to divide by N (= {rounded})?"
    inverse = 1 / ratio
    if round(inverse) > 2 and abs(inverse - round(inverse)) < 1e-9:
        return f"every value is 1/{round(inverse)} of the expected one: divided by N (= {round(inverse)}) once too often?"
    if actual.size == 1 or abs(ratio - 1) < 1e-3:
        return ""
    return f"every value is {ratio:.4g}× the expected one"


def _compare_arrays(actual: np.ndarray, expected: np.ndarray, path: str, rtol: float,
                    atol: float, gradient: bool) -> Verdict:
    where = _where(path)
    if actual.shape != expected.shape:
        hint = ""
        if actual.ndim == 2 and actual.shape == expected.shape[::-1] and np.allclose(
                actual.T, expected, rtol=max(rtol, 1e-6), atol=max(atol, 1e-9)):
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
                               rtol, atol, gradient)


def _compare_values(a: np.ndarray, e: np.ndarray, where: str, rtol: float, atol: float,
                    gradient: bool) -> Verdict:
    bad_finite = np.isfinite(e) & ~np.isfinite(a)
    if bad_finite.any():
        idx = tuple(int(i) for i in np.argwhere(bad_finite)[0])
        return Verdict(False, f"{where}{int(bad_finite.sum())} non-finite value(s) (NaN or inf), "
                              f"first at index {_fmt_index(idx)}: got {float(a[idx])}, expected {e[idx]:.6g} "
                              "— look for overflow (exp of a large number, log of 0)")
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
        figure = (f"max abs error {float(diff.max()):.3g}, max rel error {float(rel[bad].max()):.3g} "
                  f"(rtol {rtol:g}, atol {atol:g})")
    count = f"{int(bad.sum())} of {a.size} value(s) differ" if a.ndim else "value differs"
    at = f"; first at index {_fmt_index(first)}" if a.ndim else ""
    msg = f"{where}{count}; {figure}{at}: got {a[first]:.6g}, expected {e[first]:.6g}"
    if worst != first:
        msg += f"; worst at {_fmt_index(worst)}"
    hint = _ratio_hint(a, e)
    return Verdict(False, f"{msg} — hint: {hint}" if hint else msg)


def _compare(actual: Data, expected: Data, path: str, rtol: float, atol: float,
             gradient: bool) -> Verdict:
    where = _where(path)
    if isinstance(expected, Mapping):
        if not isinstance(actual, Mapping):
            return Verdict(False, f"{where}expected a dict, got {_describe(actual)}")
        missing = [k for k in expected if k not in actual]
        if missing:
            return Verdict(False, f"{where}missing key(s): {', '.join(map(repr, missing))}")
        for key in expected:
            verdict = _compare(actual[key], expected[key], f"{path}[{key!r}]", rtol, atol, gradient)
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
            verdict = _compare(a, e, f"{path}[{i}]", rtol, atol, gradient)
            if not verdict.passed:
                return verdict
        return Verdict(True, "")
    exp_arr = _as_numeric(expected)
    if exp_arr is None:
        raise TypeError(f"expected value of unsupported type {type(expected).__name__}")
    act_arr = _as_numeric(actual)
    if act_arr is None:
        return Verdict(False, f"{where}expected a number or numeric array, got {_describe(actual)}")
    return _compare_arrays(act_arr, exp_arr, path, rtol, atol, gradient)


def compare(actual: Data, expected: Data, *, rtol: float = 1e-7, atol: float = 1e-9,
            gradient: bool = False) -> Verdict:
    """Structural comparison of nested plain data.

    Numbers and arrays must match in shape and be finite where the expected value is;
    values pass numpy.isclose semantics (|a-e| <= atol + rtol·|e|). gradient=True uses
    CS231n's relative error |a-b| / max(1e-8, |a|+|b|) <= rtol (or |a-b| <= atol) instead
    and reports it.
    """
    return _compare(actual, expected, "", rtol, atol, gradient)


def close(rtol: float = 1e-7, atol: float = 1e-9) -> Check:
    """A Check: actual matches expected within rtol/atol (numpy.allclose semantics)."""
    return lambda actual, expected: compare(actual, expected, rtol=rtol, atol=atol)


def grad_close(max_rel_error: float = 1e-7, atol: float = 0.0) -> Check:
    """A Check for gradients: CS231n relative error at most max_rel_error, or an absolute
    error at most atol (entries that are a difference of nearly equal numbers, p − 1 for a
    probability near 1, carry an absolute rounding error however they are computed)."""
    return lambda actual, expected: compare(actual, expected, rtol=max_rel_error, atol=atol,
                                            gradient=True)
