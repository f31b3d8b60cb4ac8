"""Expected outputs do not depend on how many grading threads compute them at once.

The torch cases seed torch's global generator; grade-batch computes expected outputs from
several threads. Each thread's answers must equal those computed one at a time.
"""

from __future__ import annotations

import threading

import pytest

from grader.grading.expected import ExpectedStore, make_inputs
from grader.specs import load_spec

pytestmark = pytest.mark.slow


def test_reference_runs_from_two_threads_equal_serial_runs() -> None:
    case = load_spec("mlp").case("accuracy_value")  # seeds torch, builds a model, predicts
    students = [f"s{i}" for i in range(24)]
    serial_store, parallel_store = ExpectedStore(), ExpectedStore()
    serial = {s: serial_store.expected(case, s, "mlp", make_inputs(case, s, "mlp")) for s in students}

    parallel: dict[str, object] = {}

    def work(chunk: list[str]) -> None:
        for s in chunk:
            parallel[s] = parallel_store.expected(case, s, "mlp", make_inputs(case, s, "mlp"))

    threads = [threading.Thread(target=work, args=(students[i::2],)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    differ = [s for s in students if serial[s] != parallel[s]]
    assert not differ, f"{len(differ)} of {len(students)} expected values changed under threads"
