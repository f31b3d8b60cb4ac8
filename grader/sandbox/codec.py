"""Plain data across the sandbox boundary: JSON, with ndarrays as dtype, shape and base64 bytes.

Plain data is None, bool, int, float, str, numeric numpy arrays, and lists / tuples /
dicts (str keys) of those (see grader.grading.case). Decoding never unpickles and never parses a
header: an array travels as its dtype (one of a fixed list of numeric dtypes), its shape
and its raw bytes, and comes back through `np.frombuffer`. So whatever a student's
process sends back is at worst malformed data, never code; and what decodes is exactly
plain Python and plain ndarrays, so no lying `__eq__`, `__array__` or ndarray subclass
survives the trip. (The raw form is also what keeps a grading cheap: reading a `.npy`
header costs ~70 µs an array, a hundred times `np.frombuffer`.)

Tags: an ndarray is {"$nd": [dtype, shape, "<base64 bytes, C order>"]}, a tuple
{"$tuple": [...]}, a float that JSON cannot spell {"$float": "nan" | "inf" | "-inf"}, and
a dict whose keys could be mistaken for a tag {"$dict": {...}}.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from typing import Any

import numpy as np

MAX_MESSAGE_BYTES = 16 * 1024 * 1024  # one encoded value; a 50 MB answer is refused
MAX_DEPTH = 64
MAX_NDIM = 32
MAX_ELEMENTS = 1 << 28  # of one array, whatever its dtype: shapes are checked before numpy sees them
MAX_INT = 1 << 64  # a decoded int is within ±2**64: no arithmetic on numbers thousands of digits long
MAX_STRING = 1 << 20  # characters of one decoded string
MAX_TEXT = 2000  # characters of a message that reaches a terminal, a report or the gradebook

# bool, signed, unsigned, float in either byte order: what a grading case can compare
_DTYPES = {
    str(dt.newbyteorder(order).str): dt.newbyteorder(order)
    for dt in map(np.dtype, (np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8,
                             np.uint16, np.uint32, np.uint64, np.float16, np.float32,
                             np.float64, np.longdouble))
    for order in "<>"
}


class CodecError(ValueError):
    """The value is not plain data, or the bytes are not a plain-data message."""


class TooLarge(CodecError):
    """The encoded value is over the size cap."""


# ------------------------------------------------------------------------ text

# terminal control sequences: CSI (colours, cursor, clear screen), OSC (titles, links), others
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]?"
                      r"|\x9b[0-?]*[ -/]*[@-~]")
# C0/C1 controls but newline and tab, bidirectional overrides, lone surrogates
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069"
                     "\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def clean_text(text: Any, limit: int = MAX_TEXT) -> str:
    """Text safe for a terminal, JSON, HTML escaping and SQLite: escape sequences removed,
    control characters, bidirectional overrides and lone surrogates replaced by U+FFFD,
    at most `limit` characters. Anything that is not a str is shown by its type's name."""
    if type(text) is not str:
        text = f"<{type.__dict__['__name__'].__get__(type(text), type)}>"
    if len(text) > 4 * limit:  # no regex work on what is cut anyway
        text = text[:4 * limit]
    text = _UNSAFE.sub(REPLACEMENT, _ESCAPES.sub("", text))
    return text if len(text) <= limit else text[:limit] + "…"


# ------------------------------------------------------------------------ encoding


def _encode_array(value: np.ndarray, max_bytes: int) -> dict[str, str]:
    array = np.asarray(value)
    if type(value) is not np.ndarray:  # a subclass: keep its data, drop its behaviour
        array = np.array(array, copy=True, subok=False)
    if array.dtype.str not in _DTYPES:
        raise CodecError(f"an array of dtype {array.dtype} is not plain data (numbers only)")
    encoded = 4 * (array.nbytes + 2) // 3  # known before any work: a huge answer costs nothing
    if encoded > max_bytes:
        raise TooLarge(f"output too large ({encoded / 1e6:.1f} MB, limit {max_bytes / 1e6:.0f} MB)")
    data = base64.b64encode(array.tobytes(order="C")).decode("ascii")
    return {"$nd": [array.dtype.str, list(array.shape), data]}


def _encode_float(value: float) -> float | dict[str, str]:
    if math.isfinite(value):
        return value
    return {"$float": "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")}


def _to_json(value: Any, depth: int, max_bytes: int = MAX_MESSAGE_BYTES) -> Any:
    if depth > MAX_DEPTH:
        raise CodecError(f"nested deeper than {MAX_DEPTH} levels")
    # exact types first: a subclass of int or str could carry behaviour of its own
    if value is None or type(value) in (bool, str):
        return value
    if type(value) is int:
        return value
    if type(value) is float:
        return _encode_float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return _encode_float(float(value))
    if isinstance(value, np.ndarray):
        return _encode_array(value, max_bytes)
    if type(value) is list:
        return [_to_json(v, depth + 1, max_bytes) for v in value]
    if type(value) is tuple:
        return {"$tuple": [_to_json(v, depth + 1, max_bytes) for v in value]}
    if type(value) is dict:
        out: dict[str, Any] = {}
        for key, item in value.items():
            if type(key) is not str:
                raise CodecError(f"dict keys must be str, got {type(key).__name__}")
            out[key] = _to_json(item, depth + 1, max_bytes)
        if any(k.startswith("$") for k in out):
            return {"$dict": out}
        return out
    raise CodecError(f"an object of type {type(value).__name__} is not plain data")


def to_jsonable(value: Any, max_bytes: int = MAX_MESSAGE_BYTES) -> Any:
    """The JSON-ready form of plain data; CodecError for anything else (TooLarge for an
    array whose encoding alone is over max_bytes)."""
    return _to_json(value, 0, max_bytes)


def encode(value: Any, *, max_bytes: int = MAX_MESSAGE_BYTES) -> bytes:
    """Plain data -> bytes. CodecError when it is not plain data, TooLarge over max_bytes."""
    data = json.dumps(to_jsonable(value, max_bytes), separators=(",", ":"), allow_nan=False).encode()
    if len(data) > max_bytes:
        raise TooLarge(f"output too large ({len(data) / 1e6:.1f} MB, limit {max_bytes / 1e6:.0f} MB)")
    return data


# ------------------------------------------------------------------------ decoding


def _decode_array(inner: Any) -> np.ndarray:
    if not (isinstance(inner, list) and len(inner) == 3):
        raise CodecError("malformed array")
    dtype_str, shape, text = inner
    dtype = _DTYPES.get(dtype_str) if isinstance(dtype_str, str) else None
    if dtype is None:
        raise CodecError(f"an array of dtype {str(dtype_str)[:20]!r} is not plain data")
    if not (isinstance(shape, list) and len(shape) <= MAX_NDIM
            and all(type(n) is int and 0 <= n <= MAX_ELEMENTS for n in shape)):
        raise CodecError("malformed array shape")
    if math.prod(n for n in shape if n) > MAX_ELEMENTS:  # a zero-sized array may still be refused
        raise CodecError(f"an array of shape {tuple(shape)[:8]} is too large")
    if not isinstance(text, str):
        raise CodecError("malformed array data")
    try:
        raw = bytearray(base64.b64decode(text.encode("ascii"), validate=True))  # writeable
    except (binascii.Error, UnicodeError) as exc:
        raise CodecError(f"malformed array data: {exc}") from None
    if len(raw) != math.prod(shape) * dtype.itemsize:
        raise CodecError(f"malformed array: {len(raw)} bytes for shape {tuple(shape)[:8]} of {dtype}")
    try:
        return np.frombuffer(raw, dtype=dtype).reshape(shape)
    except (ValueError, TypeError, MemoryError) as exc:  # whatever numpy refuses is malformed
        raise CodecError(f"malformed array: {clean_text(str(exc), 200)}") from None


def _from_json(value: Any, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise CodecError(f"nested deeper than {MAX_DEPTH} levels")
    if value is None or type(value) is bool:
        return value
    if type(value) is int:
        if not -MAX_INT <= value <= MAX_INT:
            raise CodecError("an integer too large to be an answer")
        return value
    if type(value) is str:
        if len(value) > MAX_STRING:
            raise CodecError(f"a string longer than {MAX_STRING} characters")
        return clean_text(value, MAX_STRING)
    if type(value) is float:
        return value
    if isinstance(value, list):
        return [_from_json(v, depth + 1) for v in value]
    if isinstance(value, dict):
        if len(value) == 1:
            (tag, inner), = value.items()
            if tag == "$nd":
                return _decode_array(inner)
            if tag == "$tuple":
                if not isinstance(inner, list):
                    raise CodecError("malformed tuple")
                return tuple(_from_json(v, depth + 1) for v in inner)
            if tag == "$float":
                if inner not in ("nan", "inf", "-inf"):
                    raise CodecError("malformed float")
                return float(inner)
            if tag == "$dict":
                if not isinstance(inner, dict):
                    raise CodecError("malformed dict")
                return {clean_text(k, MAX_STRING): _from_json(v, depth + 1) for k, v in inner.items()}
        if any(k.startswith("$") for k in value):
            raise CodecError(f"unknown tag in {clean_text(str(sorted(value)[:3]), 100)}")
        return {clean_text(k, MAX_STRING): _from_json(v, depth + 1) for k, v in value.items()}
    raise CodecError(f"unexpected JSON value of type {type(value).__name__}")


def from_jsonable(value: Any) -> Any:
    """Plain data back from its JSON-ready form, validated: numeric dtypes only, shapes and
    integers bounded, strings cleaned (clean_text). CodecError when malformed, never anything
    else: no datum from a child can raise in the trusted process."""
    try:
        return _from_json(value, 0)
    except CodecError:
        raise
    except RecursionError:
        raise CodecError("nested too deeply") from None
    except Exception as exc:  # noqa: BLE001  whatever else a crafted value provokes
        raise CodecError(f"malformed data ({type(exc).__name__})") from None


def _refuse_constant(name: str) -> None:
    raise CodecError(f"bare {name} is not valid here")


def loads_json(data: bytes, *, max_bytes: int = MAX_MESSAGE_BYTES) -> Any:
    """Strict JSON (no NaN/Infinity literals), size-capped; CodecError when malformed."""
    if len(data) > max_bytes:
        raise TooLarge(f"output too large ({len(data) / 1e6:.1f} MB, limit {max_bytes / 1e6:.0f} MB)")
    try:
        return json.loads(data, parse_constant=_refuse_constant)
    except RecursionError:
        raise CodecError("nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as exc:
        if isinstance(exc, CodecError):
            raise
        raise CodecError(f"not valid JSON: {exc}") from None


def decode(data: bytes, *, max_bytes: int = MAX_MESSAGE_BYTES) -> Any:
    """Bytes -> plain data. Never unpickles; CodecError when malformed, TooLarge over the cap."""
    return from_jsonable(loads_json(data, max_bytes=max_bytes))
