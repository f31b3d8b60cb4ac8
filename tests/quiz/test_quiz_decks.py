"""Your own decks (CSV and Anki imports, a CSV export that re-imports), GIFT numbers, the
display that never cuts an option short, and stats in the learner's language."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone

import pytest
from quiz_helpers import FIXTURE, flat
from rich.console import Console
from typer.testing import CliRunner

from cli import app
from grader.quiz.bank import audit_bank, load_bank
from grader.quiz.engine import grade, key_answer, present
from grader.quiz.export import gift_question, write_csv
from grader.quiz.importer import import_deck
from grader.quiz.loop import Item
from grader.quiz.scheduler import QuizScheduler
from grader.quiz.screen import show_feedback, show_question
from grader.quiz.store import ProgressStore

runner = CliRunner()


# ------------------------------------------------------------------ export -> import round trip


@pytest.mark.parametrize("bank", [FIXTURE, None], ids=["fixture", "bundled"])
def test_csv_export_reimports_to_the_same_questions(tmp_path, bank):
    original = load_bank(bank, cache=False)
    csv_file = tmp_path / "deck.csv"
    write_csv(original.questions, csv_file)
    deck = tmp_path / "deck.yaml"
    imported = import_deck(csv_file, deck)
    assert imported.skipped == []
    again, problems = audit_bank(deck)
    assert [p for p in problems if p.kind == "schema"] == []
    for before, after in zip(original.questions, again.questions, strict=True):
        assert after == before, before.id  # every field: options, key, tags, units


def test_cli_export_then_import(tmp_path):
    out = tmp_path / "bank.csv"
    assert runner.invoke(app, ["quiz", "export", "--format", "csv", str(out), "--bank",
                               str(FIXTURE)]).exit_code == 0
    deck = tmp_path / "mine.yaml"
    result = runner.invoke(app, ["quiz", "import", str(out), str(deck)])
    assert result.exit_code == 0, result.output
    assert "wrote 10 questions" in flat(result.output)
    assert runner.invoke(app, ["quiz", "validate", str(deck)]).exit_code == 0


def test_a_sheet_of_my_own_with_any_topic(tmp_path):
    sheet = tmp_path / "bio.csv"
    sheet.write_text(
        "question,answer,options,explanation,tags\n"
        "Which organelle makes ATP?,mitochondria,nucleus | mitochondria | ribosome,"
        "The powerhouse,cells\n"
        "Cells in the human body (order of magnitude)?,37 trillion,,About 3.7e13,cells\n"
        "DNA is double-stranded.,true,,Watson and Crick,\n"
        "Name the molecule that carries amino acids.,tRNA,,Transfer RNA,\n"
        "Broken row without an answer,,,,\n", encoding="utf-8")
    deck = tmp_path / "bio.yaml"
    imported = import_deck(sheet, deck, topic="Cell Biology")
    assert len(imported.questions) == 4 and imported.skipped == ["line 6: no answer"]
    bank = load_bank(deck, cache=False)
    types = [q.type for q in bank.questions]
    assert types == ["choice", "numeric", "true_false", "short"]
    assert {q.topic for q in bank.questions} == {"cell-biology"}
    by_type = {q.type: q for q in bank.questions}
    assert by_type["numeric"].answer == 37_000_000_000_000
    assert grade(present(by_type["numeric"], 0), "3.7e13").correct
    assert grade(present(by_type["choice"], 0), "mitochondria").correct
    assert by_type["choice"].answer == (1,)
    result = runner.invoke(app, ["quiz", "--bank", str(deck), "--topic", "cell-biology",
                                 "--n", "1", "--lang", "en"], input="s\n")
    assert result.exit_code == 0, result.output


def test_anki_plain_text_export(tmp_path):
    notes = tmp_path / "anki.txt"
    notes.write_text(
        "#separator:tab\n#html:true\n#tags column:3\n"
        "What does <b>ReLU</b> output for x &lt; 0?\t0\tactivations\n"
        "Who proposed backprop in 1986?<br>(first author)\tRumelhart\thistory deep\n"
        "\"A field with\ta tab\"\tquoted\t\n"
        "only a front\n", encoding="utf-8")
    deck = tmp_path / "anki.yaml"
    imported = import_deck(notes, deck)
    assert len(imported.questions) == 3
    assert imported.skipped == ["line 7: needs a front and a back"]
    bank = load_bank(deck, cache=False)
    first, second, third = bank.questions
    assert first.prompt.en == "What does ReLU output for x < 0?" and first.type == "numeric"
    assert second.prompt.en == "Who proposed backprop in 1986?\n(first author)"
    assert second.tags == ("history", "deep") and second.answer == ("Rumelhart",)
    assert third.prompt.en == "A field with\ta tab"


def test_anki_export_with_guid_notetype_and_deck_columns(tmp_path):
    notes = tmp_path / "deck.txt"
    notes.write_text(
        "#separator:tab\n#html:false\n#guid column:1\n#notetype column:2\n#deck column:3\n"
        "#tags column:6\n"
        "a1b2c3\tBasic\tDL::week1\tWhich loss suits regression?\tMSE\tlosses\n",
        encoding="utf-8")
    deck = tmp_path / "deck.yaml"
    import_deck(notes, deck)
    (q,) = load_bank(deck, cache=False).questions
    assert q.prompt.en == "Which loss suits regression?" and q.answer == ("MSE",)
    assert q.tags == ("losses",)


@pytest.mark.parametrize(("args", "fragment"), [
    (["missing.csv", "out.yaml"], "no such file"),
    (["{src}", "out.txt"], "must be a .yaml file"),
    (["{src}", "out.yaml", "--format", "xls"], "unknown --format 'xls'"),
    (["{src}", "nodir/out.yaml"], "does not exist"),
])
def test_import_errors_are_one_line_and_exit_2(tmp_path, monkeypatch, args, fragment):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "src.csv").write_text("question,answer\nq?,a\n", encoding="utf-8")
    args = [a.replace("{src}", "src.csv") for a in args]
    result = runner.invoke(app, ["quiz", "import", *args])
    assert result.exit_code == 2 and fragment in result.output, result.output
    assert "Traceback" not in result.output


def test_gift_writes_numbers_without_exponent_notation():
    q = load_bank(FIXTURE).by_id["fx-gpt3-params"]
    assert "{#175000000000:5000000000 " in gift_question(q)
    assert "e+" not in gift_question(q)


# ------------------------------------------------------------------ display


@pytest.mark.parametrize("width", [100, 60, 30])
def test_long_options_and_keys_are_never_cut_short(width):
    """Every word of every option of the bundled bank's choice questions, and of the key shown
    after a wrong answer, reaches the screen at any terminal width."""
    bank = load_bank()
    console = Console(file=io.StringIO(), width=width)
    seen = 0
    for q in bank.questions:
        if q.type != "choice":
            continue
        view = present(q, 0)
        show_question(console, Item(view, "new"), 1, 1, "both")
        wrong = next(k for k, i in enumerate(view.order) if i not in q.answer)
        show_feedback(console, grade(view, "abcdef"[wrong], "both"), "both")
        seen += 1
    out = console.file.getvalue()  # type: ignore[attr-defined]
    in_bank = sum(t.count("…") for q in bank.questions for t in (q.prompt.ko, q.prompt.en))
    assert seen > 50 and out.count("…") <= in_bank  # only the bank's own "y₁, …, yₙ"
    words = flat(out).replace(" ", "")
    for q in bank.questions:
        if q.type == "choice":
            for option in q.options:
                for text in ((option,) if isinstance(option, str) else (option.ko, option.en)):
                    assert text.replace(" ", "") in words, text


# ------------------------------------------------------------------ stats


def test_stats_in_the_learners_language_with_retention_forecast_and_a_plot(tmp_path):
    pytest.importorskip("matplotlib")
    from grader.quiz import stats

    now = datetime(2024, 6, 1, 12, tzinfo=timezone.utc)
    clock = [now - timedelta(days=20)]
    sched = QuizScheduler(lambda: clock[0], fuzz=False)
    with ProgressStore.open(tmp_path / "p.db") as store:
        sid = store.start_session(mode="review", seed=1, lang="ko", planned=4, now=clock[0])
        for qid, topic, remembered in (("a", "losses", True), ("b", "gpus", False)):
            clock[0] = now - timedelta(days=20)
            card = sched.review(sched.new_card(qid), True)
            store.record_answer(session_id=sid, qid=qid, topic=topic, given="", score=1,
                                correct=True, now=clock[0], card=card)
            clock[0] = card.due  # graduates to review
            before, card = card, sched.review(card, True)
            store.record_answer(session_id=sid, qid=qid, topic=topic, given="", score=1,
                                correct=True, now=clock[0], card=card, card_before=before)
            clock[0] = card.due  # its first review: remembered or forgotten
            before, card = card, sched.review(card, remembered)
            store.record_answer(session_id=sid, qid=qid, topic=topic, given="",
                                score=float(remembered), correct=remembered, now=clock[0],
                                card=card, card_before=before, rating=3 if remembered else 1)
        collected = stats.collect(store, now, timezone.utc)
        assert store.last_lang() == "ko"
    assert collected.retention_all.reviews == 2 and collected.retention_all.passed == 1
    assert sum(n for _, n in collected.forecast) == 2 and len(collected.forecast) == 30
    console = Console(file=io.StringIO(), width=120)
    console.print(stats.render(collected, "ko"))
    text = flat(console.file.getvalue())  # type: ignore[attr-defined]
    assert "손실 함수" in text and "기억 유지율" in text and "50% (1/2)" in text
    assert "loss functions" not in text
    png = tmp_path / "stats.png"
    stats.plot(collected, png, "ko")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000


def test_stats_plot_option_and_its_errors(tmp_path):
    home = tmp_path / "home"
    runner.invoke(app, ["quiz", "--bank", str(FIXTURE), "--n", "1", "--seed", "1", "--lang",
                        "en"], input="s\n", env={"DLGRADE_HOME": str(home)})
    png = tmp_path / "s.png"
    ok = runner.invoke(app, ["quiz", "stats", "--plot", str(png)], env={"DLGRADE_HOME": str(home)})
    assert ok.exit_code == 0 and png.exists(), ok.output
    bad = runner.invoke(app, ["quiz", "stats", "--plot", str(tmp_path / "s.jpg")],
                        env={"DLGRADE_HOME": str(home)})
    assert bad.exit_code == 2 and "give a .png file" in bad.output


def test_key_answers_of_the_imported_bundled_bank_still_score(tmp_path):
    csv_file = tmp_path / "deck.csv"
    write_csv(load_bank().questions, csv_file)
    import_deck(csv_file, tmp_path / "deck.yaml")
    for q in load_bank(tmp_path / "deck.yaml", cache=False).questions:
        view = present(q, 3)
        assert grade(view, key_answer(view)).score == 1.0, q.id
