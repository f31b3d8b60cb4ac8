"""The trusted side of the sandbox: warm zygotes, one job per submission, deadlines.

`Sandbox.run` sends a submission's source and its cases' inputs (plain data) to the
zygote of the assignment's framework, which forks a child; the child streams one result
per case back on a pipe of its own. This side enforces a wall-clock deadline per case:
on a timeout or a crash the child's whole process group (and, as root, every process of
its uid) is killed, that case fails with the reason, the target's remaining cases fail
with it without running (fail fast per target), and a fresh child runs the other
targets' remaining cases.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import queue
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from grader.catalog import ROOT
from grader.sandbox import bwrap, cgroup, codec
from grader.sandbox.limits import Limits
from grader.sandbox.protocol import (
    Closed,
    PipeReader,
    SocketReceiver,
    Timeout,
    send_message,
    write_all,
)

START_TIMEOUT = 180.0  # importing torch on a busy 2-core machine, inside bwrap
EXIT_WAIT = 5.0
_ENV_KEEP = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "PYTHONHASHSEED", "OMP_NUM_THREADS",
             "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "LD_LIBRARY_PATH", "CUDA_HOME")
_ENV_PREFIXES = ("CUDA_", "NVIDIA_", "TORCH_", "PYTORCH_")


INFRA_ATTEMPTS = 3  # starts of one submission's child that die before its code runs


@dataclass
class DriveEnd:
    """How one child's run ended, when it calls for another."""

    infrastructure: str = ""  # died of a cause not the student's: start it again
    contended: CaseRequest | None = None  # timed out beside other children: again, alone


class Turns:
    """Children run side by side (shared turns) or one alone (an exclusive turn, for a case
    retried without neighbours). Counts how many have started and how many run now."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.running = 0
        self.started = 0
        self._exclusive = False
        self._waiting_exclusive = 0

    def shared(self) -> contextlib.AbstractContextManager[None]:
        return self._turn(exclusive=False)

    def exclusive(self) -> contextlib.AbstractContextManager[None]:
        return self._turn(exclusive=True)

    @contextlib.contextmanager
    def _turn(self, exclusive: bool) -> Iterator[None]:
        """Wait for a turn, count it, and give it back however the body ends. An exclusive turn
        waits until nothing runs, and while it waits no new shared turn starts."""
        with self._cond:
            if exclusive:
                self._waiting_exclusive += 1
                self._cond.wait_for(lambda: not self._exclusive and self.running == 0)
                self._waiting_exclusive -= 1
            else:
                self._cond.wait_for(lambda: not self._exclusive and not self._waiting_exclusive)
            self._exclusive = exclusive
            self.running += 1
            self.started += 1
        try:
            yield
        finally:
            with self._cond:
                self._exclusive = False  # a shared turn only ever runs while this is False
                self.running -= 1
                self._cond.notify_all()


class SandboxError(RuntimeError):
    """The sandbox itself failed (not the student's code): e.g. the zygote did not start."""


@dataclass(frozen=True)
class CaseRequest:
    name: str
    target: str
    inputs: Any  # JSON-ready plain data (codec.to_jsonable)
    timeout: float  # seconds, already scaled
    harness: str = ""  # the public harness function that runs it (grader.sandbox.harness)
    params: Any = None  # its parameters, JSON-ready plain data


@dataclass
class CaseOutcome:
    name: str
    ok: bool
    value: Any = None
    error: str = ""
    seconds: float = 0.0
    output: str = ""  # what the student's code printed during the case (capped, sanitised)


@dataclass
class SandboxConfig:
    use_bwrap: bool | None = None  # None: when it works here
    hide: tuple[Path, ...] = ()  # hidden from the children, besides reference/ and hidden specs
    limits: Limits = field(default_factory=Limits)
    root: Path = ROOT


def describe_exit(info: dict[str, Any] | None) -> str:
    """How a child ended, in a student's words."""
    if not info:
        return "stopped responding"
    if "error" in info:
        return f"could not be started: {info['error']}"
    if "signal" in info:
        number = int(info["signal"])
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        special = {
            "SIGSEGV": "crashed with SIGSEGV (segmentation fault)",
            "SIGBUS": "crashed with SIGBUS (bus error)",
            "SIGABRT": "crashed with SIGABRT (aborted)",
            "SIGFPE": "crashed with SIGFPE (arithmetic error)",
            "SIGILL": "crashed with SIGILL (illegal instruction)",
            "SIGXCPU": "used up its CPU time limit (SIGXCPU)",
            "SIGKILL": "was killed (SIGKILL): out of memory?",
        }
        return special.get(name, f"was killed by {name}")
    return f"exited with code {info.get('code')}"


class Job:
    """One child, seen from the trusted process."""

    def __init__(self, zygote: ZygoteProcess, job_id: int, read_fd: int, max_bytes: int,
                 control_fd: int | None = None) -> None:
        self.zygote = zygote
        self.id = job_id
        self.reader = PipeReader(read_fd, max_bytes=max_bytes)
        self.control_fd = control_fd  # orders to a child that keeps its import
        self.exited = threading.Event()
        self.exit_info: dict[str, Any] | None = None
        self._killed = False

    def read(self, deadline: float) -> Any:
        return self.reader.read(deadline)

    def kill(self) -> None:
        if not self._killed and not self.exited.is_set():
            self._killed = True
            self.zygote.kill(self.id)

    def wait_exit(self, timeout: float = EXIT_WAIT) -> dict[str, Any] | None:
        self.exited.wait(timeout)
        return self.exit_info

    def resume(self, names: list[str]) -> bool:
        """Ask a child that keeps its import to end its runner and run these cases next."""
        if self.control_fd is None:
            return False
        try:
            write_all(self.control_fd, json.dumps(names).encode() + b"\n")
        except OSError:
            return False
        return True

    def finish(self) -> None:
        """Make sure the child goes: it exits by itself after its last answer, and the zygote
        kills it (its process group and its uid) if it has not within a grace period."""
        if self.control_fd is not None:
            with contextlib.suppress(OSError):
                os.close(self.control_fd)  # the child's end reads EOF: it ends its runner, then itself
            self.control_fd = None
        if not self._killed and not self.exited.is_set():
            self.zygote.send({"op": "finish", "job": self.id})
        self.reader.close()
        self.zygote.forget(self.id)


class _Launcher:
    """Starts every zygote from one thread that lasts as long as this process.

    A zygote asks for SIGKILL when its parent goes (PR_SET_PDEATHSIG), and so does bwrap
    (--die-with-parent); the kernel sends it when the *thread* that forked them ends, not
    only the process. Started from a batch's worker thread, a zygote died with that worker
    and took the other threads' children with it; started from here, it dies with the
    process only."""

    def __init__(self) -> None:
        self._reset()
        os.register_at_fork(after_in_child=self._reset)  # a forked process has no such thread

    def _reset(self) -> None:
        self._lock = threading.Lock()
        self._queue: queue.SimpleQueue[tuple[Callable[[], Any], Future[Any]]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    def call(self, start: Callable[[], Any]) -> Any:
        """start() run on the launcher thread; its result, or its exception raised here."""
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._serve, name="zygote-launcher", daemon=True)
                self._thread.start()
        future: Future[Any] = Future()
        self._queue.put((start, future))
        return future.result()

    def _serve(self) -> None:
        while True:  # never returns: the thread's end would kill every zygote it started
            start, future = self._queue.get()
            try:
                future.set_result(start())
            except BaseException as exc:  # noqa: BLE001  handed to the caller
                future.set_exception(exc)


_LAUNCHER = _Launcher()


class ZygoteProcess:
    """A zygote (grader.sandbox.zygote) and the thread that reads its reports."""

    def __init__(self, framework: str, config: SandboxConfig, bwrap_prefix: list[str] | None,
                 cgroup_parent: str = "") -> None:
        self.framework = framework
        self.dead = False
        self.info: dict[str, Any] = {}
        self._jobs: dict[int, Job] = {}
        self._next = 0
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115  (closed in close())
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        command = [sys.executable, "-m", "grader.sandbox.zygote", "--control-fd", str(theirs.fileno()),
                   "--framework", framework, "--cgroup", cgroup_parent]
        env = {k: v for k, v in os.environ.items() if k in _ENV_KEEP or k.startswith(_ENV_PREFIXES)}
        env["PYTHONPATH"] = str(config.root)
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env.setdefault(var, "1")  # one thread per child: children run side by side
        env.setdefault("PATH", "/usr/bin:/bin")
        try:
            self.proc = _LAUNCHER.call(lambda: subprocess.Popen(
                [*(bwrap_prefix or []), *command], pass_fds=[theirs.fileno()],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self._stderr,
                cwd=config.root, env=env, start_new_session=True))
        finally:
            theirs.close()
        self.sock = ours
        self._reader = threading.Thread(target=self._dispatch, name=f"zygote-{framework}", daemon=True)
        self._reader.start()
        if not self._ready.wait(START_TIMEOUT) or self.dead:
            reason = self._stderr_tail()
            self.close()
            raise SandboxError(f"the {framework} sandbox did not start: {reason}")

    def _stderr_tail(self) -> str:
        try:
            self._stderr.seek(0)
            lines = self._stderr.read().decode(errors="replace").strip().splitlines()
        except OSError:
            lines = []
        return lines[-1] if lines else "no error message"

    def _dispatch(self) -> None:
        receiver = SocketReceiver(self.sock)
        try:
            while True:
                for body, fds in receiver.receive():
                    for fd in fds:
                        os.close(fd)
                    if body.get("op") == "ready":
                        self.info = body
                        self._ready.set()
                    elif body.get("op") == "exit":
                        with self._lock:
                            job = self._jobs.get(body.get("job"))
                        if job is not None:
                            job.exit_info = body
                            job.exited.set()
        except (Closed, OSError, ValueError):
            pass
        self.dead = True
        self._ready.set()
        with self._lock:
            jobs = list(self._jobs.values())
        for job in jobs:
            job.exited.set()

    def start(self, body: dict[str, Any], max_bytes: int) -> Job:
        read_fd, write_fd = os.pipe()
        control_r, control_w = os.pipe() if body.get("keeper") else (None, None)
        theirs = [fd for fd in (write_fd, control_r) if fd is not None]
        with self._lock:
            if self.dead:
                for fd in (read_fd, write_fd, control_r, control_w):
                    if fd is not None:
                        os.close(fd)
                raise SandboxError(f"the {self.framework} sandbox stopped")
            self._next += 1
            job = Job(self, self._next, read_fd, max_bytes, control_w)
            self._jobs[job.id] = job
            try:
                send_message(self.sock, {**body, "op": "run", "job": job.id, "nfds": len(theirs)},
                             theirs)
            except OSError as exc:
                self.dead = True
                raise SandboxError(f"the {self.framework} sandbox stopped: {exc}") from None
            finally:
                for fd in theirs:
                    os.close(fd)
        return job

    def kill(self, job_id: int) -> None:
        self.send({"op": "kill", "job": job_id})

    def send(self, body: dict[str, Any]) -> None:
        with self._lock:
            if self.dead:
                return
            try:
                send_message(self.sock, body)
            except OSError:
                self.dead = True

    def forget(self, job_id: int) -> None:
        with self._lock:
            self._jobs.pop(job_id, None)

    def close(self) -> None:
        self.dead = True
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        try:
            self.proc.wait(timeout=EXIT_WAIT)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self._stderr.close()


def _close_all(zygotes: dict[str, ZygoteProcess]) -> None:
    for zygote in zygotes.values():
        zygote.close()
    zygotes.clear()


class Sandbox:
    """The warm zygotes of one Grader (lazily started, one per framework), and the jobs."""

    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config or SandboxConfig()
        self._zygotes: dict[str, ZygoteProcess] = {}
        self._lock = threading.Lock()
        self.notes: list[str] = []
        self.bwrap_active = self._want_bwrap()
        self._turns = Turns()
        self.cgroup = cgroup.detect()
        # a Sandbox dropped without close() still stops its zygotes
        weakref.finalize(self, _close_all, self._zygotes)

    def _want_bwrap(self) -> bool:
        use = self.config.use_bwrap
        if use is False:
            return False
        state = bwrap.status()
        if not state.working:
            if use:
                raise SandboxError(f"bwrap was asked for but is {state.detail}")
            self.notes.append(f"sandbox: bwrap {state.detail}; graded without its file-system, "
                              "network and pid isolation (see dlgrade doctor)")
            return False
        return True

    def hidden_paths(self) -> list[Path]:
        return [self.config.root / "reference", self.config.root / "grader" / "specs",
                *self.config.hide]

    def zygote(self, framework: str) -> ZygoteProcess:
        with self._lock:
            zygote = self._zygotes.get(framework)
            if zygote is None or zygote.dead:
                if zygote is not None:
                    zygote.close()
                prefix = None
                if self.bwrap_active:
                    prefix, notes = bwrap.command(root=self.config.root, hide=self.hidden_paths(),
                                                  writable=[self.cgroup.parent] if self.cgroup.usable else [])
                    self.notes.extend(n for n in notes if n not in self.notes)
                zygote = ZygoteProcess(framework, self.config, prefix, self.cgroup.parent)
                self._zygotes[framework] = zygote
            return zygote

    def close(self) -> None:
        with self._lock:
            _close_all(self._zygotes)

    # ------------------------------------------------------------------ one submission

    def run(self, *, framework: str, assignment: str, source: str, filename: str,
            cases: Sequence[CaseRequest], import_timeout: float, protect: Iterable[Path] = (),
            cuda: bool = False, while_running: Callable[[], None] | None = None,
            cuda_device: str | None = None) -> dict[str, CaseOutcome]:
        """Every case's outcome. Never raises for anything the student's code does.

        `cuda_device`: with cuda, the one device the child sees (the caller holds its lease,
        grader.sandbox.gpu_lease).

        Fairness: a case that timed out while other children were running is run again,
        alone (no other child runs meanwhile), before it is failed; a child that died of an
        infrastructure cause before the student's code ran (its source could not be
        written, the zygote went away) is started again, and after INFRA_ATTEMPTS such
        deaths this raises SandboxError: the submission is not graded, never given a 0.

        `while_running` is called once, as soon as the first child has been asked for: work
        the caller overlaps with the child's (the reference's expected outputs).
        """
        outcomes: dict[str, CaseOutcome] = {}
        protect_all = [str(p) for p in [*self.hidden_paths(), *protect]]
        pending = list(cases)
        alone = False
        infra_deaths = 0
        while pending:
            body = {"assignment": assignment, "module": Path(filename).stem, "filename": filename,
                    "source": source, "protect": protect_all, "cuda": cuda,
                    "cuda_device": cuda_device,
                    "limits": asdict(self.config.limits),
                    "cpu_seconds": import_timeout + sum(c.timeout for c in pending),
                    "cases": [{"name": c.name, "harness": c.harness, "params": c.params,
                               "inputs": c.inputs} for c in pending], "keeper": True}
            with self._turns.exclusive() if alone else self._turns.shared():
                job = self._start(framework, body)
                try:
                    if while_running is not None:
                        while_running()
                        while_running = None  # once, for the first child only
                    end = self._drive(job, pending, outcomes, import_timeout, alone)
                finally:
                    job.finish()
            if end.infrastructure:
                infra_deaths += 1
                if infra_deaths >= INFRA_ATTEMPTS:
                    raise SandboxError(f"the sandbox failed {infra_deaths} times to run this "
                                       f"submission: {end.infrastructure}")
            elif end.contended is not None:  # run that case (and its target) again, alone
                target = end.contended.target
                for c in pending:
                    if c.target == target:
                        outcomes.pop(c.name, None)
                alone = True
            pending = [c for c in pending if c.name not in outcomes]
        return outcomes

    def _start(self, framework: str, body: dict[str, Any]) -> Job:
        for attempt in range(2):  # a zygote that died since the last job is replaced once
            zygote = self.zygote(framework)
            try:
                return zygote.start(body, codec.MAX_MESSAGE_BYTES)
            except SandboxError:
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def probe(self, framework: str = "numpy", paths: Sequence[str] = ()) -> dict[str, Any]:
        """Facts a child reports about its own confinement (for `dlgrade doctor`)."""
        body = {"assignment": "", "module": "probe", "filename": "probe.py", "source": "",
                "protect": [str(p) for p in self.hidden_paths()], "cuda": False,
                "limits": asdict(self.config.limits),
                "cpu_seconds": 10, "cases": [], "probe": True, "probe_paths": list(paths)}
        job = self._start(framework, body)
        try:
            message = job.read(time.monotonic() + 30)
        finally:
            job.finish()
        facts = message.get("facts", {}) if isinstance(message, dict) else {}
        return facts | {"zygote": self.zygote(framework).info}

    def _drive(self, job: Job, pending: list[CaseRequest], outcomes: dict[str, CaseOutcome],
               import_timeout: float, alone: bool) -> DriveEnd:
        def fail_all(reason: str, output: str = "") -> DriveEnd:
            for c in pending:
                outcomes.setdefault(c.name, CaseOutcome(c.name, False, error=reason, output=output))
            return DriveEnd()

        start = time.monotonic()
        started = False  # the child's set-up is over: from here on, its deaths are the student's
        try:
            message = job.read(start + import_timeout)
            started = isinstance(message, dict) and message.get("kind") == "started"
            if not started:
                job.kill()
                return fail_all("the submission's process sent malformed data while being imported")
            message = job.read(start + import_timeout)
        except Timeout:
            job.kill()
            if not started:
                return DriveEnd(infrastructure="the child's set-up did not finish in time")
            return fail_all(f"importing the submission timed out after {import_timeout:g} s")
        except Closed:
            info = job.wait_exit()
            if not started or job.zygote.dead:
                return DriveEnd(infrastructure=describe_exit(info))
            return fail_all(f"the submission died while being imported: {describe_exit(info)}")
        except codec.CodecError:
            job.kill()
            return fail_all("the submission's process sent malformed data while being imported")
        kind = message.get("kind") if isinstance(message, dict) else None
        if kind == "import_error":
            return fail_all(f"could not import the submission: {_text(message.get('error'))}",
                            printed(message.get("output")))
        if kind != "imported":
            job.kill()
            return fail_all("the submission's process sent malformed data while being imported")

        keeper = message.get("keeper") is True  # it keeps its import: a timeout costs no re-import
        for case in pending:
            if case.name in outcomes:
                continue  # failed with its target (fail fast)
            began = time.monotonic()
            turns_before = self._turns.started
            try:
                message = _next_result(job, began + case.timeout, outcomes)
            except Timeout:
                if not alone and (self._turns.started != turns_before or self._turns.running > 1):
                    job.kill()
                    return DriveEnd(contended=case)  # others ran meanwhile: again, alone
                _fatal(case, pending, outcomes, f"timed out after {case.timeout:g} s"
                       + (" (run again with no other submission beside it)" if alone else ""),
                       time.monotonic() - began)
                rest = [c.name for c in pending if c.name not in outcomes]
                if keeper and rest and job.resume(rest):
                    continue  # the same child, a fresh runner: the import is not paid again
                job.kill()
                return DriveEnd()
            except Closed:
                info = job.wait_exit()
                if job.zygote.dead:
                    return DriveEnd(infrastructure=f"the zygote went away ({describe_exit(info)})")
                _fatal(case, pending, outcomes, describe_exit(info), time.monotonic() - began)
                return DriveEnd()
            except codec.TooLarge as exc:
                job.kill()
                outcomes[case.name] = CaseOutcome(case.name, False, error=str(exc),
                                                  seconds=time.monotonic() - began)
                return DriveEnd()  # the other cases get a fresh child
            except codec.CodecError as exc:
                job.kill()
                outcomes[case.name] = CaseOutcome(case.name, False, seconds=time.monotonic() - began,
                                                  error=f"{MALFORMED}: {_text(str(exc))}")
                return DriveEnd()
            outcomes[case.name] = _outcome(case, message, time.monotonic() - began)
            if outcomes[case.name].error.startswith(MALFORMED):
                job.kill()
                return DriveEnd()
        return DriveEnd()


def printed(value: Any, limit: int = 4000) -> str:
    """What a child says its code printed, made safe for a terminal, HTML or SQLite: text only,
    no control sequences (tabs and newlines kept), capped."""
    if not isinstance(value, str):
        return ""
    value = value[:limit]
    return "".join(ch if ch.isprintable() or ch in "\n\t" else "?" for ch in value)


def _next_result(job: Job, deadline: float, outcomes: dict[str, CaseOutcome]) -> Any:
    """The next message, past the late answers of cases already decided (a runner ended for a
    timeout may have sent its answer just after the deadline)."""
    while True:
        message = job.read(deadline)
        if not (isinstance(message, dict) and message.get("kind") == "result"
                and isinstance(message.get("case"), str) and message["case"] in outcomes):
            return message


def _text(value: Any, limit: int = codec.MAX_TEXT) -> str:
    return codec.clean_text(value if isinstance(value, str) else repr(value)[:limit], limit)


MALFORMED = "malformed answer"


def _outcome(case: CaseRequest, message: Any, waited: float) -> CaseOutcome:
    """A case's result message, validated; whatever it holds, never an exception here."""
    try:
        return _validated_outcome(case, message, waited)
    except Exception as exc:  # noqa: BLE001  a datum crafted to break the checks below
        return CaseOutcome(case.name, False, error=f"{MALFORMED} ({type(exc).__name__})", seconds=waited)


def _validated_outcome(case: CaseRequest, message: Any, waited: float) -> CaseOutcome:
    if (not isinstance(message, dict) or message.get("kind") != "result"
            or message.get("case") != case.name or type(message.get("ok")) is not bool):
        return CaseOutcome(case.name, False, error=f"{MALFORMED}: not a result of this case",
                           seconds=waited)
    reported = message.get("seconds")
    seconds = waited
    if type(reported) is float and math.isfinite(reported):  # a JSON int of any size: ignored
        seconds = reported
    seconds = min(max(seconds, 0.0), case.timeout)
    output = printed(message.get("output"))
    if not message["ok"]:
        return CaseOutcome(case.name, False, error=_text(message.get("error")), seconds=seconds,
                           output=output)
    try:
        value = codec.from_jsonable(message.get("value"))
    except codec.CodecError as exc:
        return CaseOutcome(case.name, False, seconds=seconds, output=output,
                           error=f"{MALFORMED}: {_text(str(exc))}")
    return CaseOutcome(case.name, True, value=value, seconds=seconds, output=output)


def _fatal(case: CaseRequest, pending: list[CaseRequest], outcomes: dict[str, CaseOutcome],
           reason: str, seconds: float) -> None:
    """`case` timed out or crashed: it fails, and so does the rest of its target, unrun."""
    outcomes[case.name] = CaseOutcome(case.name, False, error=reason, seconds=seconds)
    for other in pending:
        if other.target == case.target and other.name not in outcomes:
            outcomes[other.name] = CaseOutcome(
                other.name, False, error=f"not run: {case.target} {reason} in case {case.name}")
