"""bubblewrap: the kernel-enforced layer of the sandbox (file system, network, pids).

The zygote is started inside bwrap, so every child it forks inherits the walls. The file
system is an allow-list, mounted explicitly on an empty root:
- the Python installation and its site-packages, the system libraries under /usr (and the
  /lib, /bin links into it), the dynamic linker's cache: read-only;
- from the course tree only the child-side grading code (`child_code`) and
  `assignments/datasets.py` (the stubs import it): read-only. The rest of the course tree
  (`.git`, `examples/`, `reference/`, hidden specs, gradebook, exchange) and users' homes
  are simply not there;
- a small /tmp for the zygote itself (each child mounts a private, size-capped tmpfs of
  its own over it: grader.sandbox.tmpfs), /dev/null, /dev/zero, /dev/urandom, /dev/random
  (and the GPUs' device files), a fresh /proc of its own pid namespace;
- no network (`--unshare-net`), its own pid namespace (a fork bomb or a stray process dies
  with the zygote), its own session, and it dies with its parent;
- as root, every capability dropped except the few the zygote needs to start children
  under uids of their own and give each its private /tmp (setuid/setgid/chown/kill,
  sys_admin for the mount; file access to clean up after them). Children drop them all.
When bwrap is missing or fails its self-test, grading a class needs an explicit opt-in
(`--allow-weak-sandbox`), and `dlgrade doctor` says what is lost.
"""

from __future__ import annotations

import functools
import glob
import os
import shutil
import site
import subprocess
import sys
import sysconfig
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

ZYGOTE_TMP_SIZE = 64 * 1024 * 1024  # the zygote's own /tmp; children mount their own
ROOT_CAPS = ("CAP_SETUID", "CAP_SETGID", "CAP_CHOWN", "CAP_KILL", "CAP_DAC_OVERRIDE", "CAP_FOWNER",
             "CAP_SYS_ADMIN")
DEVICES = ("/dev/null", "/dev/zero", "/dev/urandom", "/dev/random")
SYSTEM_DIRS = ("/usr", "/lib", "/lib64", "/lib32", "/libx32", "/bin", "/sbin")
SYSTEM_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/localtime")


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
        args += ["--unshare-user", "--cap-add", "CAP_SYS_ADMIN"]  # a private /tmp per child
    return args


def _system_args() -> list[str]:
    """The operating system's part: libraries, the linker's cache, devices, /proc."""
    args: list[str] = []
    for path in SYSTEM_DIRS:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    for path in SYSTEM_FILES:
        args += ["--ro-bind-try", path, path]
    for device in DEVICES:
        args += ["--dev-bind-try", device, device]
    gpus = sorted(glob.glob("/dev/nvidia*")) + sorted(glob.glob("/dev/dri"))
    for device in gpus:
        args += ["--dev-bind", device, device]  # GPUs stay usable for CUDA cases
    if gpus:  # the CUDA driver reads the PCI topology
        args += ["--ro-bind-try", "/sys", "/sys"]
    args += ["--proc", "/proc", "--size", str(ZYGOTE_TMP_SIZE), "--tmpfs", "/tmp"]
    return args


# what grading loses without bwrap (for `doctor`, and for the refusal to grade a class)
WEAK_MODE_LOSSES = (
    "the child sees the whole file system read-only (only reference/, the specs and the "
    "protected paths are refused, by an audit hook); no network or pid namespace (the hook "
    "refuses sockets and programs); memory tricks that get past an audit hook get past all "
    "of it"
)
WEAK_MODE_FLAG = "--allow-weak-sandbox"


def weak_mode_refusal() -> str:
    """One line: why a class is not graded here without the flag."""
    return (f"bwrap is {status().detail}: without it {WEAK_MODE_LOSSES}. Grade a class anyway "
            f"with {WEAK_MODE_FLAG} (see dlgrade doctor)")


@functools.cache
def status() -> BwrapStatus:
    """Is bwrap installed, and does it work here (it needs namespaces the host may forbid)?"""
    path = shutil.which("bwrap")
    if path is None:
        return BwrapStatus(None, False, "not installed (Debian/Ubuntu: apt-get install bubblewrap)")
    try:
        version = subprocess.run([path, "--version"], capture_output=True, text=True,
                                 timeout=10).stdout.strip()
        test = subprocess.run([path, *_system_args(), *_python_args(python_paths(Path("/nonexistent"))),
                               *_namespace_args(), "--", sys.executable, "-c", "pass"],
                              capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError) as exc:
        return BwrapStatus(path, False, f"failed its self-test: {exc}")
    if test.returncode != 0:
        reason = (test.stderr.strip().splitlines() or [f"exit code {test.returncode}"])[-1]
        return BwrapStatus(path, False, f"failed its self-test: {reason}")
    return BwrapStatus(path, True, version or "bwrap")


def _contains(outer: Path, inner: Path) -> bool:
    return inner == outer or outer in inner.parents


def python_paths(root: Path) -> list[Path]:
    """The Python installation the zygote runs on: prefixes, the standard library, the
    site-packages, the interpreter's folder. A folder that holds the course tree (a
    PYTHONPATH of `/work`, say) is left out: it would bring the whole tree back."""
    candidates = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
                  os.path.dirname(os.path.realpath(sys.executable)),
                  *(v for k, v in sysconfig.get_paths().items() if k in (
                      "stdlib", "platstdlib", "purelib", "platlib")),
                  *site.getsitepackages()}
    candidates.update(p for p in sys.path if "site-packages" in p or "dist-packages" in p)
    root = Path(os.path.realpath(root))
    found: set[Path] = set()
    for path in filter(None, candidates):
        for form in (Path(os.path.abspath(path)), Path(os.path.realpath(path))):
            if form.is_dir() and not _contains(form, root) and form != Path("/"):
                found.add(form)
    system = [Path(p) for p in SYSTEM_DIRS if os.path.isdir(p) and not os.path.islink(p)]
    return _outermost(p for p in found if not any(_contains(s, p) for s in system))


def _outermost(paths: Iterable[Path]) -> list[Path]:
    kept: list[Path] = []
    for path in sorted(set(paths), key=lambda p: len(p.parts)):
        if not any(_contains(k, path) for k in kept):
            kept.append(path)
    return sorted(kept)


def _parents_args(paths: Iterable[Path], made: set[Path]) -> list[str]:
    """Every folder that leads to a mounted path, made traversable (0755): bwrap would make
    them private to root, and a child under a uid of its own could not reach its Python."""
    args: list[str] = []
    for path in paths:
        for parent in reversed(path.parents[:-1]):  # outermost first, "/" left out
            if parent not in made:
                made.add(parent)
                args += ["--perms", "0755", "--dir", str(parent)]
    return args


def _python_args(paths: Sequence[Path]) -> list[str]:
    args = _parents_args(paths, set())
    for path in paths:
        args += ["--ro-bind", str(path), str(path)]
    return args


def child_code(root: Path) -> list[Path]:
    """What of the course tree a child sees: the sandbox's own code (with the boundary's
    format, grader/sandbox/codec.py, and the public harness that calls a student's
    functions, grader/sandbox/harness/), and the data sets the stubs
    import. Nothing else of the tree is mounted: no spec, no check, no reference."""
    grader = root / "grader"
    return [grader / "__init__.py", grader / "sandbox",
            root / "assignments" / "__init__.py", root / "assignments" / "datasets.py"]


def command(*, root: Path, hide: Iterable[Path], code: Sequence[Path] | None = None,
            writable: Sequence[str] = ()) -> tuple[list[str], list[str]]:
    """The bwrap prefix for the zygote, and notes on paths that could not be hidden.

    `code`: the course tree's files and folders to mount read-only (child_code by default);
    `hide`: paths inside any mounted folder to cover anyway (the gradebook, submissions);
    `writable`: paths mounted read-write (a delegated cgroup v2 group)."""
    status_ = status()
    assert status_.path is not None and status_.working
    root = Path(os.path.abspath(root))
    mounted = [*python_paths(root), *[Path(os.path.abspath(p)) for p in (code or child_code(root))]]
    args = [status_.path, *_system_args(), *_python_args(python_paths(root))]
    code_paths = [p for p in mounted[len(python_paths(root)):] if p.exists()]
    args += _parents_args(code_paths, {p for python in python_paths(root) for p in python.parents})
    for path in code_paths:
        args += ["--ro-bind", str(path), str(path)]
    notes: list[str] = []
    for path in _unique(hide):
        if not path.exists() or not any(_contains(m, path) for m in mounted):
            continue  # not mounted: not there
        if any(_contains(path, m) for m in mounted):
            notes.append(f"{path} holds the grader or Python itself, so it cannot be hidden")
            continue
        if path.is_dir():
            args += ["--tmpfs", str(path)]
        else:
            args += ["--ro-bind", "/dev/null", str(path)]
    for path in writable:
        args += ["--bind", path, path]
    args += ["--remount-ro", "/", *_namespace_args(), "--chdir", "/tmp", "--"]
    return args, notes


def _unique(paths: Iterable[Path]) -> Sequence[Path]:
    seen: dict[Path, None] = {}
    for p in paths:
        seen[Path(os.path.abspath(p))] = None
    return list(seen)
