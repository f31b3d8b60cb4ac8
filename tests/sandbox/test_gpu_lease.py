"""The GPU lease on a CPU, with fake device ids: two holders never overlap, a waiter gets the
device once it is released, a holder that dies releases it, two devices serve two holders."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from grader.errors import UserError
from grader.sandbox import gpu_lease
from grader.sandbox.gpu_lease import GpuLeases

ROOT = Path(__file__).resolve().parents[2]


def _holders(leases: GpuLeases, count: int, hold_s: float) -> list[tuple[str, float, float]]:
    """count threads each take a lease and hold it hold_s; (device, start, end) of each."""
    spans: list[tuple[str, float, float]] = []
    lock = threading.Lock()

    def work() -> None:
        with leases.hold() as lease:
            start = time.monotonic()
            time.sleep(hold_s)
            end = time.monotonic()
        with lock:
            spans.append((lease.device, start, end))

    threads = [threading.Thread(target=work) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return spans


def _overlap(spans: list[tuple[str, float, float]]) -> bool:
    for i, (d1, s1, e1) in enumerate(spans):
        for d2, s2, e2 in spans[i + 1:]:
            if d1 == d2 and s1 < e2 and s2 < e1:
                return True
    return False


def test_two_holders_of_one_device_never_overlap(tmp_path):
    spans = _holders(GpuLeases(["0"], tmp_path), 3, 0.15)
    assert len(spans) == 3
    assert not _overlap(spans)


def test_two_devices_serve_two_holders_at_once(tmp_path):
    spans = _holders(GpuLeases(["0", "1"], tmp_path), 2, 0.3)
    assert {d for d, _, _ in spans} == {"0", "1"}
    (_, s1, e1), (_, s2, e2) = spans
    assert s1 < e2 and s2 < e1  # both at once: one each


def test_a_waiter_gets_the_device_after_release(tmp_path):
    leases = GpuLeases(["0"], tmp_path)
    got = threading.Event()

    def wait_for_it() -> None:
        with leases.hold() as lease:
            assert lease.waited > 0.1
            got.set()

    with leases.hold():
        waiter = threading.Thread(target=wait_for_it)
        waiter.start()
        time.sleep(0.3)
        assert not got.is_set()  # waiting, not failed
    waiter.join(10)
    assert got.is_set()


_HOLD_FOREVER = """
import sys, time
from grader.sandbox.gpu_lease import GpuLeases
with GpuLeases(["0"], sys.argv[1]).hold():
    print("held", flush=True)
    time.sleep(60)
"""


def test_a_holder_that_dies_releases_the_device(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    holder = subprocess.Popen([sys.executable, "-c", _HOLD_FOREVER, str(tmp_path)], env=env,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        leases = GpuLeases(["0"], tmp_path)
        assert leases._try("0") is None  # held by the other process
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
        with leases.hold() as lease:
            assert lease.device == "0" and lease.waited < 5
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
        holder.stdout.close()


def test_the_lease_folder_is_private_and_must_be_ours(tmp_path, monkeypatch):
    folder = tmp_path / "leases"
    monkeypatch.setenv(gpu_lease.LEASE_DIR_ENV, str(folder))
    assert gpu_lease.lease_dir() == folder
    assert folder.stat().st_mode & 0o777 == 0o700
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    monkeypatch.setenv(gpu_lease.LEASE_DIR_ENV, str(not_a_folder))
    with pytest.raises(UserError):
        gpu_lease.lease_dir()


def test_no_lease_is_taken_when_no_cuda_is_needed(tmp_path):
    with gpu_lease.maybe_hold(False, GpuLeases(["0"], tmp_path)) as lease:
        assert lease is None


def test_a_cuda_out_of_memory_under_the_lease_is_said_to_be_the_student_s_own():
    said = gpu_lease.own_oom("raised OutOfMemoryError: CUDA out of memory. Tried to allocate 2 GiB")
    assert "had the GPU to itself" in said
    assert gpu_lease.own_oom("ran out of memory (MemoryError)") == "ran out of memory (MemoryError)"
