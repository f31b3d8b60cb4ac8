"""The audit-hook policy (grader.sandbox.policy), called directly with audit events.

The hook is never installed in this process (it could not be removed again): each test
builds one and feeds it the events Python would raise.
"""

from __future__ import annotations

import os

import pytest

from grader.sandbox.policy import MAX_FILES, SandboxViolation, make_hook


@pytest.fixture
def folders(tmp_path):
    work = tmp_path / "work"
    secret = tmp_path / "reference"
    libs = tmp_path / "site-packages"
    for d in (work, secret, libs):
        d.mkdir()
    return work, secret, libs


def hook_for(folders, *, allow_fork=False):
    work, secret, libs = folders
    return make_hook(workdir=str(work), protected=[str(secret)], allow_fork=allow_fork,
                     library_dirs=[str(libs)], own_pid=os.getpid())


def test_reading_is_refused_only_under_protected_paths(folders):
    work, secret, _ = folders
    hook = hook_for(folders)
    hook("open", (str(work / "notes.txt"), "r", os.O_RDONLY))
    hook("open", ("/etc/hostname", "r", os.O_RDONLY))
    hook("open", (3, "r", os.O_RDONLY))  # an open descriptor is not a new access
    with pytest.raises(SandboxViolation, match="reading .* is not allowed"):
        hook("open", (str(secret / "losses.py"), "r", os.O_RDONLY))
    with pytest.raises(SandboxViolation):  # through a relative path and a symlink
        (work / "link").symlink_to(secret)
        hook("open", (str(work / "link" / "losses.py"), "rb", os.O_RDONLY))
    with pytest.raises(SandboxViolation, match="looking into"):
        hook("os.listdir", (str(secret),))


def test_writing_only_inside_its_folder(folders):
    work, secret, _ = folders
    hook = hook_for(folders)
    hook("open", (str(work / "out.txt"), "w", os.O_WRONLY | os.O_CREAT))
    hook("open", (os.devnull, "w", os.O_WRONLY))
    for path, mode, flags in [("/tmp/marker", "w", 0), ("/tmp/marker", None, os.O_WRONLY | os.O_CREAT),
                              (str(secret / "x"), "a", 0), ("/etc/passwd", "r+", 0)]:
        with pytest.raises(SandboxViolation, match="not allowed"):
            hook("open", (path, mode, flags))
    for event, args in [("os.remove", ("/etc/passwd",)), ("os.rename", (str(work / "a"), "/tmp/b")),
                        ("os.mkdir", ("/tmp/d", 0o777, -1)), ("os.chmod", ("/etc", 0o777, -1)),
                        ("shutil.rmtree", ("/work",)), ("os.symlink", ("/etc", "/tmp/l", -1))]:
        with pytest.raises(SandboxViolation):
            hook(event, args)
    hook("os.remove", (str(work / "out.txt"), -1))


def test_file_count_cap(folders):
    work, _, _ = folders
    hook = hook_for(folders)
    for i in range(16):
        hook("open", (str(work / f"f{i}"), "w", 0))
    hook("open", (str(work / "f0"), "a", 0))  # the same file again is not a new one
    with pytest.raises(SandboxViolation, match="more than 16 files"):
        hook("open", (str(work / "f16"), "w", 0))


def test_network_programs_and_signals(folders):
    hook = hook_for(folders)
    for event in ("socket.connect", "socket.bind", "socket.getaddrinfo", "socket.sendto"):
        with pytest.raises(SandboxViolation, match="network"):
            hook(event, (None, ("127.0.0.1", 80)))
    for event in ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn"):
        with pytest.raises(SandboxViolation, match="starting programs"):
            hook(event, ("/bin/sh",))
    with pytest.raises(SandboxViolation, match="creating processes"):
        hook("os.fork", ())
    with pytest.raises(SandboxViolation, match="signalling"):
        hook("os.kill", (1, 9))
    hook("os.kill", (os.getpid(), 2))  # itself: fine
    hook("socket.__new__", (None, 2, 1, 0))  # making a socket object is harmless


def test_fork_allowed_under_a_uid_of_its_own(folders):
    hook = hook_for(folders, allow_fork=True)
    hook("os.fork", ())
    hook("os.kill", (12345, 9))  # the kernel decides: the uid can only reach its own processes
    with pytest.raises(SandboxViolation):
        hook("subprocess.Popen", ("/bin/sh",))  # never a new program


def test_native_libraries_only_from_the_python_environment(folders):
    _, _, libs = folders
    hook = hook_for(folders)
    hook("ctypes.dlopen", (str(libs / "torch" / "lib" / "libtorch.so"),))
    for name in ("libc.so.6", "/lib/x86_64-linux-gnu/libc.so.6", None):
        with pytest.raises(SandboxViolation, match="native libraries"):
            hook("ctypes.dlopen", (name,))

    class Library:
        _name = None  # ctypes.pythonapi / CDLL(None): the whole process, libc included

    with pytest.raises(SandboxViolation, match="native functions"):
        hook("ctypes.dlsym", (Library(), "system"))


def test_every_o_tmpfile_open_counts_as_a_new_file(folders):
    work, _, _ = folders
    hook = hook_for(folders)
    flags = os.O_TMPFILE | os.O_RDWR
    for _ in range(MAX_FILES):
        hook("open", (str(work), None, flags))  # the same folder each time, a new file each time
    with pytest.raises(SandboxViolation, match=f"more than {MAX_FILES} files"):
        hook("open", (str(work), None, flags))


def test_the_gate_lets_the_childs_own_code_fork_its_runner(folders):
    work, secret, libs = folders
    gate = [False]
    hook = make_hook(workdir=str(work), protected=[str(secret)], allow_fork=False,
                     library_dirs=[str(libs)], own_pid=os.getpid(), gate=gate)
    with pytest.raises(SandboxViolation, match="creating processes"):
        hook("os.fork", ())
    gate[0] = True  # while the child's trusted code forks or ends a runner
    hook("os.fork", ())
    hook("os.kill", (os.getpid() + 1, 9))
    gate[0] = False
    with pytest.raises(SandboxViolation, match="signalling"):
        hook("os.kill", (os.getpid() + 1, 9))
