"""The audit-hook layer: what student code may not do, refused from inside Python.

Installed in a sandboxed child (`sys.addaudithook`) after its own setup and before the
student's module is imported; it cannot be removed afterwards. It refuses reading the
protected paths (reference/, the gradebook, other submissions), writing anywhere but the
child's own temporary folder, network access, starting programs, signalling other
processes, and loading native libraries from outside the Python environment (ctypes is
the usual way around an audit hook). It works with or without bwrap; with bwrap the
kernel enforces the same walls a second time. Python's audit hooks are not a complete
sandbox on their own (a determined attacker with memory-corrupting tricks can get past
them), which is why resource limits, a dropped uid and bwrap sit underneath.
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Callable, Iterable
from typing import Any

_RTLD_LAZY, _RTLD_NOLOAD = 0x1, 0x4
_libc = ctypes.CDLL(None, use_errno=True)
_dlopen = _libc.dlopen  # resolved now, in trusted code, before any audit hook exists
_dlopen.argtypes, _dlopen.restype = [ctypes.c_char_p, ctypes.c_int], ctypes.c_void_p
_dlclose = _libc.dlclose
_dlclose.argtypes, _dlclose.restype = [ctypes.c_void_p], ctypes.c_int


def loaded_handle(path: str) -> int | None:
    """The handle the dynamic linker has for an already loaded library (None: not loaded)."""
    handle = _dlopen(os.fsencode(path), _RTLD_LAZY | _RTLD_NOLOAD)
    if handle:
        _dlclose(handle)  # NOLOAD still counted a reference
    return handle or None

MAX_FILES = 16  # each at most RLIMIT_FSIZE: 256 MB in all
_TMPFILE = getattr(os, "O_TMPFILE", 0) or -1  # -1: never matches where there is none
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_NETWORK = frozenset({
    "socket.connect", "socket.bind", "socket.sendto", "socket.sendmsg", "socket.getaddrinfo",
    "socket.gethostbyname", "socket.gethostbyaddr", "socket.gethostbyname_ex",
    "socket.getnameinfo", "socket.sethostname", "urllib.Request", "http.client.connect",
})
_PROGRAMS = frozenset({
    "os.system", "os.exec", "os.posix_spawn", "os.spawn", "subprocess.Popen", "pty.spawn",
    "os.startfile", "webbrowser.open",
})
_FORKS = frozenset({"os.fork", "os.forkpty"})
# events whose path arguments (by position) must lie inside the child's own folder
_MODIFY_ARGS: dict[str, tuple[int, ...]] = {
    "os.mkdir": (0,), "os.remove": (0,), "os.rmdir": (0,), "os.rename": (0, 1),
    "os.symlink": (1,), "os.link": (1,), "os.truncate": (0,), "os.chmod": (0,),
    "os.chown": (0,), "os.utime": (0,), "os.chflags": (0,), "os.lchflags": (0,),
    "os.setxattr": (0,), "os.removexattr": (0,), "os.lchmod": (0,), "os.lchown": (0,),
    "shutil.rmtree": (0,), "shutil.move": (1,), "shutil.copyfile": (1,),
    "shutil.copytree": (1,), "os.mkfifo": (0,), "os.mknod": (0,),
}
_LIST_ARGS = frozenset({"os.listdir", "os.scandir", "glob.glob", "os.walk"})


class SandboxViolation(PermissionError):
    """Raised into student code when it tries something the sandbox refuses."""


def _real(path: Any) -> str | None:
    if isinstance(path, int) or path is None:
        return None  # an already-open descriptor, or "no path": not a new access
    try:
        raw = os.fsdecode(path)
    except (TypeError, ValueError):
        return None
    return os.path.realpath(raw)


def _inside(path: str, folders: Iterable[str]) -> bool:
    return any(path == f or path.startswith(f.rstrip("/") + "/") for f in folders)


def make_hook(*, workdir: str, protected: Iterable[str], allow_fork: bool,
              library_dirs: Iterable[str], own_pid: int,
              gate: list[bool] | None = None) -> Callable[[str, tuple[Any, ...]], None]:
    """The audit hook for one child (see the module docstring). `gate[0]`, while True, lets
    the child's own trusted code fork and end the runner of its cases (child._keep); the
    student's code could open it too, and would gain processes that still die with its
    session, its process group and, where it has one, its uid."""
    gate = gate if gate is not None else [False]
    workdir = os.path.realpath(workdir)
    writable = (workdir, "/dev/null")
    hidden = tuple(os.path.realpath(p) for p in protected)
    libraries = tuple(os.path.realpath(p) for p in library_dirs)
    getpgid, getpid = os.getpgid, os.getpid
    violation = SandboxViolation
    created: set[str] = set()  # files opened for writing: a cap on what one child can leave

    # A protected folder that holds the child's own folder (a shared temporary root) stays
    # readable inside that folder; one that lies inside it (the course tree, when it sits
    # under a private /tmp) does not.
    around_workdir = tuple(h for h in hidden if _inside(workdir, (h,)))
    within_workdir = tuple(h for h in hidden if h not in around_workdir)

    def refuse_read(path: str | None, what: str) -> None:
        if path is None:
            return
        if _inside(path, within_workdir) or (
                not _inside(path, (workdir,)) and _inside(path, around_workdir)):
            raise violation(f"dlgrade sandbox: {what} {path} is not allowed")

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event == "open":
            path = _real(args[0])
            if path is None:
                return
            mode, flags = args[1], args[2]
            if not _inside(path, writable) and os.path.isdir(path):
                # a folder's descriptor would make `dir_fd=` paths relative to it, which this
                # hook cannot see: only the child's own folder may be opened as one
                raise violation(f"dlgrade sandbox: opening the folder {path} (for dir_fd) is not allowed")
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                isinstance(flags, int) and flags & _WRITE_FLAGS)
            if writing and not _inside(path, writable):
                raise violation(f"dlgrade sandbox: writing {path} is not allowed "
                                "(only the current folder is writable)")
            anonymous = isinstance(flags, int) and flags & _TMPFILE == _TMPFILE  # a new file each time
            if writing and (path not in created or anonymous):
                if len(created) >= MAX_FILES:
                    raise violation(f"dlgrade sandbox: writing more than {MAX_FILES} files is not allowed")
                created.add(path if not anonymous else f"{path}\0{len(created)}")
            refuse_read(path, "reading")
        elif event in _MODIFY_ARGS:
            for i in _MODIFY_ARGS[event]:
                if i < len(args):
                    path = _real(args[i])
                    if path is not None and not _inside(path, writable):
                        raise violation(f"dlgrade sandbox: changing {path} is not allowed")
        elif event in _LIST_ARGS:
            if args:
                refuse_read(_real(args[0]), "looking into")
        elif event == "os.chdir":  # relative paths (dir_fd ones too) stay relative to its folder
            path = _real(args[0]) if args else None
            if path is None or not _inside(path, (workdir,)):
                raise violation("dlgrade sandbox: changing the working folder is not allowed")
        elif event in _NETWORK:
            raise violation("dlgrade sandbox: network access is not allowed")
        elif event in _PROGRAMS:
            raise violation("dlgrade sandbox: starting programs is not allowed")
        elif event in _FORKS:
            if not allow_fork and not gate[0]:
                raise violation("dlgrade sandbox: creating processes is not allowed")
        elif event in ("os.kill", "os.killpg"):
            if not allow_fork and not gate[0]:
                target = args[0]
                mine = (0, getpid(), own_pid) if event == "os.kill" else (0, getpgid(0))
                if target not in mine:
                    raise violation("dlgrade sandbox: signalling other processes is not allowed")
        elif event == "ctypes.dlopen":
            name = _real(args[0]) if args and args[0] else None
            if name is None or not _inside(name, libraries):
                raise violation("dlgrade sandbox: loading native libraries is not allowed")
        elif event == "ctypes.dlsym":
            library = args[0] if args else None
            name = getattr(library, "_name", None)
            path = _real(name) if isinstance(name, str) else None
            if path is None or not _inside(path, libraries):
                raise violation("dlgrade sandbox: calling native functions is not allowed")
            # a CDLL made with handle= (0 is every library loaded, libc included) under the
            # name of an allowed one: its handle must be the one the linker has for that name
            handle = getattr(library, "_handle", None)
            if type(handle) is not int or handle != loaded_handle(path):
                raise violation("dlgrade sandbox: a native library handle that is not its own "
                                "is not allowed")
        elif event == "ctypes.dlsym/handle":
            raise violation("dlgrade sandbox: looking up native functions by handle is not allowed")

    return hook


def install(**kwargs: Any) -> None:
    sys.addaudithook(make_hook(**kwargs))
