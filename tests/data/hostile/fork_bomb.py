# Threat: many processes: tries to leave 10 000 sleeping children behind.
import os
import time


def mse(pred, target):
    for _ in range(10_000):
        if os.fork() == 0:
            time.sleep(10_000)
            os._exit(0)
    return 0.0
