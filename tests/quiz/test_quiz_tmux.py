"""`dlgrade quiz` in a real terminal: tmux types the keys and reads the screen.

Two recorded sessions, in Korean and in English, each with a Hard and an Easy rating (the
intervals shown beside them), a missed card relearned in the same session, an undo, and an
"I was right" override that `quiz disputes` then lists. With DLGRADE_TMUX_CAPTURE=<folder>
the captured panes are also written there as text.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from quiz_helpers import FIXTURE

from grader.quiz.bank import load_bank
from grader.quiz.engine import plan_review, present, select

DLGRADE = Path(sys.executable).with_name("dlgrade")

pytestmark = [
    pytest.mark.tmux,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]


class Tmux:
    """A private tmux server (its own socket), so no one else's sessions are touched.

    A socket per test, not per process: `kill-server` returns before the server is gone, and
    the next test's `new-session` on the same socket can reach the dying server and fail."""

    def __init__(self, tmp_path: Path):
        socket = f"dlgrade-test-{os.getpid()}-{tmp_path.name}"
        self.base = ["tmux", "-u", "-L", socket, "-f", "/dev/null"]
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
        if text:
            self.run("send-keys", "-t", "quiz", "-l", text)
        self.run("send-keys", "-t", "quiz", "Enter")

    def kill(self) -> None:
        subprocess.run([*self.base, "kill-server"], capture_output=True, env=self.env)


def drive(tmp_path: Path, lang: str, keys: list[str]) -> str:
    """Run a 3-question session, typing each of `keys` at the next prompt; the whole pane."""
    home = tmp_path / "home"
    tmux = Tmux(tmp_path)
    command = (f"DLGRADE_HOME={home} {DLGRADE} quiz --bank {FIXTURE} --tag tmux --n 3 --seed 1 "
               f"--lang {lang}; DLGRADE_HOME={home} {DLGRADE} quiz disputes --bank {FIXTURE}; "
               "echo EXITED=$?; sleep 60")
    tmux.run("new-session", "-d", "-x", "110", "-y", "50", "-s", "quiz", command)
    try:
        for k, key in enumerate(keys):
            tmux.wait_for(lambda s, k=k: s.count("›") >= k + 1, f"prompt {k + 1} ({key!r})")
            tmux.type(key)
        screen = tmux.wait_for(lambda s: "EXITED=" in s, "the summary and the disputes")
    finally:
        tmux.kill()
    folder = os.environ.get("DLGRADE_TMUX_CAPTURE")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        (Path(folder) / f"quiz_tmux_{lang}.txt").write_text(screen.rstrip() + "\n", encoding="utf-8")
    return screen


def test_the_planned_order_is_the_one_the_keys_are_written_for():
    pool = select(load_bank(FIXTURE).questions, tags=["tmux"])
    views = [present(q, 1) for q, _ in plan_review(pool, due=[], seen=set(), n=3, seed=1)]
    assert [v.question.id for v in views] == ["fx-backprop-name", "fx-relu-range", "fx-alexnet-year"]


def test_a_korean_session_in_tmux(tmp_path):
    screen = drive(tmp_path, "ko", [
        "후진 모드 자동 미분", "!",   # backprop: not an alias -> "I was right"
        "ㅌ", "",                     # ReLU true/false: x on the Korean keyboard, wrong -> Enter
        "2012년", "2",                # AlexNet: right -> Hard
        "u",                          # at the relearning prompt: undo the AlexNet answer
        "2012", "4",                  # AlexNet again: right -> Easy
        "ㅅ", "",                     # ReLU relearned (t on the Korean keyboard): right -> Good
    ])
    assert "EXITED=0" in screen and "Traceback" not in screen
    # Easy's interval is fuzzed by a day or so, as in Anki: the shown one is the one given
    shown = re.findall(r"1 다시 1분 · 2 어려움 (\d+)분 · 3 알맞음 10분 · 4 쉬움 (\d+)일", screen)
    assert len(shown) == 3  # AlexNet twice (before and after the undo), ReLU relearned
    assert f"→ 어려움: {shown[0][0]}분" in screen and f"→ 쉬움: {shown[1][1]}일" in screen
    assert "맞은 것으로 기록했습니다" in screen
    assert "다시 보기: 1분" in screen and "다시 학습" in screen
    assert "마지막 답을 되돌렸습니다" in screen
    assert "정답: 역전파  (다른 정답: 오차역전파, backpropagation" in screen  # Korean first
    assert "점수: 2 / 3 (67%)" in screen and "다시 학습: 1/1" in screen  # ReLU was missed
    assert "fx-backprop-name" in screen and "후진 모드 자동 미분" in screen  # quiz disputes


def test_an_english_session_in_tmux(tmp_path):
    screen = drive(tmp_path, "en", [
        "reverse-mode autodiff", "!",
        "x", "",
        "2012", "4",                  # Easy first this time
        "u",
        "2012", "2",                  # then Hard
        "t", "",
    ])
    assert "EXITED=0" in screen and "Traceback" not in screen
    shown = re.findall(r"1 Again 1m · 2 Hard (\d+)m · 3 Good 10m · 4 Easy (\d+)d", screen)
    assert len(shown) == 3
    assert f"→ Easy: {shown[0][1]}d" in screen and f"→ Hard: {shown[1][0]}m" in screen
    assert "Recorded as right" in screen
    assert "again in: 1m" in screen and "relearn" in screen
    assert "Last answer undone" in screen
    assert "Score: 2 / 3 (67%)" in screen and "relearned: 1/1" in screen
    assert "reverse-mode autodiff" in screen.split("Score:")[-1]  # listed by quiz disputes
