"""A whole quiz session: plan it, run the loop with storage and FSRS scheduling, summarise.

`run_quiz` picks the questions (due reviews, new ones within the daily limits, a retake or an
exam paper), and `SessionHooks` stores every answer with its card before the loop shows its
feedback; `--mistakes` and `--exam` record answers without touching a card.
"""

from __future__ import annotations

import contextlib
import random
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

from fsrs import Card
from rich.console import Console

from grader.errors import UserError
from grader.quiz.bank import load_bank
from grader.quiz.config import load_settings
from grader.quiz.engine import Result, plan_exam, plan_retake, plan_review, present, select
from grader.quiz.loop import Ask, Item, run_loop
from grader.quiz.scheduler import (
    Clock,
    QuizScheduler,
    Rating,
    Settings,
    default_rating,
    is_lapse,
    utc_now,
)
from grader.quiz.screen import show_summary
from grader.quiz.store import ProgressStore, Recorded
from grader.quiz.text import LANGS, Lang, Msg

# ------------------------------------------------------------------ a whole session


@dataclass(frozen=True)
class QuizOptions:
    topics: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    n: int = 10
    lang: str = "both"
    mistakes: bool = False
    exam: bool = False
    seed: int | None = None
    db: Path | None = None
    bank: Path | None = None


def check_options(opts: QuizOptions) -> None:
    if opts.lang not in LANGS:
        raise UserError(f"unknown --lang {opts.lang!r} (choose from: {', '.join(LANGS)})")
    if opts.n < 1:
        raise UserError(f"--n must be at least 1, got {opts.n}")
    if opts.exam and opts.mistakes:
        raise UserError("--exam and --mistakes cannot be combined")


def run_quiz(opts: QuizOptions, *, console: Console, ask: Ask, clock: Clock = utc_now,
             fuzz: bool = True, settings: Settings | None = None) -> None:
    """Plan, ask, store and summarise one session.

    `settings` default to the learner's quiz.toml, with FSRS parameters fitted by
    `quiz optimize` (kept in the progress database) when there are any.
    """
    check_options(opts)
    lang: Lang = opts.lang  # type: ignore[assignment]
    settings = load_settings() if settings is None else settings
    bank = load_bank(opts.bank)
    known_topics = set(bank.topics())
    for topic in opts.topics:
        if topic not in known_topics:
            raise UserError(f"unknown topic {topic!r} (choose from: {', '.join(sorted(known_topics))})")
    known_tags = bank.tags()
    for tag in opts.tags:
        if tag not in known_tags:
            raise UserError(f"unknown tag {tag!r}: no question in the bank carries it"
                            + _close(tag, known_tags))
    pool = select(bank.questions, opts.topics, opts.tags)
    if not pool:
        raise UserError("no question matches "
                        + " ".join([*(f"--topic {t}" for t in opts.topics),
                                    *(f"--tag {t}" for t in opts.tags)]))
    seed = opts.seed if opts.seed is not None else random.SystemRandom().randrange(10_000)
    mode = "exam" if opts.exam else "mistakes" if opts.mistakes else "review"

    with ProgressStore.open(opts.db) as store:
        settings = with_fitted_parameters(settings, store)
        try:
            scheduler = QuizScheduler(clock, fuzz=fuzz, settings=settings)
        except ValueError as exc:
            raise UserError(f"the fitted FSRS parameters cannot be used ({exc}): run "
                            "`dlgrade quiz optimize --reset`") from None
        now = scheduler.now()
        if opts.exam:
            plan = plan_exam(pool, n=opts.n, seed=seed)
        elif opts.mistakes:
            plan = plan_retake(pool, store.mistake_ids(), opts.n)
            if not plan:
                console.print(Msg("다시 풀 틀린 문제가 없습니다.", "Nothing to retake: no question "
                                  "was answered wrong last time.").inline(lang))
                return
        else:
            day = start_of_day(now)
            plan = plan_review(pool, due=store.due_ids(now), seen=store.seen_ids(), n=opts.n,
                               seed=seed, skip=store.suspended_ids(),
                               new_limit=settings.new_per_day - store.introduced_since(day),
                               review_limit=settings.reviews_per_day - store.reviews_since(day))
            if not plan:
                _nothing_due(console, store, now, lang, settings)
                return
        items = [Item(present(q, seed), kind) for q, kind in plan]
        if opts.exam:
            console.print(Msg(f"시험 seed {seed}: 같은 시험지를 다시 받으려면 --exam --seed {seed}. "
                              "정답은 끝에 한꺼번에 보여 줍니다.",
                              f"Exam seed {seed}: rerun with --exam --seed {seed} for the same "
                              "paper. The answers are shown at the end.").inline(lang), style="dim")
        if opts.mistakes:
            console.print(Msg("틀린 문제 다시 풀기: 복습 일정은 바뀌지 않습니다.",
                              "Retaking mistakes: the review schedule is left as it is.")
                          .inline(lang), style="dim")
        session_id = store.start_session(mode=mode, seed=seed, lang=lang, planned=len(items),
                                         now=now)
        hooks = SessionHooks(store, scheduler, session_id, scheduled=mode == "review")
        summary = run_loop(items, console=console, ask=ask, lang=lang, hooks=hooks, mode=mode,
                           reveal=not opts.exam)
        with contextlib.suppress(KeyboardInterrupt):  # the answers are already stored
            store.finish_session(session_id, scheduler.now())
        show_summary(console, summary, lang, seed=seed)
        if mode == "review" and summary.answered:
            console.print()
            _next_review(console, store.next_due(), scheduler.now(), lang)


def with_fitted_parameters(settings: Settings, store: ProgressStore) -> Settings:
    """`settings` with the FSRS parameters `quiz optimize` stored, if any."""
    import json

    fitted = store.setting("fsrs_parameters")
    if fitted is None or settings.parameters is not None:
        return settings
    try:
        parameters = tuple(float(p) for p in json.loads(fitted))
    except (ValueError, TypeError):
        raise UserError("the fitted FSRS parameters in the progress database are unreadable: "
                        "run `dlgrade quiz optimize --reset`") from None
    return replace(settings, parameters=parameters)


def start_of_day(now: datetime) -> datetime:
    """Midnight of the learner's local day (the machine's zone), as UTC: daily limits reset."""
    local = now.astimezone()
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(now.tzinfo)


@dataclass
class _Answer:
    """The last answer to one shown item: its row, the card before, each rating's card."""

    answer_id: int
    before: Card | None
    outcomes: dict[Rating, Card] | None  # None: unscheduled
    result: Result
    rating: Rating | None


class SessionHooks:
    """Storage and scheduling for `run_loop`: every answer is stored before it is shown.

    Unscheduled sessions (exam, --mistakes) record answers and overrides but never touch a
    card. In a scheduled one, the card each rating would give is computed once per answer,
    so the interval shown is the interval given.
    """

    def __init__(self, store: ProgressStore, scheduler: QuizScheduler, session_id: int, *,
                 scheduled: bool):
        self.store = store
        self.scheduler = scheduler
        self.session_id = session_id
        self.scheduled = scheduled
        self._answers: dict[int, _Answer] = {}  # by id(item)

    @property
    def _leech_lapses(self) -> int:
        return self.scheduler.settings.leech_lapses

    def now(self) -> datetime:
        return self.scheduler.now()

    def record(self, item: Item, given: str, result: Result) -> Recorded | None:
        q = item.view.question
        now = self.scheduler.now()
        if not self.scheduled:
            recorded = self.store.record_answer(
                session_id=self.session_id, qid=q.id, topic=q.topic, given=given,
                score=result.score, correct=result.correct, now=now, card=None,
                kind="exam" if item.kind == "exam" else "retake")
            self._answers[id(item)] = _Answer(recorded.answer_id, None, None, result, None)
            return recorded
        before = self.store.card(q.id)
        outcomes = self.scheduler.outcomes(before or self.scheduler.new_card(q.id))
        rating = default_rating(result.correct)
        recorded = self.store.record_answer(
            session_id=self.session_id, qid=q.id, topic=q.topic, given=given, score=result.score,
            correct=result.correct, now=now, card=outcomes[rating], rating=int(rating),
            card_before=before, kind=item.kind if before is not None else "new",
            lapse=is_lapse(before, rating), leech_lapses=self._leech_lapses)
        self._answers[id(item)] = _Answer(recorded.answer_id, before, outcomes, result, rating)
        return recorded

    def ratings(self, item: Item) -> dict[Rating, timedelta] | None:
        outcomes = self._answers[id(item)].outcomes
        if outcomes is None:
            return None
        now = self.scheduler.now()
        return {r: card.due - now for r, card in outcomes.items()}

    def rate(self, item: Item, rating: Rating) -> bool:
        answer = self._answers[id(item)]
        assert answer.outcomes is not None
        answer.rating = rating
        return self.store.rerate(answer.answer_id, rating=int(rating),
                                 card=answer.outcomes[rating],
                                 lapse=is_lapse(answer.before, rating),
                                 correct=answer.result.correct, score=answer.result.score,
                                 leech_lapses=self._leech_lapses)

    def override(self, item: Item) -> bool:
        """"I was right": the answer counts as right (rated Good), the typed answer is kept."""
        answer = self._answers[id(item)]
        if answer.outcomes is None:
            self.store.mark_override(answer.answer_id)
        else:
            self.store.rerate(answer.answer_id, rating=int(Rating.Good),
                              card=answer.outcomes[Rating.Good], lapse=False, correct=True,
                              score=1.0, override=True, leech_lapses=self._leech_lapses)
            answer.rating = Rating.Good
        answer.result = replace(answer.result, correct=True, score=1.0)
        return True

    def undo(self, item: Item) -> None:
        answer = self._answers.pop(id(item))
        self.store.undo(answer.answer_id, leech_lapses=self._leech_lapses)

    def relearn_due(self, item: Item) -> datetime | None:
        """When a card rated Again is due again, if that is within the learn-ahead limit."""
        answer = self._answers.get(id(item))
        if answer is None or answer.outcomes is None or answer.rating != Rating.Again:
            return None
        qid = item.view.question.id
        if qid in self.store.suspended_ids():
            return None
        due = answer.outcomes[Rating.Again].due
        ahead = timedelta(minutes=self.scheduler.settings.learn_ahead_minutes)
        return due if due - self.scheduler.now() <= ahead else None


def _close(word: str, known: set[str]) -> str:
    import difflib

    near = difflib.get_close_matches(word, sorted(known), n=3)
    return f" (did you mean {', '.join(near)}?)" if near else ""


def _when(due: datetime, now: datetime, lang: Lang) -> str:
    minutes = max(0, round((due - now).total_seconds() / 60))
    if minutes < 60:
        return Msg(f"{minutes}분 후", f"in {minutes} min").inline(lang)
    if minutes < 48 * 60:
        hours = round(minutes / 60)
        return Msg(f"{hours}시간 후", f"in {hours} h").inline(lang)
    days = round(minutes / 1440)
    return Msg(f"{days}일 후", f"in {days} days").inline(lang)


def _next_review(console: Console, due: datetime | None, now: datetime, lang: Lang) -> None:
    if due is not None:
        console.print(Msg(f"다음 복습: {_when(due, now, 'ko')}",
                          f"Next review: {_when(due, now, 'en')}").inline(lang), style="dim")


def _nothing_due(console: Console, store: ProgressStore, now: datetime, lang: Lang,
                 settings: Settings) -> None:
    due = store.next_due()
    ko = f" 다음 복습: {_when(due, now, 'ko')}." if due else ""
    en = f" Next review: {_when(due, now, 'en')}." if due else ""
    day = start_of_day(now)
    if store.introduced_since(day) >= settings.new_per_day and store.due_ids(now) == []:
        console.print(Msg(f"오늘의 새 문제 {settings.new_per_day}개를 모두 풀었고 복습할 문제도 없습니다."
                          f"{ko} (하루 새 문제 수는 quiz.toml의 new_per_day)",
                          f"Today's {settings.new_per_day} new questions are done and nothing is "
                          f"due.{en} (new_per_day in quiz.toml sets the daily limit)")(lang))
        return
    if store.reviews_since(day) >= settings.reviews_per_day:
        console.print(Msg(f"오늘의 복습 한도 {settings.reviews_per_day}개에 도달했습니다.{ko}",
                          f"Today's review limit of {settings.reviews_per_day} is reached.{en}")
                      (lang))
        return
    console.print(Msg(f"지금 복습할 문제도, 새 문제도 없습니다.{ko}",
                      f"Nothing is due and every question has been seen.{en}")(lang))

