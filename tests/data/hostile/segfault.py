# Threat: a segmentation fault (reads address 0).
import ctypes


def mse(pred, target):
    return ctypes.string_at(0)
