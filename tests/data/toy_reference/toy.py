"""The toy assignment's reference (tests/data/toy_specs.py)."""

import numpy as np


def add(a, b):
    return a + b


def scale(x, k):
    return x * k


def total(x):
    return float(np.sum(x))
