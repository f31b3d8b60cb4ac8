"""cgroup v2: one control group per submission, where the host delegates one to the grader.

A group counts everything the submission's processes hold — anonymous memory, shared
memory, memfds, tmpfs pages, page cache — against one `memory.max`, and all its processes
and threads against one `pids.max`; `cgroup.kill` ends them all at once. The grader uses
it when its own cgroup (or the one `DLGRADE_CGROUP` names) is a cgroup v2 group it may
write, with the memory and pids controllers enabled for its children. Otherwise the
resource limits are per process (grader.sandbox.limits) and `dlgrade doctor` says what
that leaves uncounted.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

ENV = "DLGRADE_CGROUP"
NEEDED = ("memory", "pids")


@dataclass(frozen=True)
class CgroupSupport:
    usable: bool
    parent: str  # where the per-submission groups are made
    detail: str  # why not, or what is used


def _cgroup2_mount(mountinfo: str) -> str | None:
    for line in Path(mountinfo).read_text().splitlines():
        left, _, right = line.partition(" - ")
        if right.split(" ", 1)[0] == "cgroup2":
            return left.split()[4]
    return None


def _own_cgroup(cgroup_file: str) -> str | None:
    for line in Path(cgroup_file).read_text().splitlines():
        if line.startswith("0::"):
            return line[3:]
    return None


def detect(mountinfo: str = "/proc/self/mountinfo", cgroup_file: str = "/proc/self/cgroup",
           environ: dict[str, str] | None = None) -> CgroupSupport:
    """Can this process make per-submission groups with memory and pids limits?"""
    environ = os.environ if environ is None else environ
    try:
        mount = _cgroup2_mount(mountinfo)
        own = _own_cgroup(cgroup_file)
    except OSError as exc:
        return CgroupSupport(False, "", f"cannot read the cgroup setup: {exc.strerror}")
    if mount is None or own is None:
        return CgroupSupport(False, "", "the host has no cgroup v2 hierarchy")
    parent = environ.get(ENV) or os.path.join(mount, own.lstrip("/"))
    try:
        controllers = Path(parent, "cgroup.controllers").read_text().split()
        enabled = Path(parent, "cgroup.subtree_control").read_text().split()
    except OSError:
        return CgroupSupport(False, "", f"cgroup v2 group {parent} cannot be read here")
    missing = [c for c in NEEDED if c not in controllers]
    if missing:
        return CgroupSupport(False, "", f"cgroup v2 without the {'/'.join(missing)} controller "
                                        f"in {parent}")
    if not os.access(parent, os.W_OK):
        return CgroupSupport(False, "", f"cgroup v2 group {parent} is not writable by the grader "
                                        f"(delegate one and name it in {ENV})")
    if any(c not in enabled for c in NEEDED):
        try:
            Path(parent, "cgroup.subtree_control").write_text(" ".join(f"+{c}" for c in NEEDED))
        except OSError:
            return CgroupSupport(False, "", f"cgroup v2 group {parent} holds processes, so it cannot "
                                            f"have limited children (delegate an empty one in {ENV})")
    return CgroupSupport(True, parent, f"cgroup v2: one group per submission under {parent}")


def create(parent: str, name: str, memory_bytes: int, pids: int) -> str:
    """A new group under `parent` with these limits; its path."""
    path = os.path.join(parent, name)
    os.mkdir(path)
    for control, value in (("memory.max", memory_bytes), ("memory.swap.max", 0), ("pids.max", pids)):
        with contextlib.suppress(FileNotFoundError):  # no swap accounting: nothing to cap
            Path(path, control).write_text(str(value))
    return path


def enter(path: str) -> None:
    """Move this process into the group (before it drops its privileges)."""
    Path(path, "cgroup.procs").write_text(str(os.getpid()))


def remove(path: str, wait: float = 2.0) -> bool:
    """Kill every process of the group and remove it; False when it could not be removed."""
    kill = Path(path, "cgroup.kill")
    deadline = time.monotonic() + wait
    while True:
        try:
            if kill.exists():
                kill.write_text("1")
            else:
                for pid in Path(path, "cgroup.procs").read_text().split():
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        os.kill(int(pid), signal.SIGKILL)
            os.rmdir(path)
            return True
        except FileNotFoundError:
            return True
        except OSError:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
