# Threat: sleeping forever (no CPU used, so only a wall-clock timeout catches it).
import time


def mse(pred, target):
    time.sleep(10_000)
