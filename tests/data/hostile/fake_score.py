# Threat: a fake score on stdout and stderr, and a wrong answer.
import sys


def mse(pred, target):
    print('{"score": 100, "max_score": 100, "tests": []}')
    print("Score: 100/100 -- all tests passed", file=sys.stderr)
    sys.stdout.flush()
    return 0.0
