"""A private, size-capped /tmp for each sandboxed child: its own mount namespace.

The child, still privileged (root, or CAP_SYS_ADMIN inside bwrap's user namespace), leaves
the zygote's mount namespace and mounts a fresh tmpfs over /tmp. Its capped size bounds
what the child's files hold, however they are opened (O_TMPFILE included), its inode cap
bounds how many there are, and nobody else sees it: a neighbour cannot fill it, squat a
name in it, or read it, and it vanishes with the child's last process. Every capability
is dropped right after (grader.sandbox.limits.drop_capabilities).
"""

from __future__ import annotations

import ctypes
import os

CLONE_NEWNS = 0x00020000
MS_NOSUID, MS_NODEV, MS_NOEXEC = 0x2, 0x4, 0x8
MS_RDONLY, MS_REMOUNT, MS_BIND = 0x1, 0x20, 0x1000
MS_REC, MS_PRIVATE = 0x4000, 0x40000
MOUNT_POINT = "/tmp"

_libc = ctypes.CDLL(None, use_errno=True)
_unshare = _libc.unshare  # resolved now, in trusted code, before any audit hook exists
_mount = _libc.mount
_mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def mount_private_tmp(size_bytes: int, inodes: int, owner: int | None,
                      keep: tuple[str, ...] = ()) -> str:
    """Leave the shared mount namespace and mount a fresh tmpfs on /tmp; returns its path.

    `keep`: folders under /tmp the child must still see, read-only (the code it imports when
    the course itself lies under /tmp, as a cluster worker's scratch copy does): held open
    before the tmpfs covers them and bound back at the same place on top of it; the child's
    own folder is then /tmp/work, beside them.
    """
    _check(_unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)")
    # nothing mounted from here on may propagate back to the zygote's namespace
    _check(_mount(None, b"/", None, MS_REC | MS_PRIVATE, None), "making / private")
    held = [(path, os.open(path, os.O_PATH | os.O_DIRECTORY)) for path in keep
            if os.path.isdir(path) and path.startswith(MOUNT_POINT + "/")]
    options = f"size={size_bytes},nr_inodes={inodes},mode=0700"
    if owner is not None:
        options += f",uid={owner},gid={owner}"
    _check(_mount(b"tmpfs", MOUNT_POINT.encode(), b"tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                  options.encode()), "mounting the private /tmp")
    for path, fd in held:
        os.makedirs(path, mode=0o755, exist_ok=True)
        source = f"/proc/self/fd/{fd}".encode()
        _check(_mount(source, path.encode(), None, MS_BIND | MS_REC, None), f"keeping {path}")
        _check(_mount(None, path.encode(), None, MS_REMOUNT | MS_BIND | MS_RDONLY, None),
               f"keeping {path} read-only")
        os.close(fd)
    if not held:
        return MOUNT_POINT
    # the child's own folder must not hold the kept code: a descriptor of it would reach
    # into that code through dir_fd paths, which the audit hook cannot see
    own = os.path.join(MOUNT_POINT, "work")
    os.mkdir(own, 0o700)
    if owner is not None:
        os.chown(own, owner, owner)
    return own


def available() -> bool:
    """Can a child of this process mount its own /tmp? Tried once, in a short-lived fork."""
    if not os.path.isdir(MOUNT_POINT):
        return False
    pid = os.fork()
    if pid == 0:
        try:
            mount_private_tmp(1 << 20, 16, None)
        except BaseException:  # noqa: BLE001
            os._exit(1)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0
