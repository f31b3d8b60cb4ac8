"""`dlgrade quiz` in a real terminal: tmux types the keys and reads the screen."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grader.quiz.bank import load_bank
from grader.quiz.engine import plan_review, present, select

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "quiz_bank"
DLGRADE = Path(sys.executable).with_name("dlgrade")

pytestmark = [
    pytest.mark.tmux,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]


@pytest.fixture(autouse=True)
def _own_home(tmp_path, monkeypatch):
    """Progress and the bank cache of every test live in its own folder, never in ~."""
    monkeypatch.setenv("DLGRADE_HOME", str(tmp_path / "dlgrade-home"))


class Tmux:
    """A private tmux server (its own socket), so no one else's sessions are touched."""

    def __init__(self, tmp_path: Path):
        self.base = ["tmux", "-u", "-L", f"dlgrade-test-{os.getpid()}", "-f", "/dev/null"]
        self.env = {**os.environ, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "TERM": "xterm-256color"}

    def run(self, *args: str) -> str:
        done = subprocess.run([*self.base, *args], capture_output=True, text=True, env=self.env,
                              timeout=10, check=True)
        return done.stdout

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-J", "-S", "-", "-t", "quiz")

    def wait_for(self, predicate, what: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            text = self.screen()
            if predicate(text):
                return text
            if time.monotonic() > deadline:
                pytest.fail(f"timed out waiting for {what}; screen:\n{text}")
            time.sleep(0.05)

    def type(self, text: str) -> None:
        self.run("send-keys", "-t", "quiz", "-l", text)
        self.run("send-keys", "-t", "quiz", "Enter")


def test_a_session_in_tmux(tmp_path):
    pool = select(load_bank(FIXTURE).questions, tags=["tmux"])
    views = [present(q, 1) for q, _ in plan_review(pool, due=[], seen=set(), n=3, seed=1)]
    answers = {"fx-alexnet-year": "2011", "fx-relu-range": "o", "fx-backprop-name": "역전파"}
    assert {v.question.id for v in views} == set(answers)

    tmux = Tmux(tmp_path)
    command = (f"DLGRADE_HOME={tmp_path} {DLGRADE} quiz --bank {FIXTURE} --tag tmux --n 3 "
               f"--seed 1 --lang both; echo EXITED=$?; sleep 60")
    tmux.run("new-session", "-d", "-x", "120", "-y", "40", "-s", "quiz", command)
    try:
        for k, view in enumerate(views):
            tmux.wait_for(lambda s, k=k: s.count("›") == k + 1, f"prompt {k + 1}")
            tmux.type(answers[view.question.id])
        screen = tmux.wait_for(lambda s: "EXITED=" in s, "the summary")
    finally:
        subprocess.run([*tmux.base, "kill-server"], capture_output=True, env=tmux.env)

    assert "EXITED=0" in screen
    assert "1/3" in screen and "3/3" in screen
    assert "AlexNet이 ILSVRC에서 우승한 해는?" in screen  # Korean prompt, English below
    assert "In which year did AlexNet win ILSVRC?" in screen
    assert "역전파" in screen  # typed Korean reaches the program intact (NFC or not)
    assert screen.count("정답! / Right!") == 2 and screen.count("오답 / Wrong") == 1
    assert "점수 / Score: 2 / 3 (67%)" in screen
    assert "fx-alexnet-year" in screen  # listed under the mistakes
    assert "Traceback" not in screen
