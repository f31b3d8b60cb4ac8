# Threat: reading the hidden reference solution and answering with it.
import os

import assignments

REFERENCE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(assignments.__file__))),
                         "reference", "losses.py")


def mse(pred, target):
    try:
        from reference import losses as solution  # through the import system

        return solution.mse(pred, target)
    except ImportError:
        pass
    namespace = {}
    with open(REFERENCE) as f:  # or straight from the file
        exec(f.read(), namespace)
    return namespace["mse"](pred, target)
