"""bubblewrap: the kernel-enforced layer of the sandbox (file system, network, pids).

The zygote is started inside bwrap, so every child it forks inherits the walls:
- the whole file system read-only (`--ro-bind / /`), a fresh private `/tmp` of limited
  size, minimal `/dev`, a fresh `/proc`;
- users' homes (`/root`, `/home`) hidden behind empty tmpfs mounts, and so is the real
  `/tmp`, with only the paths grading needs (the course tree, the Python installation)
  bound back read-only;
- `reference/`, the gradebook's folder, and the submission folders hidden the same way;
- no network (`--unshare-net`), its own pid namespace (`--unshare-pid`: a fork bomb or a
  stray process dies with the zygote), its own session (`--new-session`), and it dies
  with its parent (`--die-with-parent`);
- as root, every capability dropped except the few the zygote needs to start children
  under uids of their own (setuid/setgid/chown/kill, and file access to clean up after them).
When bwrap is missing or fails its self-test, grading still runs, without this layer, and
`dlgrade doctor` says so.
"""

from __future__ import annotations

import functools
import glob
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

TMP_SIZE = 512 * 1024 * 1024  # the sandbox's /tmp lives in memory
HOMES = ("/root", "/home")
ROOT_CAPS = ("CAP_SETUID", "CAP_SETGID", "CAP_CHOWN", "CAP_KILL", "CAP_DAC_OVERRIDE", "CAP_FOWNER")


@dataclass(frozen=True)
class BwrapStatus:
    path: str | None
    working: bool
    detail: str  # version, or why it is not used


def _namespace_args() -> list[str]:
    args = ["--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
            "--unshare-cgroup-try", "--hostname", "sandbox", "--die-with-parent", "--new-session"]
    if os.geteuid() == 0:
        args += ["--cap-drop", "ALL"]
        for cap in ROOT_CAPS:
            args += ["--cap-add", cap]
    else:
        args += ["--unshare-user"]
    return args


def _base_args() -> list[str]:
    args = ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
            "--size", str(TMP_SIZE), "--tmpfs", "/tmp"]
    for device in sorted(glob.glob("/dev/nvidia*")) + sorted(glob.glob("/dev/dri")):
        args += ["--dev-bind", device, device]  # GPUs stay usable for CUDA cases
    return args


@functools.cache
def status() -> BwrapStatus:
    """Is bwrap installed, and does it work here (it needs namespaces the host may forbid)?"""
    path = shutil.which("bwrap")
    if path is None:
        return BwrapStatus(None, False, "not installed (Debian/Ubuntu: apt-get install bubblewrap)")
    true = shutil.which("true") or "/bin/true"
    try:
        version = subprocess.run([path, "--version"], capture_output=True, text=True,
                                 timeout=10).stdout.strip()
        test = subprocess.run([path, *_base_args(), *_namespace_args(), "--", true],
                              capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError) as exc:
        return BwrapStatus(path, False, f"failed its self-test: {exc}")
    if test.returncode != 0:
        reason = (test.stderr.strip().splitlines() or [f"exit code {test.returncode}"])[-1]
        return BwrapStatus(path, False, f"failed its self-test: {reason}")
    return BwrapStatus(path, True, version or "bwrap")


def _contains(outer: Path, inner: Path) -> bool:
    return inner == outer or outer in inner.parents


def needed_paths(root: Path) -> list[Path]:
    """What the zygote must see: the course tree and the Python installation it runs on."""
    paths = {root, Path(sys.prefix), Path(sys.base_prefix), Path(sys.exec_prefix),
             Path(os.path.realpath(sys.executable)).parent}
    paths.update(Path(p) for p in sys.path if p and os.path.isdir(p))
    real = {Path(os.path.realpath(p)) for p in paths} | {Path(os.path.abspath(p)) for p in paths}
    return sorted(real)


def command(*, root: Path, hide: Iterable[Path], tmp_size: int = TMP_SIZE) -> tuple[list[str], list[str]]:
    """The bwrap prefix for the zygote, and notes on paths that could not be hidden."""
    status_ = status()
    assert status_.path is not None and status_.working
    needed = needed_paths(root)
    args = [status_.path, *_base_args()]
    if tmp_size != TMP_SIZE:
        args[args.index(str(TMP_SIZE))] = str(tmp_size)
    notes: list[str] = []
    bound: list[Path] = []
    for home in map(Path, ("/tmp", *HOMES)):  # the fresh /tmp (in _base_args) hides too
        if not home.is_dir():
            continue
        if str(home) != "/tmp":
            args += ["--tmpfs", str(home)]
        for path in needed:  # bind back what grading needs, outermost first
            if _contains(home, path) and path != home and not any(_contains(b, path) for b in bound):
                for parent in reversed(path.relative_to(home).parents[:-1]):
                    args += ["--perms", "0755", "--dir", str(home / parent)]  # traversable
                args += ["--ro-bind", str(path), str(path)]
                bound.append(path)
    code = [root / "grader", root / "assignments"]  # the children import these
    for path in _unique(hide):
        if not path.exists():
            continue
        if any(_contains(path, n) for n in needed) or any(_contains(c, path) for c in code):
            notes.append(f"{path} holds the grader or Python itself, so it cannot be hidden")
            continue
        if any(_contains(Path(h), path) for h in ("/tmp", *HOMES)) and not any(
                _contains(b, path) for b in bound):
            continue  # already hidden with its home or /tmp
        if path.is_dir():
            args += ["--tmpfs", str(path)]
        else:
            args += ["--ro-bind", "/dev/null", str(path)]
    args += [*_namespace_args(), "--chdir", str(root), "--"]
    return args, notes


def _unique(paths: Iterable[Path]) -> Sequence[Path]:
    seen: dict[Path, None] = {}
    for p in paths:
        seen[Path(os.path.abspath(p))] = None
    return list(seen)
