# Threat: an object whose __eq__, __array__ and __float__ lie about a wrong answer.
import numpy as np


class Liar:
    def __eq__(self, other):
        return True

    def __array__(self, dtype=None, copy=None):
        return np.zeros(1, dtype=dtype)

    def __float__(self):
        return 0.0

    def __sub__(self, other):
        return 0.0

    __rsub__ = __sub__

    def __abs__(self):
        return 0.0


def mse(pred, target):
    return Liar()
