"""grader.sandbox.codec: plain data in and out, never a pickle, size and depth capped."""

from __future__ import annotations

import base64
import io
import json
import math
import pickle

import numpy as np
import pytest

from grader.sandbox import codec


def roundtrip(value):
    return codec.decode(codec.encode(value))


def test_plain_data_survives_with_its_types():
    value = {"a": np.arange(6.0).reshape(2, 3), "b": (1, 2.5, None, True, "x"), "c": [np.int64(3)],
             "d": np.float32(1.5), "labels": np.array([0, 2, 1]), "mask": np.array([True, False])}
    back = roundtrip(value)
    assert type(back["a"]) is np.ndarray and back["a"].dtype == np.float64
    np.testing.assert_array_equal(back["a"], value["a"])
    assert back["b"] == (1, 2.5, None, True, "x") and type(back["b"]) is tuple
    assert back["c"] == [3] and type(back["c"][0]) is int
    assert back["d"] == 1.5 and type(back["d"]) is float
    assert back["labels"].dtype == np.int64 and back["mask"].dtype == np.bool_


def test_non_finite_floats_and_tag_like_keys():
    back = roundtrip({"x": [math.nan, math.inf, -math.inf], "$nd": 1})
    assert math.isnan(back["x"][0]) and back["x"][1:] == [math.inf, -math.inf]
    assert back["$nd"] == 1
    array = roundtrip(np.array([np.nan, np.inf]))
    assert np.isnan(array[0]) and np.isinf(array[1])


def test_ndarray_subclass_arrives_as_a_plain_array():
    class Liar(np.ndarray):
        def __eq__(self, other):
            return True

    lying = np.arange(3.0).view(Liar)
    back = roundtrip(lying)
    assert type(back) is np.ndarray
    assert not (back == np.zeros(3)).all()


@pytest.mark.parametrize("value", [
    object(), {1: 2}, np.array([object()]), np.array(["text"]), 1 + 2j, {"f": lambda: 0},
    np.array([1 + 2j]),
])
def test_anything_else_is_refused(value):
    with pytest.raises(codec.CodecError):
        codec.encode(value)


def test_subclasses_of_builtins_are_refused():
    class Sneaky(float):
        pass

    with pytest.raises(codec.CodecError):
        codec.encode(Sneaky(1.0))


def test_a_pickle_never_decodes():
    array = np.array([object()], dtype=object)
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=True)
    pickled = base64.b64encode(pickle.dumps([1, 2])).decode()
    for message in ({"$nd": base64.b64encode(buffer.getvalue()).decode()},  # an object .npy
                    {"$nd": ["|O", [1], pickled]}, {"$nd": ["O", [1], pickled]}):
        with pytest.raises(codec.CodecError):
            codec.decode(json.dumps(message).encode())
    with pytest.raises(codec.CodecError):
        codec.decode(pickle.dumps([1, 2]))


@pytest.mark.parametrize("array", [
    np.array(2.5), np.zeros((0, 3)), np.arange(6, dtype=">i4").reshape(2, 3),
    np.arange(12.0).reshape(3, 4).T, np.array([True, False]), np.arange(4, dtype=np.uint8),
    np.linspace(0, 1, 5, dtype=np.float16), np.arange(3.0)[::2],
])
def test_arrays_keep_dtype_shape_and_values_and_arrive_writeable(array):
    back = roundtrip(array)
    assert type(back) is np.ndarray and back.dtype == array.dtype and back.shape == array.shape
    np.testing.assert_array_equal(back, array)
    assert back.flags.writeable and back.flags.c_contiguous


def _nd(dtype, shape, data: bytes) -> bytes:
    return json.dumps({"$nd": [dtype, shape, base64.b64encode(data).decode()]}).encode()


@pytest.mark.parametrize("raw", [
    _nd("<f8", [2], b"\0" * 8),  # too few bytes for the shape
    _nd("<f8", [1], b"\0" * 16),  # too many
    _nd("<f8", [-1], b""), _nd("<f8", [True], b"\0" * 8), _nd("<f8", [1.0], b"\0" * 8),
    _nd("<f8", [1] * 33, b"\0" * 8),  # more dimensions than numpy takes
    _nd("<c16", [1], b"\0" * 16), _nd("<U1", [1], b"\0" * 4), _nd("V8", [1], b"\0" * 8),
    _nd("[('a', '<f8')]", [1], b"\0" * 8), _nd(8, [1], b"\0" * 8),
    b'{"$nd": ["<f8", [1]]}', b'{"$nd": ["<f8", 1, "AAAAAAAAAAA="]}',
])
def test_malformed_arrays_are_refused(raw):
    with pytest.raises(codec.CodecError):
        codec.decode(raw)


def test_size_cap_on_both_sides():
    big = np.zeros(3_000_000)  # 24 MB of float64
    with pytest.raises(codec.TooLarge, match="output too large"):
        codec.encode(big)
    assert codec.decode(codec.encode(big, max_bytes=1 << 26), max_bytes=1 << 26).shape == (3_000_000,)
    with pytest.raises(codec.TooLarge):
        codec.decode(b" " * 100, max_bytes=10)


def test_depth_cap():
    nested: list = []
    for _ in range(200):
        nested = [nested]
    with pytest.raises(codec.CodecError):
        codec.encode(nested)
