# Threat: os._exit: the process vanishes without unwinding.
import os


def mse(pred, target):
    os._exit(3)
