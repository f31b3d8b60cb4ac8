# Threat: looking around the file system for anything worth copying (the git history, the
# demo class, the reference, the hidden specs, the gradebook, other students' files), and
# reporting what it found through the message of a visible case.
import os
import sys

SEPARATOR = "|"
PROBES = "__PROBES__".split(SEPARATOR)  # filled in by the test
SKIP = ("/proc", "/sys", "/dev", "/usr", sys.base_prefix, sys.prefix)
SUSPECT = (".git", "examples", "reference", "hidden", "gradebook", "exchange", "submission")


def mse(pred, target):
    seen = []
    for top, dirs, files in os.walk("/", onerror=lambda error: None):
        if any(top == s or top.startswith(s.rstrip("/") + "/") for s in SKIP):
            dirs[:] = []
            continue
        seen.append(top)
        seen += [os.path.join(top, f) for f in files if any(s in f for s in SUSPECT)]
    seen += [f"EXISTS:{p}" for p in PROBES if os.path.exists(p)]
    raise RuntimeError("SEEN " + "|".join(seen) + " END")
