# Threat: sys.exit in a graded function.
import sys


def mse(pred, target):
    sys.exit(3)
