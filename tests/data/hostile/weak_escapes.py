# Threat (without bwrap): ways around an audit hook that checks paths and library names.
#   dir_fd     a descriptor of the course folder, then a relative path from it to the reference
#   cdll       an allowed library's name with handle=0: every loaded library, libc included
#   daemon     a process in a session of its own that outlives grading
import ctypes
import os
import time

VARIANT = "__VARIANT__"
ROOT = "__ROOT__"


def _numpy_extension():
    import numpy

    for name in ("numpy._core._multiarray_umath", "numpy.core._multiarray_umath"):
        try:
            return __import__(name, fromlist=["x"]).__file__
        except ImportError:
            continue
    return numpy.__file__


def mse(pred, target):
    if VARIANT == "dir_fd":
        folder = os.open(ROOT, os.O_RDONLY | os.O_DIRECTORY)
        fd = os.open("reference/losses.py", os.O_RDONLY, dir_fd=folder)
        raise RuntimeError(f"READ {os.read(fd, 100)!r}")
    if VARIANT == "cdll":
        libc = ctypes.CDLL(_numpy_extension(), handle=0)
        raise RuntimeError(f"PID {libc.getpid()}")
    if VARIANT == "daemon":
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            if hasattr(os, "setsid"):
                os.setsid()
            grandchild = os.fork()
            if grandchild == 0:
                while True:
                    time.sleep(1)
            os.write(w, str(grandchild).encode())
            os._exit(0)
        os.waitpid(pid, 0)
        raise RuntimeError(f"DAEMON {os.read(r, 20).decode()} END")
    raise AssertionError(VARIANT)
