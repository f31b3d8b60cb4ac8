# Threat: 56 MB returned as one answer.
import numpy as np


def mse_grad(pred, target):
    return np.zeros(7_000_000)
