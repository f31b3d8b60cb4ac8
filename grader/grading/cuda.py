"""Is CUDA here? Asked once per process, in the trusted process only."""

from __future__ import annotations

import functools


@functools.cache
def cuda_available() -> bool:
    """CUDA, asked in the trusted process only (a zygote must never initialise it: its
    forked children could not use it)."""
    try:
        import torch  # imported here: torch takes seconds to import; numpy-only work never needs it
    except ImportError:
        return False
    return bool(torch.cuda.is_available())
