"""Start-up of the quiz: from process start to the first question's prompt.

    .venv/bin/python benchmarks/quiz_startup.py            # 15 runs of each, medians
    .venv/bin/python benchmarks/quiz_startup.py --runs 30

Times, as separate processes, each from spawning to:
- `python -c pass`: a bare interpreter exiting (the floor every command pays);
- `dlgrade --help`: the help printed and the process exited;
- `dlgrade quiz`: the first question's `›` prompt on stdout (the learner can type), with a
  warm bank cache and an existing progress database, as on every start but the first.
Target: `dlgrade quiz` at most 200 ms to its first prompt. Prints medians (and the spread)
measured in one run, then which heavy modules the quiz path imported: torch, numpy and the
grading engine must never be among them.

Wall time depends on what else the machine runs; each case also reports its on-CPU time
(the process's own CPU: /proc/<pid>/schedstat when the prompt appears, rusage at exit),
which other load barely changes, and the machine's load average, to read the wall times by.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BANK = ROOT / "tests" / "data" / "quiz_bank"
HEAVY = ("torch", "numpy", "pandas", "matplotlib", "pydantic", "yaml", "grader.grading",
         "grader.sandbox", "grader.specs", "sklearn")


def dlgrade() -> list[str]:
    """The installed entry point when it runs this tree's code, else `python -m cli`."""
    return [sys.executable, "-m", "cli"]


def _on_cpu(pid: int) -> float | None:
    """Seconds `pid` has run on a CPU so far (Linux), or None where that cannot be read."""
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e9
    except (OSError, ValueError, IndexError):
        return None


def time_until(cmd: list[str], env: dict[str, str], marker: bytes | None) -> tuple[float, float]:
    """(wall, on-CPU) seconds from spawn to `marker` on stdout (then quit), or to exit."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, env=env, cwd=ROOT)
    assert proc.stdout is not None and proc.stdin is not None
    if marker is None:
        proc.stdout.read()
        _, _, usage = os.wait4(proc.pid, 0)
        proc.returncode = 0
        return time.perf_counter() - start, usage.ru_utime + usage.ru_stime
    seen = b""
    while marker not in seen:
        chunk = os.read(proc.stdout.fileno(), 4096)
        if not chunk:
            raise RuntimeError(f"{cmd} exited before printing {marker!r}: {seen[-500:]!r}")
        seen += chunk
    elapsed = time.perf_counter() - start
    cpu = _on_cpu(proc.pid)
    proc.communicate(b"q\n", timeout=30)
    return elapsed, cpu if cpu is not None else float("nan")


def heavy_imports(env: dict[str, str]) -> list[str]:
    """Heavy modules a whole quiz session (one question, then q) imports: -X importtime."""
    done = subprocess.run([sys.executable, "-X", "importtime", *dlgrade()[1:], "quiz", "--bank",
                           str(BANK), "--n", "1"], input="q\n", capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=60)
    modules = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()
               if line.startswith("import time:")}
    return sorted(m for m in modules
                  if any(m == h or m.startswith(h + ".") for h in HEAVY) and "." not in m
                  or m in HEAVY)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "DLGRADE_HOME": home, "PYTHONPATH": str(ROOT),
               "COLUMNS": "100", "PYTHONDONTWRITEBYTECODE": "0"}
        quiz = [*dlgrade(), "quiz", "--bank", str(BANK), "--n", "1", "--seed", "1"]
        time_until(quiz, env, "›".encode())  # the first start validates and caches the bank
        cases = {
            "python -c pass": ([sys.executable, "-c", "pass"], None),
            "python, to a prompt": ([sys.executable, "-c", "print('›', flush=True); input()"],
                                    "›".encode()),
            "dlgrade --help": ([*dlgrade(), "--help"], None),
            "dlgrade quiz (to first prompt)": (quiz, "›".encode()),
        }
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in cases}
        for _ in range(args.runs):  # interleaved, so load on the machine hits all alike
            for name, (cmd, marker) in cases.items():
                times[name].append(time_until(cmd, env, marker))
        heavy = heavy_imports(env)

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"start-up, median of {args.runs} runs (min - max), {sys.executable}; "
          f"{os.cpu_count()} CPUs, load average {load:.1f}")
    print(f"  {'':32s} {'wall':>8s}                 {'on CPU':>8s}")
    medians = {}
    for name, values in times.items():
        wall = sorted(w * 1000 for w, _ in values)
        cpu = sorted(c * 1000 for _, c in values)
        medians[name] = (statistics.median(wall), statistics.median(cpu))
        print(f"  {name:32s} {medians[name][0]:6.0f} ms ({wall[0]:4.0f} - {wall[-1]:4.0f})"
              f"   {medians[name][1]:6.0f} ms ({cpu[0]:4.0f} - {cpu[-1]:4.0f})")
    quiz_wall, quiz_cpu = medians["dlgrade quiz (to first prompt)"]
    bare_wall, bare_cpu = medians["python -c pass"]
    print(f"  dlgrade quiz over a bare interpreter: {quiz_wall - bare_wall:.0f} ms wall, "
          f"{quiz_cpu - bare_cpu:.0f} ms on CPU; target <= 200 ms to the first prompt: "
          f"{'met' if quiz_wall <= 200 else 'not met'} (wall), "
          f"{'met' if quiz_cpu <= 200 else 'not met'} (on CPU)")
    print(f"  heavy modules imported before the first prompt: {', '.join(heavy) or 'none'}")


if __name__ == "__main__":
    main()
