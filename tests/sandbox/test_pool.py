"""The sandbox itself (grader.sandbox), on a toy assignment (tests/data/toy_specs.py).

Fail fast per target with a fresh child for the rest, threads sharing one warm zygote,
a zygote that dies and is replaced, and children that lie on their result pipe.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from proc_helpers import descendants

from grader.grading.case import case_rng
from grader.sandbox import codec
from grader.sandbox.pool import CaseRequest, Sandbox, SandboxConfig, describe_exit

DATA = Path(__file__).resolve().parents[1] / "data"
sys.path.insert(0, str(DATA))
import toy_specs  # noqa: E402

SPEC = toy_specs.load_spec("toy")
RIGHT = """
import numpy as np
def add(a, b): return a + b
def scale(x, k): return x * k
def total(x): return float(np.sum(x))
"""


CRASHING_ADD = RIGHT + "\ndef add(a, b):\n    import os, signal\n    os.kill(os.getpid(), signal.SIGABRT)\n"


def requests(student: str = "ann", timeout: float = 2.0) -> list[CaseRequest]:
    return [CaseRequest(c.name, c.target, codec.to_jsonable(c.make_inputs(case_rng(student, "toy", c.name))),
                        timeout, c.run.name, codec.to_jsonable(c.run.params)) for c in SPEC.cases]


def expected(student: str = "ann") -> dict[str, object]:
    return {c.name: c.run(toy_specs.Reference, c.make_inputs(case_rng(student, "toy", c.name)))
            for c in SPEC.cases}


@pytest.fixture(scope="module")
def sandbox():
    box = Sandbox(SandboxConfig())
    yield box
    box.close()


def run(sandbox: Sandbox, source: str, student: str = "ann", timeout: float = 2.0):
    return sandbox.run(framework="numpy", assignment="toy", source=source, filename="toy.py",
                       cases=requests(student, timeout), import_timeout=5.0)


def test_a_right_submission_returns_every_value(sandbox):
    outcomes = run(sandbox, RIGHT)
    want = expected()
    assert list(outcomes) == [c.name for c in SPEC.cases]
    for name, outcome in outcomes.items():
        assert outcome.ok, outcome.error
        assert SPEC.case(name).judge(outcome.value, want[name]).passed


def test_fail_fast_per_target_and_a_fresh_child_for_the_others(sandbox):
    looping = RIGHT + "\ndef scale(x, k):\n    while True:\n        pass\n"
    start = time.monotonic()
    outcomes = run(sandbox, looping, timeout=1.0)
    assert time.monotonic() - start < 1.0 + 2.0  # one timeout, not one per scale case
    assert outcomes["scale_1"].error == "timed out after 1 s"
    assert outcomes["scale_2"].error == "not run: scale timed out after 1 s in case scale_1"
    # total_1 comes after the timeout: it ran in a fresh child
    assert all(outcomes[n].ok for n in ("add_1", "add_2", "total_1"))


def test_overlapped_work_starts_once_after_the_child_was_asked_for(sandbox):
    """`while_running` (the expected outputs) runs once the job is out, even with two children."""
    zygote = sandbox.zygote("numpy")
    calls: list[int] = []
    outcomes = sandbox.run(framework="numpy", assignment="toy", source=CRASHING_ADD, filename="toy.py",
                           cases=requests(), import_timeout=5.0,
                           while_running=lambda: calls.append(zygote._next))
    assert outcomes["add_1"].error == "crashed with SIGABRT (aborted)"
    assert all(outcomes[n].ok for n in ("scale_1", "scale_2", "total_1"))  # in a second child
    assert len(calls) == 1 and calls[0] == zygote._next - 1  # after the first job, before the second


def test_a_crash_is_reported_with_its_signal(sandbox):
    outcomes = run(sandbox, CRASHING_ADD)
    assert outcomes["add_1"].error == "crashed with SIGABRT (aborted)"
    assert outcomes["add_2"].error.startswith("not run: add crashed with SIGABRT")
    assert all(outcomes[n].ok for n in ("scale_1", "scale_2", "total_1"))


def test_threads_share_the_warm_zygote(sandbox):
    students = [f"s{i}" for i in range(6)]
    results: dict[str, dict] = {}

    def grade(student: str) -> None:
        results[student] = run(sandbox, RIGHT, student)

    threads = [threading.Thread(target=grade, args=(s,)) for s in students]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for student in students:  # each got the answers for its own inputs
        want = expected(student)
        for name, outcome in results[student].items():
            assert outcome.ok and SPEC.case(name).judge(outcome.value, want[name]).passed


def test_a_dead_zygote_is_replaced(sandbox):
    zygote = sandbox.zygote("numpy")
    os.killpg(zygote.proc.pid, signal.SIGKILL)
    zygote.proc.wait(10)
    deadline = time.monotonic() + 5
    while not zygote.dead and time.monotonic() < deadline:
        time.sleep(0.05)
    assert zygote.dead
    outcomes = run(sandbox, RIGHT)
    assert all(o.ok for o in outcomes.values())
    assert sandbox.zygote("numpy") is not zygote


@pytest.mark.parametrize(("forgery", "phrase"), [
    # garbage on the result pipe
    ("os.write(3, b'\\x00' * 8 + b'junk')", "malformed answer"),
    # a header announcing a terabyte
    ("os.write(3, (1 << 40).to_bytes(8, 'big'))", "output too large"),
    # a well-formed result for another case than the one running
    ("os.write(3, frame({'kind': 'result', 'case': 'total_1', 'ok': True, 'value': 1.0}))",
     "malformed answer: not a result of this case"),
    # a value that is not plain data (a pickle inside an ndarray tag)
    ("os.write(3, frame({'kind': 'result', 'case': 'add_1', 'ok': True, 'value': {'$nd': 'gASV'}}))",
     "malformed answer: malformed array"),
])
def test_forged_messages_fail_only_their_case(sandbox, forgery, phrase):
    source = RIGHT + f"""
import os
from grader.sandbox.protocol import frame
def add(a, b):
    {forgery}
    import time; time.sleep(5)
"""
    outcomes = run(sandbox, source)
    assert phrase in outcomes["add_1"].error, outcomes["add_1"].error
    assert all(outcomes[n].ok for n in ("scale_1", "scale_2", "total_1"))


def test_a_child_that_lingers_after_its_last_answer_is_killed(sandbox):
    # every answer forged at import time, then the process stays: the grade does not wait
    # for it, and the zygote kills it once the grace period after the last answer is over
    answers = "".join(f"os.write(3, frame({{'kind': 'result', 'case': {c.name!r}, 'ok': True, "
                      f"'value': 0.0}}))\n" for c in SPEC.cases)
    source = ("import os, time\nfrom grader.sandbox.protocol import frame\n"
              "os.write(3, frame({'kind': 'imported'}))\n" + answers + "time.sleep(60)\n")
    zygote = sandbox.zygote("numpy")
    before = len(descendants(zygote.proc.pid))
    start = time.monotonic()
    outcomes = run(sandbox, source)
    assert time.monotonic() - start < 5
    assert all(o.ok and o.value == 0.0 for o in outcomes.values())
    deadline = time.monotonic() + 10
    while len(descendants(zygote.proc.pid)) > before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(descendants(zygote.proc.pid)) == before, "the lingering child is still alive"
    assert time.monotonic() - start < 10


def test_import_errors_fail_every_case(sandbox):
    outcomes = run(sandbox, "import numpy as np\nraise ValueError('broken on purpose')\n")
    messages = {o.error for o in outcomes.values()}
    assert len(messages) == 1
    message = messages.pop()
    assert message.startswith("could not import the submission: raised ValueError: broken on purpose")
    assert "toy.py line 2" in message
    outcomes = run(sandbox, "def add(a, b) return a\n")
    assert all("raised SyntaxError" in o.error for o in outcomes.values())


def test_missing_function_and_not_plain_answers(sandbox):
    source = RIGHT.replace("def total(x): return float(np.sum(x))", "") + \
        "\ndef add(a, b):\n    return 'not a number'\n"
    outcomes = run(sandbox, source)
    assert "has no attribute 'total'" in outcomes["total_1"].error
    assert "could not convert string to float" in outcomes["add_1"].error
    assert outcomes["scale_1"].ok


def test_describe_exit():
    assert describe_exit({"signal": signal.SIGSEGV}) == "crashed with SIGSEGV (segmentation fault)"
    assert describe_exit({"signal": signal.SIGXCPU}) == "used up its CPU time limit (SIGXCPU)"
    assert describe_exit({"code": 4}) == "exited with code 4"
    assert describe_exit(None) == "stopped responding"


def test_the_probe_sees_its_own_limits(sandbox):
    facts = sandbox.probe("numpy", [str(Path(__file__).resolve().parents[2] / "reference")])
    limits = facts["limits"]
    assert limits["file_size_bytes"] == 16 * 1024 * 1024
    assert limits["memory_budget_bytes"] == 2048 * 1024 * 1024
    assert facts["audit_hook"] is True
    assert facts["pid"] != os.getpid()
    if os.geteuid() == 0 and facts["zygote"]["uid_drop"]:
        assert facts["uid"] >= 200_000
    if sandbox.bwrap_active:
        assert facts["read_only_root"] and facts["network_interfaces"] == ["lo"]
        assert facts["pid1"] == "bwrap" and all(facts["probe_paths_hidden"])
    assert np.isfinite(facts["limits"]["cpu_seconds"])


# ------------------------------------------------------------------ fairness


def test_a_timeout_beside_another_child_is_retried_alone(sandbox):
    slow_neighbour = RIGHT + "\ndef add(a, b):\n    import time\n    time.sleep(2.5)\n    return a + b\n"
    looping = RIGHT + "\ndef scale(x, k):\n    while True:\n        pass\n"
    neighbour: dict[str, object] = {}
    thread = threading.Thread(target=lambda: neighbour.update(run(sandbox, slow_neighbour, "bo", 5.0)))
    thread.start()
    time.sleep(0.3)  # the neighbour's child is running
    start = time.monotonic()
    outcomes = run(sandbox, looping, timeout=1.0)
    elapsed = time.monotonic() - start
    thread.join()
    # it timed out beside the neighbour, waited for it, and timed out again alone
    assert outcomes["scale_1"].error == ("timed out after 1 s (run again with no other "
                                         "submission beside it)"), outcomes["scale_1"].error
    assert elapsed >= 2.0
    assert all(o.ok for o in neighbour.values())  # the neighbour lost nothing
    assert all(outcomes[n].ok for n in ("add_1", "add_2", "total_1"))


def test_a_zygote_lost_mid_import_is_retried_not_scored(sandbox):
    slow_import = RIGHT + "\nimport time\ntime.sleep(1.5)\n"
    zygote = sandbox.zygote("numpy")
    killer = threading.Timer(0.7, lambda: os.killpg(zygote.proc.pid, signal.SIGKILL))
    killer.start()
    outcomes = run(sandbox, slow_import)
    killer.join()
    assert zygote.dead and sandbox.zygote("numpy") is not zygote
    assert all(o.ok for o in outcomes.values()), {n: o.error for n, o in outcomes.items()}


def test_a_set_up_that_always_fails_is_an_error_not_a_zero():
    from grader.sandbox.limits import Limits
    from grader.sandbox.pool import SandboxError

    box = Sandbox(SandboxConfig(limits=Limits(tmp_files=1)))  # no inode left for the source
    try:
        if not box.zygote("numpy").info.get("private_tmp"):
            pytest.skip("no private /tmp here (needs root or bwrap)")
        with pytest.raises(SandboxError, match="failed 3 times"):
            run(box, RIGHT)
    finally:
        box.close()


def test_an_import_is_paid_once_per_submission_not_once_per_timeout(sandbox):
    # add and scale both loop: two timeouts; total then reports whether it runs in a process
    # forked from the one that imported the module (the import kept) or in a fresh import
    source = RIGHT + """
import os, time
time.sleep(0.5)  # a slow import
IMPORTED_IN = os.getpid()
def add(a, b):
    while True:
        pass
def scale(x, k):
    while True:
        pass
def total(x):
    return float(os.getppid() == IMPORTED_IN)
"""
    start = time.monotonic()
    outcomes = run(sandbox, source, timeout=1.0)
    elapsed = time.monotonic() - start
    assert outcomes["add_1"].error == "timed out after 1 s"
    assert outcomes["scale_1"].error == "timed out after 1 s"
    assert outcomes["total_1"].ok and outcomes["total_1"].value == 1.0  # the same import
    assert elapsed < 0.5 + 2 * 1.0 + 1.5, f"{elapsed:.1f} s"  # one import, two timeouts


@pytest.mark.parametrize("use_bwrap", [False, True], ids=["no-bwrap", "bwrap"])
def test_a_zygote_outlives_the_thread_that_asked_for_it(use_bwrap: bool) -> None:
    """A zygote (and bwrap) dies by PR_SET_PDEATHSIG when the thread that started it ends:
    zygotes are started from one thread of the pool's own, so a batch's worker thread that
    ends takes no zygote with it."""
    from grader.sandbox import bwrap

    if use_bwrap and not bwrap.status().working:
        pytest.skip("bwrap does not work here")
    box = Sandbox(SandboxConfig(use_bwrap=use_bwrap))
    try:
        first: dict[str, object] = {}
        worker = threading.Thread(target=lambda: first.update(run(box, RIGHT)))
        worker.start()
        worker.join()
        zygote = box.zygote("numpy")
        time.sleep(0.3)  # a parent-death signal would have arrived by now
        assert zygote.proc.poll() is None and not zygote.dead
        assert all(o.ok for o in first.values()) and first
        assert all(o.ok for o in run(box, RIGHT).values())
        assert box.zygote("numpy") is zygote  # the same warm zygote, not a replacement
    finally:
        box.close()


@pytest.mark.parametrize("import_seconds", [0.0, 0.1], ids=["cheap-import", "kept-import"])
def test_each_case_brings_back_its_own_print_and_sees_only_the_leased_gpu(
        sandbox: Sandbox, import_seconds: float) -> None:
    """Inside the child, however it runs the cases (a slow import is kept and the cases run
    in a forked runner): each outcome carries what that case printed, and the child sees
    the one GPU the caller holds a lease on, through CUDA_VISIBLE_DEVICES."""
    source = RIGHT + f"""
import os, time
time.sleep({import_seconds})
print("at import")
def add(a, b):
    print("visible:", os.environ.get("CUDA_VISIBLE_DEVICES"))
    return a + b
def total(x):
    print("total here")
    return float(np.sum(x))
"""
    outcomes = sandbox.run(framework="numpy", assignment="toy", source=source, filename="toy.py",
                           cases=requests(), import_timeout=5.0, cuda=True, cuda_device="7")
    by_target = {c.target: outcomes[c.name] for c in SPEC.cases}
    assert all(o.ok for o in outcomes.values())
    assert by_target["add"].output == "visible: 7\n"
    assert by_target["total"].output == "total here\n"
    assert by_target["scale"].output == ""  # nothing of the import's or another case's print
