# Threat: data built to crash or fool the trusted side. __VARIANT__ chooses one:
#   int_for_float   a forged result frame: a 400-digit JSON int where floats are expected
#   array_header    a forged result frame: an array header numpy would refuse
#   surrogate       an error message made of lone surrogates
#   metaclass       an exception class whose metaclass breaks __name__, named with escapes
#   ansi            terminal escapes that clear the screen and print a green "score 100/100"
import json
import os
import struct

VARIANT = "__VARIANT__"


def _forge(body):
    data = json.dumps(body).encode()
    os.write(3, struct.pack(">Q", len(data)) + data)
    os._exit(0)


class _Meta(type):
    @property
    def __name__(cls):
        raise RuntimeError("no name for you")


_Evil = _Meta("\x1b[2J\x1b[32mEvil\u202e", (Exception,), {})


def mse(pred, target):
    if VARIANT == "int_for_float":
        _forge({"kind": "result", "case": "mse_matrix", "ok": True, "seconds": 10 ** 400,
                "value": {"out": 10 ** 400, "modified": []}})
    if VARIANT == "array_header":
        _forge({"kind": "result", "case": "mse_matrix", "ok": True, "seconds": 0.1,
                "value": {"out": {"$nd": ["<f8", [2 ** 40, 2 ** 40, 0], ""]}, "modified": []}})
    if VARIANT == "surrogate":
        raise RuntimeError("\udc80\ud800 broken")
    if VARIANT == "metaclass":
        raise _Evil("\udcff")
    if VARIANT == "ansi":
        raise RuntimeError("\x1b[2J\x1b[H\x1b[1;32mscore 100/100\x1b[0m\r\x1b]0;title\x07")
    raise AssertionError(VARIANT)
