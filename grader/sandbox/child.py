"""The sandboxed child: forked from a zygote, runs one submission's cases, then exits.

Order matters. Everything up to the audit hook is trusted code running as the zygote's
user: a session of its own, descriptor hygiene, a private folder holding the source,
output redirected to a capped file there, inputs decoded, resource limits, the uid drop.
Then the hook goes in and the student's module is imported; from that moment the process
is the student's, and all that leaves it is what it writes on the result pipe (fd 3),
which the trusted process treats as untrusted data. A case arrives as the name of a public
harness function (grader.sandbox.harness), its parameters and its inputs, all plain data: the
child never sees a spec, a check, a threshold or a withheld input.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import select
import signal
import sys
import tempfile
import time
import traceback
import types
from dataclasses import dataclass, field
from typing import Any, NoReturn

from grader.sandbox import codec, harness, policy, tmpfs
from grader.sandbox import limits as limits_mod
from grader.sandbox.protocol import frame, write_all

RESULT_FD = 3
CONTROL_FD = 4  # orders from the trusted process to a child that keeps its import (_keep)
KEEP_IMPORT_SECONDS = 0.05  # imports at least this slow are kept, and the cases run in a runner
OUTPUT_CAP = 1 << 20  # what print() may leave in the output file; the rest is dropped
CASE_OUTPUT_CAP = 4000  # what print() during one case is sent back with its result, for the student
MAX_ERROR_CHARS = 2000


@dataclass
class ChildContext:
    """What the zygote knows that a child needs."""

    tmp_root: str
    framework: str
    library_dirs: list[str]
    limits: limits_mod.Limits = field(default_factory=limits_mod.Limits)
    uid: int | None = None  # the uid of its own, when the zygote is root
    workdir: str = ""  # the child's private folder, made by the zygote (no private /tmp)
    private_tmp: bool = False  # each child mounts a tmpfs of its own on /tmp
    cgroup: str = ""  # the child's own control group (cgroup v2), made by the zygote


class CaseOutput:
    """What print() wrote during the current case: the first CASE_OUTPUT_CAP characters."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.room = CASE_OUTPUT_CAP

    def add(self, text: str) -> None:
        if self.room > 0 and text:
            piece = text[: self.room]
            self.parts.append(piece)
            self.room -= len(piece)

    def clear(self) -> None:
        self.parts.clear()
        self.room = CASE_OUTPUT_CAP

    def text(self) -> str:
        return "".join(self.parts)


class CappedText(io.TextIOBase):
    """sys.stdout / sys.stderr: the first OUTPUT_CAP characters go to the file, the rest nowhere.

    Printing never fails and never costs points; the output is never parsed.
    """

    def __init__(self, fd: int, budget: list[int], case_output: CaseOutput | None = None) -> None:
        self._fd = fd
        self._budget = budget  # shared by stdout and stderr
        self._case_output = case_output  # what the current case printed (capped), shared too

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if self._case_output is not None and isinstance(text, str):
            self._case_output.add(text)
        if self._budget[0] > 0:
            piece = text[: self._budget[0]]
            self._budget[0] -= len(piece)
            try:
                write_all(self._fd, piece.encode("utf-8", "replace"))
            except OSError:
                self._budget[0] = 0
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def _send(body: dict[str, Any]) -> None:
    write_all(RESULT_FD, frame(body))


def _clip(text: str) -> str:
    return codec.clean_text(text, MAX_ERROR_CHARS)


def _where(exc: BaseException, filename: str) -> str:
    """' — losses.py line 42, in mse': the last frame in the student's own file."""
    try:
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == filename]
    except Exception:  # a traceback built to break extract_tb
        return ""
    if not frames:
        return ""
    last = frames[-1]
    return f" — {os.path.basename(filename)} line {last.lineno}, in {last.name}"


def _type_name(cls: type) -> str:
    """The class's real name, whatever its metaclass says its __name__ is."""
    return type.__dict__["__name__"].__get__(cls, type)


def describe(exc: BaseException, filename: str) -> str:
    """A student-readable reason for an exception that escaped the student's code."""
    try:
        kind = _type_name(type(exc))
        if isinstance(exc, SystemExit):
            return f"called sys.exit({exc.code!r})"
        if isinstance(exc, MemoryError):
            return "ran out of memory (MemoryError)" + _where(exc, filename)
        if isinstance(exc, NotImplementedError):
            detail = f": {exc}" if str(exc) else ""
            return f"not implemented (NotImplementedError{detail}){_where(exc, filename)}"
        if isinstance(exc, policy.SandboxViolation):
            return f"refused by the sandbox: {exc}{_where(exc, filename)}"
        text = str(exc)
        return f"raised {kind}{': ' + text if text else ''}{_where(exc, filename)}"
    except BaseException:  # noqa: BLE001  a __str__ that raises, or worse
        return f"raised {_type_name(type(exc))} (its message could not be read)"


def _import_student(source: str, path: str, name: str) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__file__ = path
    sys.modules[name] = module
    code = compile(source, path, "exec", dont_inherit=True)
    exec(code, module.__dict__)
    return module


def _set_up(job: dict[str, Any], ctx: ChildContext, limits: limits_mod.Limits) -> tuple[str, str]:
    """Trusted set-up, as the zygote's user; returns (workdir, the module's path)."""
    os.setsid()
    signal.set_wakeup_fd(-1)
    for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)

    if ctx.cgroup:  # first: everything from here on is counted in the submission's group
        from grader.sandbox import cgroup

        cgroup.enter(ctx.cgroup)
    if ctx.private_tmp:
        # what the child imports from stays visible even where the course lies under /tmp
        code = tuple(p for p in sys.path if p.startswith(tmpfs.MOUNT_POINT + "/"))
        workdir = tmpfs.mount_private_tmp(limits.tmp_mb * limits_mod.MB, limits.tmp_files,
                                          ctx.uid, keep=code)
    else:
        workdir = ctx.workdir
    path = os.path.join(workdir, job["filename"])
    with open(path, "w", encoding="utf-8") as f:
        f.write(job["source"])
    output = os.open(os.path.join(workdir, "output.txt"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(output, 1)
    os.dup2(output, 2)
    os.close(devnull)
    os.close(output)
    if ctx.uid is not None:
        for p in (workdir, path, os.path.join(workdir, "output.txt")):
            os.chown(p, ctx.uid, ctx.uid)

    os.chdir(workdir)
    os.environ.update({"HOME": workdir, "TMPDIR": workdir, "MPLCONFIGDIR": workdir,
                       "PYTHONDONTWRITEBYTECODE": "1"})
    tempfile.tempdir = workdir
    return workdir, path


def probe_facts(applied: dict[str, int], ctx: ChildContext, job: dict[str, Any]) -> dict[str, Any]:
    """What this child can see of its own confinement (for `dlgrade doctor`)."""
    facts: dict[str, Any] = {"uid": os.getuid(), "pid": os.getpid(), "limits": applied}
    try:
        facts["read_only_root"] = bool(os.statvfs("/").f_flag & os.ST_RDONLY)
    except OSError:
        facts["read_only_root"] = False
    try:
        import socket

        facts["network_interfaces"] = [name for _, name in socket.if_nameindex()]
    except OSError:
        facts["network_interfaces"] = []
    try:
        with open("/proc/1/comm") as comm:
            facts["pid1"] = comm.read().strip()
    except OSError:
        facts["pid1"] = ""
    hidden = []
    for path in job.get("probe_paths", []):
        try:
            hidden.append(not os.path.exists(path) or os.listdir(path) == [])
        except OSError:
            hidden.append(True)
    facts["probe_paths_hidden"] = hidden
    return facts


def run_child(job: dict[str, Any], result_fd: int, ctx: ChildContext,
              control_fd: int | None = None) -> NoReturn:
    """Never returns: ends in os._exit, so nothing of the zygote's runs after the student's code."""
    code = 0
    try:
        os.dup2(result_fd, RESULT_FD)
        if control_fd is not None:
            os.dup2(control_fd, CONTROL_FD)
        os.closerange((CONTROL_FD if control_fd is not None else RESULT_FD) + 1, 1 << 16)
        limits = limits_mod.Limits(**job["limits"]) if job.get("limits") else ctx.limits
        workdir, path = _set_up(job, ctx, limits)
        cases = [(c["name"], codec.from_jsonable(c["inputs"])) for c in job["cases"]]
        # the harness functions, looked up before the student's code can replace any of them
        runs: dict[str, Any] = {}
        for c in job["cases"]:
            try:
                function = harness.resolve(c["harness"])
                params = codec.from_jsonable(c.get("params") or {})
                runs[c["name"]] = (lambda f, p: lambda m, i: f(m, i, **p))(function, params)
            except (harness.UnknownHarness, codec.CodecError, TypeError) as exc:
                runs[c["name"]] = exc
        cuda = bool(job.get("cuda"))
        if cuda and job.get("cuda_device") is not None:  # the leased GPU only; CUDA is not
            os.environ["CUDA_VISIBLE_DEVICES"] = str(job["cuda_device"])  # initialised yet
        applied = limits_mod.apply_limits(limits, cpu_seconds=float(job["cpu_seconds"]),
                                          cuda=cuda, own_uid=ctx.uid is not None)
        if ctx.uid is not None:
            limits_mod.drop_to_uid(ctx.uid)  # clears every capability too
        else:
            limits_mod.drop_capabilities()
        limits_mod.no_new_privileges()
        limits_mod.die_with_parent()
        budget = [OUTPUT_CAP]
        printed = CaseOutput()  # emptied before each case; sent back with its result
        sys.stdout = sys.__stdout__ = CappedText(1, budget, printed)
        sys.stderr = sys.__stderr__ = CappedText(2, budget, printed)
        if job.get("probe"):
            facts = probe_facts(applied, ctx, job)
        _withdraw_escapes()
        gate = [False]  # open only while this trusted code forks or ends a runner (_keep)
        policy.install(workdir=workdir, protected=[*job["protect"], ctx.tmp_root],
                       allow_fork=ctx.uid is not None, library_dirs=ctx.library_dirs,
                       own_pid=os.getpid(), gate=gate)
        if job.get("probe"):
            facts["audit_hook"] = _audit_refuses(job.get("probe_paths", []))
            _send({"kind": "probe", "facts": facts})
            return _exit(0)

        _send({"kind": "started"})  # the set-up is over: what follows is the student's
        # ---- from here on, the process belongs to the student's code
        began = time.perf_counter()
        try:
            module = _import_student(job["source"], path, job["module"])
        except BaseException as exc:  # noqa: BLE001  SystemExit and KeyboardInterrupt too
            _send({"kind": "import_error", "error": _clip(describe(exc, path)), "output": printed.text()})
            return _exit(0)
        # an import cheaper than forking a runner is simply paid again after a timeout
        if not job.get("keeper") or time.perf_counter() - began < KEEP_IMPORT_SECONDS:
            _send({"kind": "imported"})
            _run_cases(cases, runs, module, path, printed)
            return _exit(0)
        _send({"kind": "imported", "keeper": True})
        _keep(cases, runs, module, path, gate, printed)
    except BaseException:  # noqa: BLE001  a failure of the set-up itself (trusted code)
        code = 70
        with contextlib.suppress(BaseException):
            os.write(2, traceback.format_exc().encode())
    _exit(code)


# functions with no audit event that would let a child leave its session (and so the kill
# of its session), or hold memory no limit counts (memfds, POSIX shared memory)
_WITHDRAWN = {"os": ("setsid", "setpgid", "setpgrp", "memfd_create"),
              "posix": ("setsid", "setpgid", "setpgrp", "memfd_create"),
              "_posixshmem": ("shm_open",)}


def _withdraw_escapes() -> None:
    for module_name, names in _WITHDRAWN.items():
        module = sys.modules.get(module_name)
        if module is None and module_name == "_posixshmem":
            with contextlib.suppress(ImportError):
                import _posixshmem as module  # type: ignore[no-redef]
        for name in names:
            with contextlib.suppress(AttributeError):
                delattr(module, name)


def _run_cases(cases: list[tuple[str, Any]], runs: dict[str, Any], module: types.ModuleType,
               path: str, printed: CaseOutput) -> None:
    for name, inputs in cases:
        printed.clear()
        start = time.perf_counter()
        body: dict[str, Any] = {"kind": "result", "case": name, "ok": False}
        run = runs[name]
        if isinstance(run, Exception):  # the grader's fault, said as such
            body |= {"error": _clip(f"the grader could not load this case: {run!r}"), "seconds": 0.0,
                     "output": ""}
            _send(body)
            continue
        try:
            value = run(module, inputs)
        except BaseException as exc:  # noqa: BLE001
            body["error"] = _clip(describe(exc, path))
        else:
            try:
                body |= {"ok": True, "value": codec.to_jsonable(value)}
            except codec.TooLarge as exc:
                body["error"] = _clip(str(exc))
            except BaseException as exc:  # noqa: BLE001
                body["error"] = _clip(f"returned something that is not plain data: {exc}")
        body["seconds"] = time.perf_counter() - start
        body["output"] = printed.text()
        try:
            _send(body)
        except (ValueError, OverflowError) as exc:  # e.g. a value JSON cannot hold
            _send({"kind": "result", "case": name, "ok": False,
                   "error": _clip(f"returned data that cannot be sent back: {exc}"),
                   "seconds": body["seconds"]})
    _send({"kind": "done"})


def _keep(cases: list[tuple[str, Any]], runs: dict[str, Any], module: types.ModuleType,
          path: str, gate: list[bool], printed: CaseOutput) -> NoReturn:
    """The imported submission stays here; a forked runner runs the cases. When a case times
    out, the trusted process names the cases still to run on CONTROL_FD: this process ends
    that runner and forks another, so the import is paid once per submission, not once per
    timeout. A runner that ends otherwise ends this process the same way."""
    remaining = cases
    while True:
        gate[0] = True
        try:
            runner = os.fork()
        finally:
            gate[0] = False
        if runner == 0:
            _run_cases(remaining, runs, module, path, printed)
            _exit(0)
        order = _await_runner(runner, gate)
        by_name = dict(cases)
        remaining = [(name, by_name[name]) for name in order if name in by_name]


def _await_runner(runner: int, gate: list[bool]) -> list[str]:
    """The cases to run next when the trusted process asks for them; otherwise, once the
    runner has ended, end as it did (its exit code, or its signal)."""
    buffer = b""
    while True:
        ready, _, _ = select.select([CONTROL_FD], [], [], 0.02)
        if ready:
            chunk = os.read(CONTROL_FD, 1 << 16)
            buffer += chunk
            if b"\n" in buffer or not chunk:
                try:
                    order = json.loads(buffer.split(b"\n", 1)[0]) if chunk else None
                except ValueError:
                    order = None
                gate[0] = True
                try:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(runner, signal.SIGKILL)
                    os.waitpid(runner, 0)
                finally:
                    gate[0] = False
                if not isinstance(order, list):
                    _exit(0)
                return [name for name in order if isinstance(name, str)]
        done, status = os.waitpid(runner, os.WNOHANG)
        if done:
            if os.WIFSIGNALED(status):
                os.kill(os.getpid(), os.WTERMSIG(status))
            _exit(os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 1)


def _audit_refuses(paths: list[str]) -> bool:
    """True when the installed hook refuses to open the first probe path."""
    if not paths:
        return False
    try:
        open(paths[0]).close()  # noqa: SIM115
    except policy.SandboxViolation:
        return True
    except OSError:
        return False
    return False


def _exit(code: int) -> NoReturn:
    os._exit(code)
