"""One submission at a time per GPU: a lease, held while a child that may use CUDA runs.

GPU memory and GPU time are shared by every process on the device: a submission that fills
the free memory, or loops a kernel, would cost a neighbour graded beside it its CUDA cases
("CUDA error: out of memory" in someone else's report). So a child that may use CUDA runs
only while its grader holds the lease of one visible device, and sees only that device
(CUDA_VISIBLE_DEVICES). Every other child runs without CUDA (its address-space limit
forbids the driver's mappings). A CUDA out-of-memory in a case that held the lease is then
the student's own.

The lease is an exclusive flock on one file per device in a folder of this user's
(`lease_dir`): it works between threads (each acquire opens its own file description) and
between processes (two `dlgrade grade-batch` runs on one machine), is waited for, never
failed, and is released by the kernel when its holder dies, however it dies.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import stat
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from grader.errors import UserError

LEASE_DIR_ENV = "DLGRADE_GPU_LEASE_DIR"
POLL_FIRST_S = 0.02  # a freed device is noticed within this, doubling to POLL_MAX_S
POLL_MAX_S = 0.5


def lease_dir() -> Path:
    """This user's folder of lease files: $DLGRADE_GPU_LEASE_DIR, else dlgrade-gpu-<uid> in
    the temporary folder; made private (0700) and checked to be this user's own folder, so
    no other user can hold a lease file open to stall the grading."""
    folder = Path(os.environ.get(LEASE_DIR_ENV) or
                  Path(tempfile.gettempdir()) / f"dlgrade-gpu-{os.getuid()}")
    with contextlib.suppress(FileExistsError):
        folder.mkdir(mode=0o700, parents=True)
    info = folder.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
        raise UserError(f"the GPU lease folder {folder} is not a folder of this user's; remove it "
                        f"or set {LEASE_DIR_ENV} to a private folder")
    if info.st_mode & 0o077:
        folder.chmod(0o700)
    return folder


def visible_devices() -> list[str]:
    """The ids of the CUDA devices this process sees, as CUDA_VISIBLE_DEVICES names them
    (its entries where it is set, else 0 … count − 1); [] without CUDA."""
    try:
        import torch
    except ImportError:
        return []
    if not torch.cuda.is_available():
        return []
    count = torch.cuda.device_count()
    named = [p.strip() for p in os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",") if p.strip()]
    return named[:count] if len(named) >= count else [str(i) for i in range(count)]


@dataclass(frozen=True)
class Lease:
    """A held device: `device` is its id for the child's CUDA_VISIBLE_DEVICES; `waited` the
    seconds spent waiting for it."""

    device: str
    waited: float


class GpuLeases:
    """The leases of some devices (ids), kept as lock files in `folder`."""

    def __init__(self, devices: Sequence[str], folder: Path | None = None) -> None:
        if not devices:
            raise ValueError("no devices to lease")
        self.devices = [str(d) for d in devices]
        self.folder = Path(folder) if folder is not None else lease_dir()

    def _path(self, device: str) -> Path:
        safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in device)
        return self.folder / f"gpu-{safe}.lock"

    def _try(self, device: str) -> int | None:
        fd = os.open(self._path(device), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        except BaseException:
            os.close(fd)
            raise
        return fd

    @contextlib.contextmanager
    def hold(self) -> Iterator[Lease]:
        """Wait until one of the devices is free, hold it while inside, then release it."""
        started = time.monotonic()
        pause = POLL_FIRST_S
        while True:
            for device in self.devices:
                fd = self._try(device)
                if fd is not None:
                    try:
                        yield Lease(device, time.monotonic() - started)
                    finally:
                        os.close(fd)  # closing the only descriptor releases the flock
                    return
            time.sleep(pause)
            pause = min(pause * 2, POLL_MAX_S)


@contextlib.contextmanager
def maybe_hold(needed: bool, leases: GpuLeases | None) -> Iterator[Lease | None]:
    """A lease when the child may use CUDA (and there is a GPU to lease), else nothing."""
    if not needed or leases is None:
        yield None
        return
    with leases.hold() as lease:
        yield lease


OOM_MARKERS = ("CUDA out of memory", "CUDA error: out of memory", "CUBLAS_STATUS_ALLOC_FAILED",
               "CUDNN_STATUS_ALLOC_FAILED")


def own_oom(message: str) -> str:
    """A CUDA out-of-memory message of a case that ran under the lease, saying whose it is."""
    if any(marker in message for marker in OOM_MARKERS):
        return (f"{message} (this submission had the GPU to itself while it ran: the memory "
                "was its own)")
    return message
