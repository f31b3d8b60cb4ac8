"""The zygote: a warm process that forks one sandboxed child per submission.

Started by the trusted process (`python -m grader.sandbox.zygote`, inside bwrap where it
works), one per framework: it imports numpy (and torch), the public harness
(grader.sandbox.harness) and the sandbox's own code once, so a child costs a fork, not a 1.5 s
import. It never imports a spec or `reference` (a child would inherit them), and it never
runs student code itself.

Control channel: a Unix socket to the trusted process (fd given by --control-fd).
  trusted -> zygote  {"op": "run", "job": id, "nfds": 1, ...}  + the result pipe's write end
                     {"op": "kill", "job": id}
                     {"op": "finish", "job": id}  (all answers read: kill it unless it has
                                                   exited by itself within FINISH_GRACE)
  zygote -> trusted  {"op": "ready", ...facts}  and  {"op": "exit", "job": id, ...status}
When the socket closes, the zygote kills every child and exits.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib
import os
import secrets
import selectors
import shutil
import signal
import socket
import struct
import sys
import tempfile
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

UID_POOL = 256
FINISH_GRACE = 0.5  # seconds a child that has sent every answer gets to exit by itself
# imported once here, so that no child pays for them (torch._dynamo: the first optimizer
# imports it, 1-2 s; sklearn: the digits data set)
WARM_IMPORTS = {
    "numpy": ("numpy",),
    "torch": ("numpy", "torch", "torch.nn", "torch.nn.functional", "torch.optim",
              "torch.utils.data", "torch._dynamo", "sklearn.datasets", "sklearn.model_selection"),
}


@dataclass
class Running:
    job: int
    pid: int
    uid: int | None
    workdir: str
    kill_at: float | None = None  # monotonic deadline set by "finish"
    cgroup: str = ""  # its control group, where the host delegates cgroup v2


@dataclass
class Cleanup:
    """A run whose uid is being swept; its folder, uid and exit report wait for the sweep."""

    uid: int | None
    workdir: str | None
    report: dict[str, Any] | None


class Reaper:
    """A small helper forked before numpy/torch are imported: it kills every process of a uid.

    Forking it is cheap because it is small; a big zygote would pay ~10 ms per fork. A
    grandchild takes the uid and sends kill(-1, SIGKILL): that reaches exactly the
    processes of that uid (a fork bomb included, wherever it moved to), and nothing else.
    """

    def __init__(self) -> None:
        self.requests_r, self.requests_w = os.pipe()
        self.acks_r, self.acks_w = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            self._serve()
        os.close(self.requests_r)
        os.close(self.acks_w)

    def _serve(self) -> None:
        os.close(self.requests_w)
        os.close(self.acks_r)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        try:
            while True:
                data = os.read(self.requests_r, 4)
                if len(data) < 4:
                    break
                (uid,) = struct.unpack(">I", data)
                helper = os.fork()
                if helper == 0:
                    try:
                        os.setgroups([])
                        os.setresgid(uid, uid, uid)
                        os.setresuid(uid, uid, uid)
                        for _ in range(100):  # a fork bomb may outrun one sweep
                            os.kill(-1, signal.SIGKILL)
                    except ProcessLookupError:
                        os._exit(0)
                    except BaseException:  # noqa: BLE001
                        os._exit(1)
                    os._exit(2)
                os.waitpid(helper, 0)
                os.write(self.acks_w, b"k")
        finally:
            os._exit(0)

    def request(self, uid: int) -> None:
        """Ask for a sweep of `uid`; one byte on acks_r says it is done (sweeps finish in order)."""
        os.write(self.requests_w, struct.pack(">I", uid))


class Zygote:
    def __init__(self, ctl: socket.socket, ctx: Any, uids: list[int] | None,
                 reaper: Reaper | None, cgroup_parent: str = "") -> None:
        from grader.sandbox.protocol import SocketReceiver

        self.ctl = ctl
        self.receiver = SocketReceiver(ctl)
        self.ctx = ctx
        self.free_uids = uids
        self.reaper = reaper
        self.cgroup_parent = cgroup_parent
        self.running: dict[int, Running] = {}  # pid -> job
        # uid sweeps asked of the reaper and not yet acknowledged, oldest first: the zygote
        # goes on starting children meanwhile, and a uid is reused only after its sweep
        self.sweeping: deque[Cleanup] = deque()

    def send(self, body: dict[str, Any]) -> None:
        from grader.sandbox.protocol import send_message

        send_message(self.ctl, body)

    def start(self, job: dict[str, Any], fds: list[int]) -> None:
        from grader.sandbox.child import run_child

        if len(fds) not in (1, 2):
            for fd in fds:
                os.close(fd)
            self.send({"op": "exit", "job": job.get("job"), "error": "malformed job"})
            return
        if self.free_uids is not None and not self.free_uids:
            for fd in fds:
                os.close(fd)
            self.send({"op": "exit", "job": job.get("job"), "error": "too many submissions at once"})
            return
        uid = self.free_uids.pop(0) if self.free_uids is not None else None
        self.ctx.uid = uid
        self.ctx.workdir = ("" if self.ctx.private_tmp
                            else tempfile.mkdtemp(prefix="run-", dir=self.ctx.tmp_root))
        self.ctx.cgroup = ""
        if self.cgroup_parent:
            from grader.sandbox import cgroup
            from grader.sandbox.limits import MB, Limits

            limits = Limits(**job["limits"]) if job.get("limits") else self.ctx.limits
            with contextlib.suppress(OSError):  # none made: the per-process limits still hold
                self.ctx.cgroup = cgroup.create(
                    self.cgroup_parent, f"dlgrade-{os.getpid()}-{job['job']}",
                    (limits.memory_mb + limits.tmp_mb) * MB, limits.processes)
        pid = os.fork()
        if pid == 0:
            run_child(job, fds[0], self.ctx, fds[1] if len(fds) == 2 else None)  # never returns
        for fd in fds:
            os.close(fd)
        self.running[pid] = Running(job["job"], pid, uid, self.ctx.workdir, cgroup=self.ctx.cgroup)

    def _kill(self, run: Running) -> None:
        for kill in (os.killpg, os.kill):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                kill(run.pid, signal.SIGKILL)
        self._sweep(Cleanup(run.uid, None, None))  # what it started under its uid

    def kill(self, job_id: int) -> None:
        for run in self.running.values():
            if run.job == job_id:
                self._kill(run)

    def finish(self, job_id: int) -> None:
        for run in self.running.values():
            if run.job == job_id:
                run.kill_at = time.monotonic() + FINISH_GRACE

    def kill_overdue(self) -> float | None:
        """Kill the finished children past their grace; seconds until the next deadline."""
        now = time.monotonic()
        waits = []
        for run in self.running.values():
            if run.kill_at is not None and run.kill_at <= now:
                run.kill_at = None
                self._kill(run)
            elif run.kill_at is not None:
                waits.append(run.kill_at - now)
        return min(waits, default=None)

    def _sweep(self, cleanup: Cleanup) -> None:
        if cleanup.uid is not None and self.reaper:
            self.reaper.request(cleanup.uid)
            self.sweeping.append(cleanup)
        else:
            self._complete(cleanup)

    def _complete(self, cleanup: Cleanup) -> None:
        if cleanup.workdir is not None:
            if cleanup.workdir:  # a private /tmp goes with the child's mount namespace
                shutil.rmtree(cleanup.workdir, ignore_errors=True)
            if cleanup.uid is not None and self.free_uids is not None:
                self.free_uids.append(cleanup.uid)
        if cleanup.report is not None:
            self.send(cleanup.report)

    def swept(self, blocking: bool = False) -> None:
        """Complete the cleanups whose sweeps the reaper has acknowledged."""
        assert self.reaper is not None
        while self.sweeping:
            try:
                acks = os.read(self.reaper.acks_r, len(self.sweeping))
            except BlockingIOError:
                if not blocking:
                    return
                os.set_blocking(self.reaper.acks_r, True)
                acks = os.read(self.reaper.acks_r, 1)
                os.set_blocking(self.reaper.acks_r, False)
            if not acks:
                raise RuntimeError("the reaper is gone")
            for _ in acks:
                self._complete(self.sweeping.popleft())

    def reap_children(self) -> None:
        while True:
            try:
                pid, status, usage = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            run = self.running.pop(pid, None)
            if run is None:
                continue  # an orphan re-parented to us (we are a subreaper): just reaped
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)  # what it left in its process group; then its uid
            if run.cgroup:  # everything it started, wherever it went
                from grader.sandbox import cgroup

                cgroup.remove(run.cgroup)
            if run.uid is None:  # no uid to sweep: what it left in its session, too
                kill_session(pid)
            report: dict[str, Any] = {"op": "exit", "job": run.job, "max_rss_kb": usage.ru_maxrss,
                                      "cpu_seconds": usage.ru_utime + usage.ru_stime}
            if os.WIFSIGNALED(status):
                report["signal"] = os.WTERMSIG(status)
            else:
                report["code"] = os.waitstatus_to_exitcode(status)
            self._sweep(Cleanup(run.uid, run.workdir, report))

    def shutdown(self) -> None:
        for pid in list(self.running):
            for kill in (os.killpg, os.kill):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    kill(pid, signal.SIGKILL)
        for run in self.running.values():
            if run.uid is not None and self.reaper:
                self.reaper.request(run.uid)
                self.sweeping.append(Cleanup(run.uid, None, None))
        if self.reaper:
            with contextlib.suppress(OSError, RuntimeError):
                self.sweeping = deque(Cleanup(c.uid, None, None) for c in self.sweeping)
                self.swept(blocking=True)  # every uid swept before the zygote is gone
        shutil.rmtree(self.ctx.tmp_root, ignore_errors=True)

    def serve(self) -> None:
        from grader.sandbox.protocol import Closed

        wake_r, wake_w = os.pipe()
        os.set_blocking(wake_r, False)
        os.set_blocking(wake_w, False)
        signal.set_wakeup_fd(wake_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        selector = selectors.DefaultSelector()
        selector.register(self.ctl, selectors.EVENT_READ)
        selector.register(wake_r, selectors.EVENT_READ)
        if self.reaper:
            os.set_blocking(self.reaper.acks_r, False)
            selector.register(self.reaper.acks_r, selectors.EVENT_READ)
        timeout: float | None = None
        try:
            while True:
                for key, _ in selector.select(timeout):
                    if key.fileobj is self.ctl:
                        try:
                            messages = self.receiver.receive()
                        except (Closed, ConnectionError):
                            return
                        for body, fds in messages:
                            op = body.get("op")
                            if op == "run":
                                self.start(body, fds)
                            elif op == "kill":
                                self.kill(body.get("job"))
                            elif op == "finish":
                                self.finish(body.get("job"))
                    elif key.fileobj == wake_r:
                        try:
                            while os.read(wake_r, 512):
                                pass
                        except BlockingIOError:
                            pass
                self.reap_children()
                timeout = self.kill_overdue()
                if self.reaper:
                    self.swept()
        finally:
            self.shutdown()


def kill_session(sid: int) -> int:
    """SIGKILL every process of session `sid` (a child's setsid() made it its own); how many."""
    killed = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
            if int(fields[4]) == sid:  # state, ppid, pgrp, session
                os.kill(int(entry), signal.SIGKILL)
                killed += 1
        except (OSError, IndexError, ValueError):
            continue
    return killed


def library_dirs() -> list[str]:
    """Where ctypes may load libraries from: the Python installation and environment."""
    dirs = {sys.prefix, sys.base_prefix, sys.exec_prefix}
    dirs.update(p for p in sys.path if "site-packages" in p or "dist-packages" in p)
    return sorted(os.path.realpath(d) for d in dirs if d and os.path.isdir(d))


def readable_by_anyone(paths: list[str]) -> bool:
    """Can a uid with no privileges reach these folders (every ancestor o+x, each o+rx)?"""
    for path in paths:
        current = os.path.realpath(path)
        if os.stat(current).st_mode & 5 != 5:
            return False
        while current != "/":
            current = os.path.dirname(current)
            if not os.stat(current).st_mode & 0o001:
                return False
    return True


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m grader.sandbox.zygote")
    parser.add_argument("--control-fd", type=int, required=True)
    parser.add_argument("--framework", choices=("numpy", "torch"), required=True)
    parser.add_argument("--tmp", default=None, help="where the children's folders go")
    parser.add_argument("--cgroup", default="", help="a delegated cgroup v2 group: one child group "
                                                     "per submission under it")
    args = parser.parse_args(argv)

    from grader.sandbox import limits

    limits.die_with_parent()  # the trusted process gone: no zygote left behind
    ctl = socket.socket(fileno=args.control_fd)
    is_root = os.geteuid() == 0
    reaper = Reaper() if is_root else None  # before the big imports: its forks stay cheap
    from grader.sandbox import tmpfs

    private_tmp = tmpfs.available()

    import numpy  # the warm start: children inherit these imports

    for name in WARM_IMPORTS[args.framework]:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)

    from grader.sandbox import (
        child,
        codec,  # noqa: F401
        harness,
    )

    for name in harness.MODULES[args.framework]:  # the public harness; never a spec
        importlib.import_module(f"grader.sandbox.harness.{name}")
    judging = ("reference.", "grader.specs", "grader.grading", "grader.catalog")
    if any(m == "reference" or m.startswith(judging) for m in sys.modules):
        raise SystemExit("zygote: a spec or the reference got imported; refusing to serve")

    subreaper = limits.become_subreaper()
    tmp_root = tempfile.mkdtemp(prefix="dlgrade-sandbox-", dir=args.tmp)
    os.chmod(tmp_root, 0o711)  # children reach their own folder, cannot list the others
    uids = None
    uid_drop_off = ""
    if is_root and not readable_by_anyone([*library_dirs(), os.getcwd()]):
        uid_drop_off = "the Python installation is not readable by other users"
    elif is_root:
        base = 200_000 + secrets.randbelow(1 << 20) * UID_POOL  # no real user has these
        uids = list(range(base, base + UID_POOL))
    ctx = child.ChildContext(tmp_root=tmp_root, framework=args.framework,
                             library_dirs=library_dirs(), private_tmp=private_tmp)
    zygote = Zygote(ctl, ctx, uids, reaper, args.cgroup)
    gc.freeze()  # a child's collections then skip the inherited objects: no copy-on-write of them
    zygote.send({"op": "ready", "pid": os.getpid(), "uid_drop": uids is not None,
                 "uid_drop_off": uid_drop_off if is_root else "the grader does not run as root",
                 "subreaper": subreaper, "private_tmp": private_tmp, "cgroup": args.cgroup,
                 "uid_range": [uids[0], uids[-1] + 1] if uids else None,
                 "harness": list(harness.MODULES[args.framework]),
                 "specs_loaded": sorted(m for m in sys.modules if m.startswith(judging)),
                 "python": sys.version.split()[0], "numpy": numpy.__version__})
    zygote.serve()


if __name__ == "__main__":
    main()
