"""Resource limits and the uid drop, applied in a sandboxed child before student code runs.

- memory: RLIMIT_DATA (private writable memory) always; RLIMIT_AS too unless CUDA may be
  used (the CUDA driver reserves terabytes of address space it never touches);
- CPU seconds (RLIMIT_CPU, a backstop behind the trusted process's wall-clock timeouts);
- file size (RLIMIT_FSIZE; SIGXFSZ is ignored so an over-long write fails with EFBIG);
- processes (RLIMIT_NPROC, counted per uid: enforced for a dropped uid, not for root);
- no core dumps (RLIMIT_CORE = 0).
As root, the child also drops to a uid of its own (no other process has it), so the
kernel enforces RLIMIT_NPROC, file permissions keep it out of everything that is not
world-readable, and every process it ever made can be found and killed by that uid.
"""

from __future__ import annotations

import ctypes
import os
import resource
import signal
from dataclasses import dataclass

MB = 1024 * 1024
PR_SET_NO_NEW_PRIVS = 38
PR_SET_CHILD_SUBREAPER = 36
PR_SET_PDEATHSIG = 1

_libc = ctypes.CDLL(None, use_errno=True)
_prctl = _libc.prctl  # resolved now, in trusted code, before any audit hook exists
_capset = _libc.capset
_LINUX_CAPABILITY_VERSION_3 = 0x20080522


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


@dataclass(frozen=True)
class Limits:
    memory_mb: int = 2048  # above what the zygote already uses
    cuda_memory_mb: int = 16384  # host memory when CUDA may be used (its driver needs more)
    file_size_mb: int = 16
    processes: int = 32  # threads count too (one torch thread per child: OMP_NUM_THREADS=1)
    open_files: int = 256
    cpu_margin_s: int = 10
    tmp_mb: int = 64  # the child's private /tmp (a tmpfs: memory), where it can mount one
    tmp_files: int = 64  # inodes of that /tmp: files however opened, O_TMPFILE included


def vm_kib() -> dict[str, int]:
    """This process's `VmXxx` figures in KiB (VmData, VmSize, ...), from /proc/self/status."""
    figures: dict[str, int] = {}
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Vm"):
                    name, _, value = line.partition(":")
                    figures[name] = int(value.split()[0])
    except (OSError, ValueError, IndexError):
        pass
    return figures


def count_processes(uid: int) -> int:
    """Processes (and threads) of `uid` now: RLIMIT_NPROC counts them all."""
    count = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if os.stat(f"/proc/{entry}").st_uid == uid:
                count += len(os.listdir(f"/proc/{entry}/task"))
        except OSError:
            continue
    return count


def _set(which: int, soft: int, hard: int | None = None) -> None:
    hard = soft if hard is None else hard
    _, current_hard = resource.getrlimit(which)
    if current_hard != resource.RLIM_INFINITY:
        soft, hard = min(soft, current_hard), min(hard, current_hard)
    resource.setrlimit(which, (soft, hard))


def apply_limits(limits: Limits, *, cpu_seconds: float, cuda: bool, own_uid: bool) -> dict[str, int]:
    """Lower this process's limits; returns what was set (for `dlgrade doctor`)."""
    budget = (limits.cuda_memory_mb if cuda else limits.memory_mb) * MB
    now = vm_kib()  # one read of /proc/self/status for both figures
    data = now.get("VmData", 0) * 1024 + budget
    applied = {"data_bytes": data, "memory_budget_bytes": budget}
    _set(resource.RLIMIT_DATA, data)
    if not cuda:
        address_space = now.get("VmSize", 0) * 1024 + budget
        _set(resource.RLIMIT_AS, address_space)
        applied["as_bytes"] = address_space
    cpu = int(cpu_seconds) + limits.cpu_margin_s
    _set(resource.RLIMIT_CPU, cpu, cpu + 5)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    _set(resource.RLIMIT_FSIZE, limits.file_size_mb * MB)
    _set(resource.RLIMIT_CORE, 0)
    _set(resource.RLIMIT_NOFILE, limits.open_files)
    # per uid: with a uid of its own the child starts from zero; otherwise it shares the count
    nproc = limits.processes + (0 if own_uid else count_processes(os.getuid()))
    _set(resource.RLIMIT_NPROC, nproc)
    applied |= {"cpu_seconds": cpu, "file_size_bytes": limits.file_size_mb * MB, "processes": nproc}
    return applied


def drop_to_uid(uid: int) -> None:
    """Become `uid` for good (real, effective, saved; no groups); needs root."""
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)


def drop_capabilities() -> None:
    """Empty this process's effective, permitted and inheritable capability sets (a child
    that keeps the zygote's uid must not keep its CAP_SYS_ADMIN or CAP_KILL)."""
    header = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()
    if _capset(ctypes.byref(header), data) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"capset: {os.strerror(errno)}")


def no_new_privileges() -> None:
    """setuid programs cannot raise this process's privileges any more."""
    _prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)


def die_with_parent() -> None:
    """SIGKILL this process when its parent dies (reset by a uid change: call it after)."""
    parent = os.getppid()
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the line above
        os._exit(1)


def become_subreaper() -> bool:
    """Orphaned descendants are re-parented to this process, which can then reap them."""
    return _prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
