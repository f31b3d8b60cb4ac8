"""`dlgrade doctor`: versions, CUDA, bwrap, and which sandbox layers are really active
(grader.ui.doctor shows the diagnosis).

The layers are not guessed from the configuration: a probe child is forked exactly as a
submission's would be, and reports what it can see of its own confinement.
"""

from __future__ import annotations

import platform
import sys
from dataclasses import dataclass, field
from typing import Any

import numpy

from grader.catalog import REFERENCE_DIR
from grader.grading.cuda import cuda_available
from grader.sandbox import bwrap
from grader.sandbox.limits import MB
from grader.sandbox.policy import MAX_FILES
from grader.sandbox.pool import Sandbox, SandboxConfig, SandboxError


@dataclass
class Layer:
    name: str
    active: bool
    detail: str


@dataclass
class Diagnosis:
    versions: list[tuple[str, str]] = field(default_factory=list)
    layers: list[Layer] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _versions() -> list[tuple[str, str]]:
    rows = [("python", f"{platform.python_version()} ({sys.executable})"), ("numpy", numpy.__version__)]
    try:
        import torch  # here: an optional check, and torch takes seconds to import
    except ImportError:
        return rows + [("torch", "not installed"), ("CUDA", "no (torch is not installed)")]
    rows.append(("torch", torch.__version__))
    if cuda_available():
        names = ", ".join(torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count()))
        rows.append(("CUDA", f"yes: CUDA {torch.version.cuda}, {names}"))
    else:
        built = f"torch built for CUDA {torch.version.cuda}" if torch.version.cuda else "CPU-only torch"
        rows.append(("CUDA", f"no ({built}; GPU cases are skipped)"))
    return rows


def _layers(facts: dict[str, Any], bwrap_on: bool, bwrap_detail: str) -> list[Layer]:
    zygote = facts.get("zygote", {})
    limits = facts.get("limits", {})
    memory = limits.get("memory_budget_bytes", 0)
    layers = [
        Layer("process isolation", facts.get("pid") not in (None, 0),
              "each submission in its own child process and session, forked from a warm zygote"),
        Layer("resource limits", bool(limits),
              f"memory {memory / MB:.0f} MB above the warm start, CPU {limits.get('cpu_seconds', '?')} s, file size "
              f"{limits.get('file_size_bytes', 0) / MB:.0f} MB, {limits.get('processes', '?')} "
              "processes, no core dumps; wall-clock timeout per case kills the process group"),
        Layer("audit hook", bool(facts.get("audit_hook")),
              "refuses reading reference/ and protected paths, writing outside the child's folder, "
              "network, starting programs, native libraries"),
        Layer("uid drop", bool(zygote.get("uid_drop")) and facts.get("uid") not in (None, 0),
              f"runs as uid {facts.get('uid')}, a uid of its own; its processes are killed by uid"
              if zygote.get("uid_drop") else f"off: {zygote.get('uid_drop_off') or 'unknown'}"),
    ]
    cgroup_detail = facts.get("cgroup_detail", "")
    layers += [
        Layer("private /tmp per submission", bool(zygote.get("private_tmp")),
              "a size- and inode-capped tmpfs of its own, in its own mount namespace: files however "
              "opened (O_TMPFILE too) count against it; no neighbour can fill or read it"
              if zygote.get("private_tmp") else
              "off (needs root or bwrap): a folder of its own under a shared /tmp, at most "
              f"{MAX_FILES} files of RLIMIT_FSIZE each, counted by the audit hook"),
        Layer("cgroup v2: memory and processes per submission", bool(zygote.get("cgroup")),
              f"{cgroup_detail}: memory.max counts shared memory, memfds, tmpfs and every process "
              "of the submission as one; pids.max counts its processes and threads"
              if zygote.get("cgroup") else
              f"off: {cgroup_detail or 'unknown'}. Instead: RLIMIT_AS/RLIMIT_DATA per process, "
              "RLIMIT_NPROC per uid, the private /tmp's quota, memfd_create and POSIX shared memory "
              "withdrawn. Not counted as one: the memory of several processes of one submission "
              "(at most RLIMIT_NPROC x RLIMIT_AS)"),
    ]
    hidden = facts.get("probe_paths_hidden") or [False]
    layers += [
        Layer("bwrap: allow-list file system", bwrap_on and bool(facts.get("read_only_root")),
              "read-only; only the Python installation, the sandbox, the public harness and "
              "assignments/datasets.py are mounted: no course tree, .git, examples, homes"
              if bwrap_on else bwrap_detail),
        Layer("bwrap: reference/, specs and protected paths absent", bwrap_on and all(hidden),
              "not mounted at all (the gradebook and submissions too)" if bwrap_on else bwrap_detail),
        Layer("bwrap: no network", bwrap_on and facts.get("network_interfaces") == ["lo"],
              "own network namespace (loopback only, down)" if bwrap_on else bwrap_detail),
        Layer("bwrap: pid namespace", bwrap_on and facts.get("pid1") == "bwrap",
              "own pid namespace: stray processes die with the zygote" if bwrap_on else bwrap_detail),
    ]
    return layers


def sandbox_layers(sandbox: Any) -> list[Layer]:
    """The layers active in a running grader.sandbox.pool.Sandbox, probed by a child."""
    state = bwrap.status()
    probe_paths = [str(REFERENCE_DIR)] if REFERENCE_DIR.is_dir() else []
    facts = sandbox.probe("numpy", probe_paths)
    facts["cgroup_detail"] = sandbox.cgroup.detail
    if not probe_paths:  # a student release: nothing to hide, and nothing hidden
        facts["probe_paths_hidden"] = [True]
    return _layers(facts, sandbox.bwrap_active, f"off: bwrap {state.detail}")


def diagnose() -> Diagnosis:
    diagnosis = Diagnosis(versions=_versions())
    probe_sandbox(diagnosis, warn_weak_mode=True)
    return diagnosis


def probe_sandbox(diagnosis: Diagnosis, *, warn_weak_mode: bool) -> None:
    """Add bwrap's state to the versions and the sandbox layers a child reports; a child that
    cannot start is a problem, with every layer shown off. A grading worker leaves out the
    weak-mode warning: whether a class may be graded without bwrap is the coordinator's call."""
    state = bwrap.status()
    diagnosis.versions.append(("bwrap", f"{state.path}: {'working' if state.working else ''} "
                                        f"{state.detail}" if state.path else state.detail))
    sandbox = Sandbox(SandboxConfig(use_bwrap=None))
    if warn_weak_mode and not sandbox.bwrap_active:
        diagnosis.problems.append(f"without bwrap, {bwrap.WEAK_MODE_LOSSES}. grade-batch (and grade "
                                  f"of a folder) refuse to grade a class unless given "
                                  f"{bwrap.WEAK_MODE_FLAG}")
    try:
        diagnosis.layers = sandbox_layers(sandbox)
    except SandboxError as exc:
        diagnosis.problems.append(str(exc))
        diagnosis.layers = _layers({}, sandbox.bwrap_active, f"off: bwrap {state.detail}")
    finally:
        sandbox.close()
