"""Turns: shared turns run side by side; an exclusive one runs alone and, while it waits,
keeps new shared turns from starting."""

from __future__ import annotations

import threading
import time

from grader.sandbox.pool import Turns


def wait_for(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.001)


def test_an_exclusive_turn_waits_for_shared_ones_and_holds_back_new_ones() -> None:
    turns = Turns()
    events: list[str] = []
    release_first = threading.Event()

    def first_shared() -> None:
        with turns.shared():
            events.append("shared 1 in")
            release_first.wait(5)
            events.append("shared 1 out")

    def exclusive() -> None:
        with turns.exclusive():
            events.append(f"exclusive in, running {turns.running}")

    def second_shared() -> None:
        with turns.shared():
            events.append("shared 2 in")

    threads = [threading.Thread(target=first_shared)]
    threads[0].start()
    wait_for(lambda: turns.running == 1)
    threads.append(threading.Thread(target=exclusive))
    threads[1].start()
    wait_for(lambda: turns._waiting_exclusive == 1)
    threads.append(threading.Thread(target=second_shared))
    threads[2].start()
    time.sleep(0.05)  # the second shared turn must still be waiting behind the exclusive one
    assert events == ["shared 1 in"] and turns.running == 1
    release_first.set()
    for thread in threads:
        thread.join(5)
    assert events == ["shared 1 in", "shared 1 out", "exclusive in, running 1", "shared 2 in"]
    assert turns.running == 0 and turns.started == 3


def test_a_turn_is_given_back_when_its_body_raises() -> None:
    turns = Turns()
    for turn in (turns.shared, turns.exclusive):
        try:
            with turn():
                raise ValueError("the child died")
        except ValueError:
            pass
    with turns.exclusive():  # would wait forever had a turn not been given back
        assert turns.running == 1
    assert turns.running == 0 and turns.started == 3
