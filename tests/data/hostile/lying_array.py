# Threat: an ndarray subclass that claims to equal anything, holding the wrong numbers.
import numpy as np


class Liar(np.ndarray):
    def __eq__(self, other):
        return np.ones(self.shape, dtype=bool)

    def __ne__(self, other):
        return np.zeros(self.shape, dtype=bool)

    def __sub__(self, other):
        return np.zeros(self.shape).view(Liar)

    def __abs__(self):
        return np.zeros(self.shape).view(Liar)


def mse_grad(pred, target):
    return np.zeros_like(pred).view(Liar)
