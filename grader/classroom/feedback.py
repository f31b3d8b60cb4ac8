"""Feedback from the gradebook: a report per student (Markdown and HTML) and an instructor summary.

A student sees every case with its points; a visible case also shows its message. A
hidden case shows its name, target, points and passed/failed only — never its message,
which may quote the hidden inputs or expected values. "What to look at" lists the targets
that lost points, biggest loss first, each with the part of the lesson it practises.
The instructor summary shows the score distribution (a PNG, embedded) and the failure
rate of every case and target, worst first, so the concept the class missed stands out.
"""

from __future__ import annotations

import base64
import html
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from grader.classroom.flags import flag_summary
from grader.classroom.gradebook import GradeRecord, SimilarityFlag, by_student
from grader.classroom.stats import assignment_stats, student_maximum, student_totals
from grader.course import Course, show_time
from grader.errors import UserError
from grader.grading.results import TestResult

MESSAGE_LIMIT = 2000  # characters of a case message shown in feedback

# The part of week 1's lecture (../shared/seeds) that each target practises, in English and
# in Korean: a page speaks one language (--lang), never a mix of both.
_LOSS = "Lecture 1 · key components — the loss: "
_BACKPROP = "Lecture 1 · backpropagation / automatic differentiation: "
_ACT = "Lecture 1 · neural networks — activation functions: "
_GD = "Lecture 1 · gradient descent and optimizers: "
_MLP = "Lecture 1 · multi-layer perceptron: "
_GPU = "Lecture 1 · why GPUs — CUDA for deep learning: "

LESSONS: dict[str, dict[str, str]] = {
    "backprop": {
        "linear_regression_grads": _GD + "for ŷ = wx + b and L = 1/N Σ (y − ŷ)², ∂L/∂w = −2/N Σ (y − ŷ)x and ∂L/∂b = −2/N Σ (y − ŷ); mind the sign and the 1/N.",
        "fit_linear_regression": _GD + "w ← w − η ∂L/∂w, starting from w = b = 0; record the loss before each update.",
        "affine": _BACKPROP + "for out = xW + b, dx = dout Wᵀ, dW = xᵀ dout, db = Σ over the batch of dout; each has the shape of what it is the gradient of.",
        "relu": _ACT + "ReLU = max(0, x); its local gradient is 1 where x > 0 and 0 elsewhere (0 at x == 0).",
        "sigmoid": _ACT + "σ(x) squashes to (0, 1); dσ/dx = σ(x)(1 − σ(x)) — reuse the forward output in the cache.",
        "tanh": _ACT + "d tanh/dx = 1 − tanh²(x).",
        "softmax_cross_entropy": _LOSS + "classification uses cross-entropy; subtract the row max before exp for stability; the gradient is (softmax − one_hot)/N.",
        "two_layer_net": _BACKPROP + "run the chain rule backwards through affine → ReLU → affine → softmax CE, reusing each layer's backward.",
        "numerical_gradient": _BACKPROP + "central differences (f(x+h) − f(x−h)) / 2h, one coordinate at a time; restore x afterwards.",
    },
    "autodiff": {
        "Value.backward": _BACKPROP + "visit nodes in reverse topological order and accumulate (+=) each local gradient times the output gradient; iterate, do not recurse.",
        "topological_order": _BACKPROP + "every node after all of its inputs: an iterative depth-first search with a visited set.",
        "Value": _BACKPROP + "each operation stores its inputs and its local derivative; backward multiplies by the output's grad (chain rule) and accumulates with +=.",
    },
    "losses": {
        "mse": _LOSS + "regression uses MSE = 1/N Σ_i Σ_d (y − ŷ)²: sum over features, average over the batch N; the gradient is −2/N (y − ŷ).",
        "l1": _LOSS + "L1 = 1/N Σ |y − ŷ|; its gradient is sign(ŷ − y)/N (0 where they are equal).",
        "huber": _LOSS + "Huber is quadratic within δ and linear outside: gradient r inside, δ·sign(r) outside, /N.",
        "softmax": _LOSS + "softmax turns logits into probabilities; subtract the row max first so exp never overflows.",
        "log_softmax": _LOSS + "log_softmax = x − max − log Σ exp(x − max) (log-sum-exp), never log(softmax).",
        "cross_entropy": _LOSS + "classification uses cross-entropy −1/N Σ log p_label; its gradient is (softmax − one_hot)/N.",
        "binary_cross_entropy_with_logits": _LOSS + "BCE from logits: max(z, 0) − z·t + log(1 + e^(−|z|)) stays finite; gradient (σ(z) − t)/N.",
        "gaussian_nll": _LOSS + "maximum likelihood of a Gaussian = minimising (y − μ)²/(2σ²) + ½ log(2πσ²): MSE is MLE with fixed variance.",
    },
    "optimizers": {
        "SGD": _GD + "W ← W − η g (weight decay adds λW to g).",
        "Momentum": _GD + "momentum accumulates a velocity v ← μv + g, then W ← W − ηv (torch's convention).",
        "NAG": _GD + "Nesterov looks ahead: step along g + μv after updating v.",
        "Adagrad": _GD + "Adagrad divides by the root of the running sum of squared gradients.",
        "Adadelta": _GD + "Adadelta keeps running averages of squared gradients and squared updates: no global learning rate needed.",
        "RMSprop": _GD + "RMSprop divides by the root of an exponential average of squared gradients.",
        "Adam": _GD + "Adam = momentum + RMSprop with bias correction (divide by 1 − βᵗ).",
        "AdamW": _GD + "AdamW decouples weight decay: W ← W − ηλW apart from the Adam step.",
        "step_decay": _GD + "the learning-rate schedule: multiply by γ at each milestone fraction of training.",
        "minimize": _GD + "repeat: evaluate f and its gradient, take one optimizer step; keep the start point as row 0.",
    },
    "mlp": {
        "make_mlp": _MLP + "stack Linear + activation per hidden width; the last Linear has no activation (the loss applies softmax).",
        "count_parameters": _MLP + "every weight and bias that requires grad: Σ numel.",
        "train_step": _GD + "zero the gradients, forward, loss, backward, step — in that order.",
        "fit_function": _MLP + "universal approximation: one wide enough hidden layer can fit any continuous function.",
        "train_classifier": _MLP + "Adam + cross-entropy over mini-batches (SGD's sampling), one history entry per epoch.",
        "accuracy": _MLP + "evaluate in eval mode under no_grad, and put the model back in its previous mode.",
    },
    "cuda_training": {
        "get_device": _GPU + "prefer CUDA, then MPS, then the CPU; refuse a device that is not there.",
        "measure_throughput": _GPU + "GPU work is asynchronous: synchronize before reading the clock.",
    },
}
_DEFAULT_LESSON = {
    "backprop": _BACKPROP + "the chain rule, one layer at a time.",
    "autodiff": LESSONS["autodiff"]["Value"],
    "losses": _LOSS + "the loss quantifies the badness of the model; average over the batch N.",
    "optimizers": _GD + "the algorithm that adjusts the parameters to minimise the loss.",
    "mlp": _MLP + "layers of linear maps and nonlinearities.",
    "cuda_training": _GPU + "move the model and every batch to the same device; autocast for AMP.",
}

_LOSS_KO = "1강 · 핵심 구성 요소 — 손실 함수: "
_BACKPROP_KO = "1강 · 역전파와 자동 미분: "
_ACT_KO = "1강 · 신경망 — 활성화 함수: "
_GD_KO = "1강 · 경사 하강법과 최적화 알고리즘: "
_MLP_KO = "1강 · 다층 퍼셉트론: "
_GPU_KO = "1강 · GPU가 필요한 이유 — 딥러닝을 위한 CUDA: "

LESSONS_KO: dict[str, dict[str, str]] = {
    "backprop": {
        "linear_regression_grads": _GD_KO + "ŷ = wx + b, L = 1/N Σ (y − ŷ)²일 때 ∂L/∂w = −2/N Σ (y − ŷ)x, ∂L/∂b = −2/N Σ (y − ŷ)입니다. 부호와 1/N에 주의하세요.",
        "fit_linear_regression": _GD_KO + "w = b = 0에서 시작해 w ← w − η ∂L/∂w로 갱신하고, 각 갱신 전의 손실을 기록합니다.",
        "affine": _BACKPROP_KO + "out = xW + b이면 dx = dout Wᵀ, dW = xᵀ dout, db = 배치에 대한 dout의 합입니다. 각 기울기는 대상과 같은 모양입니다.",
        "relu": _ACT_KO + "ReLU = max(0, x)의 국소 기울기는 x > 0에서 1, 그 밖에서는 0입니다 (x == 0에서도 0).",
        "sigmoid": _ACT_KO + "σ(x)는 (0, 1)로 눌러 주며 dσ/dx = σ(x)(1 − σ(x))입니다. 순전파 출력을 캐시에서 다시 쓰세요.",
        "tanh": _ACT_KO + "d tanh/dx = 1 − tanh²(x)입니다.",
        "softmax_cross_entropy": _LOSS_KO + "분류에는 교차 엔트로피를 씁니다. 안정성을 위해 exp 전에 행의 최댓값을 빼고, 기울기는 (softmax − one_hot)/N입니다.",
        "two_layer_net": _BACKPROP_KO + "affine → ReLU → affine → softmax CE를 거꾸로 따라가며 연쇄 법칙을 적용하고, 각 층의 backward를 다시 씁니다.",
        "numerical_gradient": _BACKPROP_KO + "중앙 차분 (f(x+h) − f(x−h)) / 2h를 좌표 하나씩 계산하고, 끝나면 x를 원래대로 돌려놓습니다.",
    },
    "autodiff": {
        "Value.backward": _BACKPROP_KO + "위상 정렬의 역순으로 노드를 방문하며 국소 기울기 × 출력 기울기를 누적(+=)합니다. 재귀 대신 반복을 쓰세요.",
        "topological_order": _BACKPROP_KO + "모든 노드가 자신의 입력 뒤에 오도록: 방문 집합을 둔 반복적 깊이 우선 탐색입니다.",
        "Value": _BACKPROP_KO + "각 연산은 입력과 국소 미분을 저장하고, backward는 출력의 grad를 곱해(연쇄 법칙) +=로 누적합니다.",
    },
    "losses": {
        "mse": _LOSS_KO + "회귀에는 MSE = 1/N Σ_i Σ_d (y − ŷ)²를 씁니다. 특성 축은 합하고 배치 N으로 평균하며, 기울기는 −2/N (y − ŷ)입니다.",
        "l1": _LOSS_KO + "L1 = 1/N Σ |y − ŷ|의 기울기는 sign(ŷ − y)/N입니다 (같은 곳에서는 0).",
        "huber": _LOSS_KO + "Huber는 δ 안에서는 이차, 밖에서는 선형입니다. 기울기는 안에서 r, 밖에서 δ·sign(r), 그리고 /N.",
        "softmax": _LOSS_KO + "softmax는 로짓을 확률로 바꿉니다. exp가 넘치지 않도록 먼저 행의 최댓값을 빼세요.",
        "log_softmax": _LOSS_KO + "log_softmax = x − max − log Σ exp(x − max) (log-sum-exp)이며, log(softmax)로 계산하지 않습니다.",
        "cross_entropy": _LOSS_KO + "분류에는 교차 엔트로피 −1/N Σ log p_label을 쓰고, 기울기는 (softmax − one_hot)/N입니다.",
        "binary_cross_entropy_with_logits": _LOSS_KO + "로짓에서 계산하는 BCE: max(z, 0) − z·t + log(1 + e^(−|z|))는 유한하게 유지되고, 기울기는 (σ(z) − t)/N입니다.",
        "gaussian_nll": _LOSS_KO + "가우시안의 최대 우도 = (y − μ)²/(2σ²) + ½ log(2πσ²)의 최소화: 분산이 고정되면 MSE가 곧 MLE입니다.",
    },
    "optimizers": {
        "SGD": _GD_KO + "W ← W − η g (weight decay는 g에 λW를 더합니다).",
        "Momentum": _GD_KO + "모멘텀은 속도 v ← μv + g를 쌓은 뒤 W ← W − ηv로 갱신합니다 (torch의 규약).",
        "NAG": _GD_KO + "Nesterov는 앞을 내다봅니다: v를 갱신한 뒤 g + μv 방향으로 한 걸음.",
        "Adagrad": _GD_KO + "Adagrad는 기울기 제곱의 누적 합의 제곱근으로 나눕니다.",
        "Adadelta": _GD_KO + "Adadelta는 기울기 제곱과 갱신량 제곱의 이동 평균을 유지하므로 전역 학습률이 필요 없습니다.",
        "RMSprop": _GD_KO + "RMSprop은 기울기 제곱의 지수 이동 평균의 제곱근으로 나눕니다.",
        "Adam": _GD_KO + "Adam = 모멘텀 + RMSprop에 편향 보정(1 − βᵗ로 나눔)을 더한 것입니다.",
        "AdamW": _GD_KO + "AdamW는 weight decay를 분리합니다: Adam 단계와 따로 W ← W − ηλW.",
        "step_decay": _GD_KO + "학습률 스케줄: 학습의 각 이정표 비율에 도달할 때마다 γ를 곱합니다.",
        "minimize": _GD_KO + "f와 기울기를 계산하고 옵티마이저로 한 걸음 가기를 반복합니다. 시작점을 0번 행으로 둡니다.",
    },
    "mlp": {
        "make_mlp": _MLP_KO + "은닉 폭마다 Linear + 활성화를 쌓고, 마지막 Linear에는 활성화를 두지 않습니다 (softmax는 손실이 적용).",
        "count_parameters": _MLP_KO + "grad가 필요한 모든 가중치와 편향: numel의 합.",
        "train_step": _GD_KO + "기울기 초기화, 순전파, 손실, 역전파, step — 이 순서대로.",
        "fit_function": _MLP_KO + "보편 근사 정리: 충분히 넓은 은닉층 하나로 어떤 연속 함수든 근사할 수 있습니다.",
        "train_classifier": _MLP_KO + "미니배치(SGD의 샘플링)에 Adam + 교차 엔트로피, 에폭마다 기록 하나씩.",
        "accuracy": _MLP_KO + "no_grad 아래 eval 모드로 평가하고, 모델을 원래 모드로 되돌립니다.",
    },
    "cuda_training": {
        "get_device": _GPU_KO + "CUDA, 그다음 MPS, 그다음 CPU 순으로 고르고, 없는 장치는 거부합니다.",
        "measure_throughput": _GPU_KO + "GPU 작업은 비동기입니다: 시간을 재기 전에 synchronize 하세요.",
    },
}
_DEFAULT_LESSON_KO = {
    "backprop": _BACKPROP_KO + "연쇄 법칙을 층 하나씩 적용합니다.",
    "autodiff": LESSONS_KO["autodiff"]["Value"],
    "losses": _LOSS_KO + "손실은 모델이 얼마나 나쁜지를 수치로 나타냅니다. 배치 N으로 평균하세요.",
    "optimizers": _GD_KO + "손실을 최소화하도록 파라미터를 조정하는 알고리즘입니다.",
    "mlp": _MLP_KO + "선형 변환과 비선형 함수를 층층이 쌓은 것입니다.",
    "cuda_training": _GPU_KO + "모델과 모든 배치를 같은 장치로 옮기고, AMP에는 autocast를 씁니다.",
}


def lesson_for(assignment: str, target: str, lang: str = "en") -> str:
    """The lesson pointer of a target: exact name, then its stem (mse_grad → mse), then a default."""
    table = (LESSONS_KO if lang == "ko" else LESSONS).get(assignment, {})
    stem = re.sub(r"_(grad|forward|backward)$", "", target)
    for key in (target, stem, target.split(".")[0]):
        if key in table:
            return table[key]
    return (_DEFAULT_LESSON_KO if lang == "ko" else _DEFAULT_LESSON).get(assignment, "")


# ---------------------------------------------------------------- what a student sees


@dataclass(frozen=True)
class TargetLoss:
    target: str
    lost: float
    max_points: float
    failed: int
    cases: int


def targets_to_review(tests: Sequence[TestResult]) -> list[TargetLoss]:
    """Targets that lost points, biggest loss first (skipped cases lose nothing)."""
    groups: dict[str, list[TestResult]] = {}
    for t in tests:
        if t.status != "skipped":
            groups.setdefault(t.target, []).append(t)
    losses = [TargetLoss(target, round(sum(t.max_points - t.points for t in ts), 6),
                         sum(t.max_points for t in ts), sum(t.status == "failed" for t in ts), len(ts))
              for target, ts in groups.items()]
    return sorted((x for x in losses if x.lost > 1e-9), key=lambda x: (-x.lost, x.target))


def shown_message(test: TestResult) -> str | None:
    """What the student may read of a case's message (TestResult.student_message), cut short."""
    msg = test.student_message
    if msg is None:
        return None
    return msg if len(msg) <= MESSAGE_LIMIT else msg[:MESSAGE_LIMIT] + " …(cut)"


# Every phrase a student page says, per language; what grading said (a case's message) is
# quoted as it is.
TEXT: dict[str, dict[str, str]] = {
    "en": {
        "title": "Feedback for {student} — {course}",
        "total": "Total: {total} / {top} over {n} assignment(s).",
        "submitted": "submitted {when}", "due": "due {when}", "on_time": "on time",
        "late": "{days} day(s) late, −{percent} % = −{points} points",
        "file_time": " (the file's time: it was not handed in with dlgrade submit)",
        "missing": "not handed in", "excused": "excused: not counted in the total",
        "override": "score set by the instructor: {points}", "before": "({raw} before the late penalty)",
        "extended": "due date extended to {when}",
        "stopped": "the sandbox stopped your code: {kinds}",
        "failed_cases": "Failed cases", "passed_cases": "{n} passed case(s)",
        "case": "case", "target": "target", "points": "points", "result": "result", "message": "message",
        "visibility": "visibility",
        "passed": "passed", "failed": "failed", "skipped": "skipped",
        "hidden_case": "hidden case", "visible": "visible", "hidden": "hidden",
        "hidden_note": "Hidden cases show only whether they passed; their inputs stay hidden.",
        "printed": "your code printed:",
        "review": "What to look at", "nothing": "Nothing: every case passed.",
        "lost": "lost {lost} of {max} points ({failed} of {cases} cases failed).",
        "note": "note", "messages": "Messages",
        "timeout": "timeout", "exit": "exit", "crash": "crash", "resource limit": "resource limit",
        "blocked read": "blocked read", "blocked write": "blocked write",
        "blocked network": "blocked network", "blocked call": "blocked call",
    },
    "ko": {
        "title": "{student} 님의 피드백 — {course}",
        "total": "총점: {total} / {top} (과제 {n}개)",
        "submitted": "제출 {when}", "due": "마감 {when}", "on_time": "기한 내 제출",
        "late": "{days}일 늦음, −{percent} % = −{points}점",
        "file_time": " (파일 시각: dlgrade submit으로 제출되지 않음)",
        "missing": "제출하지 않음", "excused": "면제: 총점에 포함되지 않음",
        "override": "교수자가 정한 점수: {points}", "before": "(지각 감점 전 {raw}점)",
        "extended": "마감이 {when}(으)로 연장됨",
        "stopped": "샌드박스가 코드를 중단했습니다: {kinds}",
        "failed_cases": "실패한 케이스", "passed_cases": "통과한 케이스 {n}개",
        "case": "케이스", "target": "대상", "points": "점수", "result": "결과", "message": "메시지",
        "visibility": "공개 여부",
        "passed": "통과", "failed": "실패", "skipped": "건너뜀",
        "hidden_case": "비공개 케이스", "visible": "공개", "hidden": "비공개",
        "hidden_note": "비공개 케이스는 통과 여부만 보여 주며, 입력은 공개하지 않습니다.",
        "printed": "코드가 출력한 내용:",
        "review": "살펴볼 부분", "nothing": "없음: 모든 케이스를 통과했습니다.",
        "lost": "{max}점 중 {lost}점을 잃었습니다 (케이스 {cases}개 중 {failed}개 실패).",
        "note": "참고", "messages": "메시지",
        "timeout": "시간 초과", "exit": "프로그램 종료", "crash": "비정상 종료", "resource limit": "자원 한도",
        "blocked read": "차단된 읽기", "blocked write": "차단된 쓰기",
        "blocked network": "차단된 네트워크", "blocked call": "차단된 호출",
    },
}
LANGS: tuple[str, ...] = tuple(TEXT)


def language(lang: str | None, course: Course | None = None) -> str:
    """--lang, else the course's `language`, else English; anything else is a UserError."""
    chosen = lang or (course.language if course is not None else "en")
    if chosen not in TEXT:
        raise UserError(f"unknown --lang {chosen!r} (choose from: {', '.join(LANGS)})")
    return chosen


def _when(moment: str | datetime | None, course: Course | None) -> str:
    return course.show_time(moment) if course is not None else show_time(moment)


def _facts(rec: GradeRecord, course: Course | None, lang: str) -> list[str]:
    """The lines under an assignment's heading: times, lateness, adjustments, sandbox events."""
    t = TEXT[lang]
    if rec.status == "missing":
        return [t["missing"] + (", " + t["due"].format(when=_when(rec.due, course)) if rec.due else "")]
    lines = []
    if rec.status == "excused":
        lines.append(t["excused"])
    when = t["submitted"].format(when=_when(rec.submitted_at, course))
    if rec.submitted_at_source == "mtime":
        when += t["file_time"]
    if rec.due:
        when += ", " + t["due"].format(when=_when(rec.due, course))
    lateness = (t["late"].format(days=rec.late_days, percent=f"{rec.penalty_percent:g}",
                                 points=f"{rec.penalty:g}") if rec.late_days > 0 else t["on_time"])
    lines.append(f"{when}: {lateness}")
    for adj in rec.adjustments:
        if adj.get("kind") == "extend":
            lines.append(t["extended"].format(when=_when(adj.get("until"), course)))
    if rec.override is not None:
        lines.append(t["override"].format(points=f"{rec.override:g}"))
    if rec.flags:
        kinds = ", ".join(dict.fromkeys(t.get(str(f.get("kind")), str(f.get("kind"))) for f in rec.flags))
        lines.append(t["stopped"].format(kinds=kinds))
    lines += [f"{t['note']}: {n}" for n in rec.report.notes]
    return lines


def _score_line(rec: GradeRecord, lang: str = "en") -> str:
    t = TEXT[lang]
    if rec.status == "missing":
        return f"0 / {rec.max_score:g} — {t['missing']}"
    if rec.status == "excused":
        return t["excused"]
    if rec.penalty and rec.override is None:
        return f"{rec.score:g} / {rec.max_score:g} " + t["before"].format(raw=f"{rec.raw_score:g}")
    return f"{rec.score:g} / {rec.max_score:g}"


def _student_total(records: Sequence[GradeRecord]) -> tuple[float, float]:
    """The student's total and maximum, as the instructor summary counts them (excused: out)."""
    kept = [r for r in records if r.status != "excused"]
    return round(sum(r.score for r in kept), 6), round(sum(r.max_score for r in kept), 6)


def _failed_first(rec: GradeRecord) -> tuple[list[TestResult], list[TestResult]]:
    tests = rec.report.tests
    return [t for t in tests if t.status != "passed"], [t for t in tests if t.status == "passed"]


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _fence(text: str) -> str:
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text}\n{fence}"


def student_markdown(student: str, records: Sequence[GradeRecord], course: Course | None = None,
                     lang: str = "en") -> str:
    t = TEXT[lang]
    total, top = _student_total(records)
    out = ["# " + t["title"].format(student=student, course=course.name if course else "dlgrade"), "",
           t["total"].format(total=f"**{total:g}", top=f"{top:g}**", n=len(records)), ""]
    for rec in records:
        out += [f"## {rec.assignment}: {_score_line(rec, lang)}", ""]
        out += [f"- {line}" for line in _facts(rec, course, lang)]
        if not rec.report.tests:
            out.append("")
            continue
        failed, passed = _failed_first(rec)
        head = f"| {t['case']} | {t['target']} | {t['points']} | {t['result']} | {t['visibility']} |"
        out += ["", head, "|---|---|---|---|---|"]
        for c in failed + passed:
            out.append(f"| {_md_cell(c.name)} | `{_md_cell(c.target)}` | {c.points:g} / {c.max_points:g} "
                       f"| {t[c.status]} | {t.get(c.visibility, c.visibility)} |")
        shown = [(c, shown_message(c)) for c in failed]
        if any(m for _, m in shown):
            out += ["", f"### {t['messages']}"]
            for c, m in shown:
                if m:
                    out += ["", f"**{c.name}** (`{c.target}`, {t[c.status]}):", "", _fence(m)]
        if any(m is None for _, m in shown):
            out += ["", f"_{t['hidden_note']}_"]
        out += ["", f"### {t['review']}"]
        review = targets_to_review(rec.report.tests)
        if not review:
            out.append(t["nothing"])
        for x in review:
            out.append(f"- `{x.target}`: " + t["lost"].format(lost=f"{x.lost:g}", max=f"{x.max_points:g}",
                                                              failed=x.failed, cases=x.cases)
                       + f" {lesson_for(rec.assignment, x.target, lang)}")
        out.append("")
    return "\n".join(out)


# A font stack that renders Hangul on every common system, then the generic family.
FONTS = ('system-ui,-apple-system,"Segoe UI","Apple SD Gothic Neo","Malgun Gothic","Noto Sans KR",'
         '"Noto Sans CJK KR","NanumGothic","Nanum Gothic",sans-serif')
_CSS = """
body{font-family:FONTS;max-width:72rem;margin:2rem auto;padding:0 1rem;color:#222;line-height:1.4}
table{border-collapse:collapse;margin:.5rem 0 1rem}
th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f3f3;white-space:nowrap} td.num,td.status{text-align:right;white-space:nowrap}
td.status{text-align:left}
.passed{color:#176f2c}.failed{color:#b00020}.skipped{color:#7a6000}.missing{color:#b00020}
.flag{color:#b00020;font-weight:bold}.excused{color:#666}
pre{background:#f7f7f7;padding:.5rem;white-space:pre-wrap;overflow-wrap:anywhere;margin:.25rem 0}
details{margin:.5rem 0 1rem}summary{cursor:pointer;color:#176f2c}
img{max-width:100%;height:auto}
.bar{display:inline-block;height:.8rem;background:#c0392b}
.muted{color:#666}
""".replace("FONTS", FONTS)


def _page(title: str, body: list[str], lang: str = "en") -> str:
    return (f"<!DOCTYPE html>\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{html.escape(title)}</title><style>{_CSS}</style></head>\n<body>\n"
            + "\n".join(body) + "\n</body></html>\n")


def _case_rows(tests: Sequence[TestResult], lang: str) -> list[str]:
    e, t = html.escape, TEXT[lang]
    rows = [f"<table><tr><th>{t['case']}</th><th>{t['target']}</th><th>{t['points']}</th>"
            f"<th>{t['result']}</th><th>{t['message']}</th></tr>"]
    for c in tests:
        msg = shown_message(c)
        cell = (f"<pre>{e(msg)}</pre>" if msg else "") if msg is not None else \
            f'<span class="muted">{t["hidden_case"]}</span>'
        rows.append(f"<tr><td>{e(c.name)}</td><td><code>{e(c.target)}</code></td>"
                    f"<td class=\"num\">{c.points:g} / {c.max_points:g}</td>"
                    f"<td class=\"status {e(c.status)}\">{e(t[c.status])}</td><td>{cell}</td></tr>")
    rows.append("</table>")
    return rows


def student_html(student: str, records: Sequence[GradeRecord], course: Course | None = None,
                 lang: str = "en") -> str:
    """A student's page: failed cases first with their messages, passed ones folded away."""
    e, t = html.escape, TEXT[lang]
    total, top = _student_total(records)
    title = t["title"].format(student=student, course=course.name if course else "dlgrade")
    body = [f"<h1>{e(title)}</h1>",
            "<p>" + e(t["total"]).format(total=f"<b>{total:g}", top=f"{top:g}</b>", n=len(records)) + "</p>"]
    for rec in records:
        css = {"missing": "missing", "excused": "excused"}.get(rec.status, "")
        body.append(f"<h2>{e(rec.assignment)}: <span class=\"{css}\">{e(_score_line(rec, lang))}</span></h2>")
        stopped = t["stopped"].split(":")[0]
        items = [(' class="flag"' if line.startswith(stopped) else "", line) for line in _facts(rec, course, lang)]
        body.append("<ul>" + "".join(f"<li{css_class}>{e(line)}</li>" for css_class, line in items) + "</ul>")
        if not rec.report.tests:
            continue
        failed, passed = _failed_first(rec)
        if failed:
            body.append(f"<h3>{e(t['failed_cases'])}</h3>")
            body += _case_rows(failed, lang)
            if any(c.visibility == "hidden" for c in failed):
                body.append(f"<p class=\"muted\">{e(t['hidden_note'])}</p>")
        if passed:
            body.append(f"<details><summary>{e(t['passed_cases'].format(n=len(passed)))}</summary>")
            body += _case_rows(passed, lang)
            body.append("</details>")
        body.append(f"<h3>{e(t['review'])}</h3>")
        review = targets_to_review(rec.report.tests)
        if not review:
            body.append(f"<p>{e(t['nothing'])}</p>")
        else:
            body.append("<ul>" + "".join(
                f"<li><code>{e(x.target)}</code>: "
                + e(t["lost"].format(lost=f"{x.lost:g}", max=f"{x.max_points:g}", failed=x.failed, cases=x.cases))
                + f" {e(lesson_for(rec.assignment, x.target, lang))}</li>" for x in review) + "</ul>")
    return _page(title, body, lang)


# ---------------------------------------------------------------- what the instructor sees


@dataclass(frozen=True)
class FailureRate:
    assignment: str
    name: str  # a case name, or the target itself for per-target rates
    target: str
    visibility: str
    failed: int
    total: int
    points_lost: float

    @property
    def rate(self) -> float:
        return self.failed / self.total if self.total else 0.0


def case_failure_rates(records: Sequence[GradeRecord]) -> list[FailureRate]:
    """Every case's failure rate over the class, worst first."""
    acc: dict[tuple[str, str], list[TestResult]] = {}
    for rec in records:
        for t in rec.report.tests:
            if t.status != "skipped":
                acc.setdefault((rec.assignment, t.name), []).append(t)
    rates = [FailureRate(a, name, ts[0].target, ts[0].visibility,
                         sum(t.status == "failed" for t in ts), len(ts),
                         round(sum(t.max_points - t.points for t in ts), 6))
             for (a, name), ts in acc.items()]
    return sorted(rates, key=lambda r: (-r.rate, -r.points_lost, r.assignment, r.name))


def target_failure_rates(records: Sequence[GradeRecord]) -> list[FailureRate]:
    """Per target (the concept): the share of students who failed at least one of its cases."""
    acc: dict[tuple[str, str], dict[str, bool]] = {}
    lost: dict[tuple[str, str], float] = {}
    for rec in records:
        for t in rec.report.tests:
            if t.status == "skipped":
                continue
            key = (rec.assignment, t.target)
            failed = acc.setdefault(key, {})
            failed[rec.student] = failed.get(rec.student, False) or t.status == "failed"
            lost[key] = lost.get(key, 0.0) + t.max_points - t.points
    rates = [FailureRate(a, target, target, "", sum(f.values()), len(f), round(lost[(a, target)], 6))
             for (a, target), f in acc.items()]
    return sorted(rates, key=lambda r: (-r.rate, -r.points_lost, r.assignment, r.name))


def score_distribution_png(records: Sequence[GradeRecord]) -> bytes:
    """Histograms of the final scores: one panel per assignment and one of the totals, two
    panels a row, so the picture keeps a readable size in the page's column."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    stats = assignment_stats(records)
    totals, top = student_totals(records)
    panels = [(s.assignment, [r.score for r in records if r.assignment == s.assignment
                              and r.status != "excused"], s.max_score)
              for s in stats] + [("total", list(totals.values()), top)]
    cols = min(2, len(panels))
    rows = -(-len(panels) // cols)
    fig = Figure(figsize=(4.2 * cols, 2.6 * rows), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    for i, (name, scores, high) in enumerate(panels, start=1):
        ax = fig.add_subplot(rows, cols, i)
        ax.hist(scores, bins=10, range=(0, high or 1), color="#4878a8", edgecolor="white")
        ax.set_title(f"{name} (n={len(scores)})")
        ax.set_xlabel(f"score / {high:g}")
        ax.set_ylabel("students")
        ax.yaxis.get_major_locator().set_params(integer=True)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def _rate_rows(rates: Sequence[FailureRate], with_case: bool) -> list[str]:
    e = html.escape
    rows = []
    for r in rates:
        bar = f'<span class="bar" style="width:{round(100 * r.rate)}px"></span>'
        lesson = "" if with_case else f"<td>{e(lesson_for(r.assignment, r.target))}</td>"
        case = f"<td>{e(r.name)}</td><td>{e(r.visibility)}</td>" if with_case else ""
        rows.append(f"<tr><td>{e(r.assignment)}</td>{case}<td><code>{e(r.target)}</code></td>"
                    f"<td class=\"num\">{r.failed}/{r.total}</td><td class=\"num\">{100 * r.rate:.0f} %</td>"
                    f"<td>{bar}</td><td class=\"num\">{r.points_lost:g}</td>{lesson}</tr>")
    return rows


def similarity_for(records: Sequence[GradeRecord],
                   similarity: Sequence[SimilarityFlag]) -> list[tuple[str, SimilarityFlag]]:
    """(student, flag) for each student of `records` a flag names, on either side of a pair,
    for the assignments `records` cover; sorted by student, assignment, score (highest first)."""
    pairs = {(r.student, r.assignment) for r in records}
    out = [(student, f) for f in similarity for student in dict.fromkeys((f.student, f.other))
           if student is not None and (student, f.assignment) in pairs]
    return sorted(out, key=lambda sf: (sf[0], sf[1].assignment, -sf[1].score))


def _attention_rows(records: Sequence[GradeRecord], course: Course | None,
                    student_pages: str | None, similarity: Sequence[SimilarityFlag] = ()) -> list[str]:
    """Flagged submissions (by the sandbox, then by the similarity check), then students with
    missing work: who to look at first. A similarity flag is a reason to look, not a score."""
    e = html.escape

    def who(student: str) -> str:
        return (f'<a href="{e(student_pages)}/{e(student)}.html">{e(student)}</a>'
                if student_pages else e(student))

    rows = []
    for r in sorted((r for r in records if r.flags), key=lambda r: (r.student, r.assignment)):
        detail = "; ".join(f"{f.get('case')}: {f.get('detail')}" for f in r.flags)
        rows.append(f"<tr><td>{who(r.student)}</td><td>{e(r.assignment)}</td>"
                    f"<td class=\"flag\">⚑ {e(flag_summary(r.flags))}</td><td>{e(detail)}</td></tr>")
    for student, f in similarity_for(records, similarity):
        rows.append(f"<tr class=\"similarity\"><td>{who(student)}</td><td>{e(f.assignment)}</td>"
                    f"<td class=\"flag\">⚑ {e(f.describe(student))}</td><td>{e(_similarity_detail(f))}"
                    "</td></tr>")
    missing: dict[str, list[str]] = {}
    for r in records:
        if r.status == "missing":
            missing.setdefault(r.student, []).append(r.assignment)
    for student, names in sorted(missing.items()):
        rows.append(f"<tr><td>{who(student)}</td><td>{e(', '.join(names))}</td>"
                    "<td class=\"missing\">missing</td><td>nothing handed in (0 points)</td></tr>")
    return rows


def _similarity_detail(f: SimilarityFlag) -> str:
    """The figures behind a flag, and a reminder that it changed no score."""
    d = f.detail
    if "a_in_b" in d:
        shown = f"coverage {d.get('a_in_b')} / {d.get('b_in_a')}, threshold {d.get('threshold')}"
    elif "own_code_in_reference" in d:
        shown = f"{d.get('own_code_in_reference')} of the code is in the reference"
    else:
        shown = ""
    return (shown + "; " if shown else "") + "flag only: the score is unchanged"


def summary_html(records: Sequence[GradeRecord], course: Course | None = None,
                 student_pages: str | None = "students",
                 similarity: Sequence[SimilarityFlag] = ()) -> str:
    """The instructor's page: who needs attention first, then the figures, then the concepts."""
    e = html.escape
    title = course.name if course else "dlgrade"
    totals, top = student_totals(records)
    stats = assignment_stats(records)
    png = base64.b64encode(score_distribution_png(records)).decode() if records else ""
    now = _when(datetime.now().astimezone(), course)
    graded = sum(r.status == "graded" for r in records)
    body = [f"<h1>Instructor summary — {e(title)}</h1>",
            f"<p class=\"muted\">{len(totals)} students, {graded} graded submissions; generated {e(now)}. "
            "Scores are final: late penalties, overrides and excuses applied as of now.</p>"]
    attention = _attention_rows(records, course, student_pages, similarity)
    body.append("<h2>Needs attention: flagged and missing</h2>")
    if attention:
        body.append("<table><tr><th>student</th><th>assignment</th><th>what</th><th>detail</th></tr>")
        body += attention
        body.append("</table>")
    else:
        body.append("<p>No submission was flagged and nothing is missing.</p>")
    body.append("<h2>Per assignment</h2><table><tr><th>assignment</th><th>n</th><th>mean</th>"
                "<th>median</th><th>min</th><th>max</th><th>fully correct</th><th>late</th>"
                "<th>missing</th><th>flagged</th></tr>")
    for s in stats:
        body.append(f"<tr><td>{e(s.assignment)}</td><td class=\"num\">{s.n}</td>"
                    + "".join(f"<td class=\"num\">{v:.1f}</td>" for v in (s.mean, s.median, s.min, s.max))
                    + f"<td class=\"num\">{s.fully_correct}/{s.n}</td><td class=\"num\">{s.late}</td>"
                    f"<td class=\"num\">{s.missing}</td><td class=\"num\">{s.flagged}</td></tr>")
    body.append("</table><h2>Score distribution</h2>")
    if png:
        body.append(f'<img alt="histograms of the final scores" src="data:image/png;base64,{png}">')
    head = "<tr><th>assignment</th>{}<th>target</th><th>failed</th><th>rate</th><th></th><th>points lost</th>{}</tr>"
    body += ["<h2>Which concepts the class missed (per target, worst first)</h2>",
             "<p class=\"muted\">failed: students who failed at least one case of the target.</p>",
             "<table>" + head.format("", "<th>lesson</th>")]
    rates = target_failure_rates(records)
    body += _rate_rows([r for r in rates if r.failed], with_case=False)
    body.append("</table>")
    clean = [r for r in rates if not r.failed]
    if clean:
        body.append(f"<p class=\"muted\">Every student passed these {len(clean)} targets: "
                    + ", ".join(f"<code>{e(r.assignment)}.{e(r.target)}</code>" for r in clean) + ".</p>")

    names = [s.assignment for s in stats]
    grouped = by_student(records)
    similar_students = {student for student, _ in similarity_for(records, similarity)}

    def attention_first(student: str) -> tuple[int, str]:
        recs = grouped[student].values()
        return (0 if any(r.flags for r in recs) or student in similar_students else 1 if any(r.status == "missing" for r in recs) else 2,
                student)

    body.append("<h2>Students</h2><table><tr><th>student</th>"
                + "".join(f"<th>{e(a)}</th>" for a in names) + "<th>total</th><th>late</th></tr>")
    for student in sorted(grouped, key=attention_first):
        recs = grouped[student]
        link = (f'<a href="{e(student_pages)}/{e(student)}.html">{e(student)}</a>'
                if student_pages else e(student))
        cells = []
        for a in names:
            r = recs.get(a)
            if r is None:
                cells.append("<td>—</td>")
            elif r.status == "missing":
                cells.append('<td class="missing">missing</td>')
            elif r.status == "excused":
                cells.append('<td class="excused">excused</td>')
            else:
                mark = f' <span class="flag" title="{e(flag_summary(r.flags))}">⚑</span>' if r.flags else ""
                over = " (override)" if r.override is not None else ""
                cells.append(f"<td class=\"num\">{r.score:g}{over}{mark}</td>")
        late = ", ".join(f"{a}: {r.late_days} d" for a, r in recs.items() if r.late_days > 0)
        body.append(f"<tr><td>{link}</td>{''.join(cells)}<td class=\"num\">{totals[student]:g} / "
                    f"{student_maximum(records, student):g}</td><td>{e(late)}</td></tr>")
    body.append("</table>")
    body += ["<details><summary>Per case (worst first)</summary>",
             "<table>" + head.format("<th>case</th><th>visibility</th>", "")]
    body += _rate_rows(case_failure_rates(records), with_case=True)
    body.append("</table></details>")
    return _page(f"Instructor summary — {title}", body)


@dataclass(frozen=True)
class FeedbackFiles:
    summary: Path
    students: list[Path]  # a Markdown and an HTML page per student

    @property
    def student_count(self) -> int:
        return len({p.stem for p in self.students})


def write_feedback(records: Sequence[GradeRecord], out_dir: Path,
                   course: Course | None = None, lang: str | None = None,
                   similarity: Sequence[SimilarityFlag] = ()) -> FeedbackFiles:
    """`out_dir/students/<id>.md` and `.html` for each student, and `out_dir/summary.html`
    (with `similarity`'s flags among what needs attention; the students' pages never show them)."""
    lang = language(lang, course)
    if out_dir.exists() and not out_dir.is_dir():
        raise UserError(f"--feedback-dir {out_dir} is a file, not a folder")
    students_dir = out_dir / "students"
    students_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for student, recs in ((s, list(rs.values())) for s, rs in by_student(records).items()):
        md = students_dir / f"{student}.md"
        md.write_text(student_markdown(student, recs, course, lang), encoding="utf-8")
        page = students_dir / f"{student}.html"
        page.write_text(student_html(student, recs, course, lang), encoding="utf-8")
        written += [md, page]
    summary = out_dir / "summary.html"
    summary.write_text(summary_html(records, course, similarity=similarity), encoding="utf-8")
    return FeedbackFiles(summary=summary, students=written)
