"""The similarity check's engine: normalised tokens, fingerprints, what is not evidence,
the class-based threshold, the reference-leak check, and bad input set aside."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("copydetect")

from bench_helpers import load_benchmark  # noqa: E402

from grader.catalog import ROOT  # noqa: E402
from grader.similarity.detect import Settings, compare_assignment, compare_class  # noqa: E402
from grader.similarity.fingerprints import fingerprint, kgram_hashes, overlap  # noqa: E402
from grader.similarity.sources import Source, committed_stub  # noqa: E402
from grader.similarity.threshold import class_threshold  # noqa: E402
from grader.similarity.tokens import normalise  # noqa: E402

corpus_module = load_benchmark("similarity_corpus")

ORIGINAL = '''
import numpy as np

def huber(pred, target, delta=1.0):
    """Huber loss."""
    r = np.abs(pred - target)  # the residual
    h = np.where(r <= delta, 0.5 * r ** 2, delta * (r - 0.5 * delta))
    return float(h.sum() / pred.shape[0])
'''

RENAMED = '''
import numpy as xp


def huber(pred, target, delta=2.0):
    residual_magnitude = xp.abs(pred - target)

    per_element = xp.where(residual_magnitude <= delta, 0.25 * residual_magnitude ** 3,
                           delta * (residual_magnitude - 0.5 * delta))
    # the mean over the batch
    return float(per_element.sum() / pred.shape[0])
'''


def test_renaming_literals_comments_and_layout_do_not_change_the_tokens() -> None:
    assert normalise(ORIGINAL).text == normalise(RENAMED).text


def test_what_a_copier_cannot_rename_is_kept() -> None:
    a = normalise("import numpy as np\ny = np.sum(x, axis=1)\nz = len(y)\nw = y.shape\n").text
    assert "numpy" in a and "sum" in a and "axis" in a and "len" in a and "shape" in a
    assert "x" not in a and "y" not in a  # the student's own names
    assert normalise("y = np.sum(x)").text != normalise("y = np.mean(x)").text


def test_spans_point_into_the_source() -> None:
    tokens = normalise(ORIGINAL)
    starts = [ORIGINAL[s:e] for s, e in tokens.spans[:6]]
    assert starts == ["import", "numpy", "as", "np", "def", "huber"]


def test_code_that_does_not_tokenize_is_still_read() -> None:
    broken = "def f(x:\n    return 'unterminated\n  y = x +\n"
    tokens = normalise(broken)
    assert len(tokens) > 3 and tokens.text[0] == "def"


def test_fingerprints_are_the_same_in_every_process() -> None:
    """Python's hash() changes per process; the fingerprints must not (same class, same report)."""
    code = ("import sys; sys.path.insert(0, sys.argv[1]);"
            "from grader.similarity.tokens import normalise;"
            "from grader.similarity.fingerprints import fingerprint;"
            "src = open(sys.argv[2]).read();"
            "print(sorted(fingerprint(normalise(src), 12, 6).positions)[:20])")
    outs = {subprocess.run([sys.executable, "-c", code, str(ROOT), str(ROOT / "reference" / "losses.py")],
                           capture_output=True, text=True, check=True, env={"PYTHONHASHSEED": seed}).stdout
            for seed in ("1", "2")}
    assert len(outs) == 1 and json.loads(outs.pop())


def test_a_renamed_copy_overlaps_fully_and_an_unrelated_file_does_not() -> None:
    a, b = fingerprint(normalise(ORIGINAL), 8, 4), fingerprint(normalise(RENAMED), 8, 4)
    assert overlap(a, b).coverage(a, b) == (1.0, 1.0)
    other = fingerprint(normalise("def f(a):\n    for i in range(10):\n        print(i, a)\n"), 8, 4)
    assert overlap(a, other).matched_a == 0
    assert len(kgram_hashes(normalise("x = 1"), 12)) == 0  # shorter than one k-gram


def src(student: str, text: str, assignment: str = "losses") -> Source:
    return Source(student, assignment, Path(f"{student}/{assignment}.py"), student * 4, text)


def test_the_committed_stub_is_not_evidence() -> None:
    stub, origin = committed_stub("losses")
    assert "raise NotImplementedError" in stub and "HEAD" in origin
    untouched = compare_assignment("losses", [src("ada", stub), src("ben", stub + "\n# done\n")],
                                   Settings(), stub=stub)
    assert not untouched.pairs
    assert {a.reason for a in untouched.set_aside} == {"nothing beyond the stub to compare"}
    filled = stub.replace("    raise NotImplementedError", "    return float(np.sum(pred))", 1)
    result = compare_assignment("losses", [src("ada", filled), src("ben", filled + "\n")],
                                Settings(), stub=stub)
    [pair] = result.pairs
    # all they share beyond the stub is one line: alike, but far too little to flag
    assert pair.score == 1.0 and pair.matched_a < Settings().min_matched_tokens and not pair.flagged


def test_code_most_of_the_class_shares_is_not_evidence() -> None:
    rng = corpus_module.random.Random(3)
    helper = corpus_module.fill_stub("losses", {}, True)  # the stub itself is subtracted
    shared = "\n".join(corpus_module._expand(v, {"N": "len({x})", "FLOAT": "float({e})"}, rng)
                       for v in corpus_module.LOSSES["gaussian_nll_grad"])
    shared_fn = "def common_helper(mean, target, var):\n" + "\n".join("    " + line for line in shared.split("\n"))
    students = []
    for i in range(8):
        own = corpus_module.honest("losses", f"s{i}", rng).text
        students.append(src(f"s{i}", own + "\n\n" + shared_fn + "\n"))
    with_filter = compare_assignment("losses", students, Settings(floor=0.3), stub=helper)
    without = compare_assignment("losses", students, Settings(floor=0.3, common_share=1.0), stub=helper)
    assert max(p.score for p in without.pairs) > max(p.score for p in with_filter.pairs)
    assert any("common code" in n for n in with_filter.notes)


def test_the_threshold_comes_from_the_class() -> None:
    few = class_threshold([0.1, 0.95], floor=0.8)
    assert few.value == 0.8 and "too few" in few.rule
    rng = np.random.default_rng(0)
    honest = np.clip(rng.normal(0.3, 0.1, 1000), 0, 1)
    t = class_threshold(honest, floor=0.5)
    assert abs(t.value - np.quantile(honest, 0.99)) < 0.03  # the estimate is the percentile
    # copies fill the top percent: the empirical percentile would be a copy's score, the estimate is not
    copied = np.concatenate([honest[:100], [0.97, 0.98, 0.99, 0.99, 0.96]])
    assert np.quantile(copied, 0.99) > 0.95
    assert class_threshold(copied, floor=0.5).value < 0.7
    assert class_threshold(honest, floor=0.8).value == 0.8
    alike = np.clip(rng.normal(0.8, 0.05, 500), 0, 1)  # an assignment where everyone is alike
    t = class_threshold(alike, floor=0.8)
    assert t.value > 0.9 and "percentile" in t.rule
    assert class_threshold(alike, floor=0.8, fixed=0.5).value == 0.5


@pytest.fixture(scope="module")
def small_class(tmp_path_factory: pytest.TempPathFactory):
    corpus = corpus_module.make_corpus(students_per_assignment=40, seed=5, copy_share=0.15,
                                       partial_share=0.0, leaks=1)
    root = tmp_path_factory.mktemp("class")
    corpus.write(root)
    return corpus, root, compare_class(root)


def test_disguised_copies_are_flagged_and_honest_pairs_are_not(small_class) -> None:
    """The benchmark's targets on a small labelled class: recall >= 0.9 on copies of one
    file, at most one false flag per 100 honest pairs."""
    corpus, _, results = small_class
    by = {(s.student, s.assignment): s for s in corpus.students}
    copies, honest = [], []
    for r in results:
        for p in r.pairs:
            a, b = by[(p.a.source.student, r.assignment)], by[(p.b.source.student, r.assignment)]
            if a.cluster == b.cluster:  # not the function or two taken from a second classmate
                copies.append(p)
            elif not corpus_module.is_copy_pair(a, b):
                honest.append(p)
    assert len(copies) >= 10 and len(honest) > 1000
    assert sum(p.flagged for p in copies) >= 0.9 * len(copies)
    assert sum(p.flagged for p in honest) <= len(honest) / 100


def test_a_submission_close_to_the_reference_is_its_own_flag(small_class) -> None:
    corpus, _, results = small_class
    for r in results:
        leakers = {s.student for s in corpus.by_assignment(r.assignment) if s.kind == "leak"}
        assert {m.doc.source.student for m in r.leaks} == leakers
        assert all(m.coverage < 0.75 for m in r.reference if m.doc.source.student not in leakers)


def test_bad_input_is_set_aside_one_line_each_and_the_rest_compared(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    import nbformat

    good = corpus_module.reference_filled("losses")
    honest = corpus_module.honest("losses", "x", corpus_module.random.Random(1)).text
    files = {
        "ada/losses.py": good,
        "ben/losses.py": honest,
        "empty/losses.py": "",
        "blank/losses.py": "\n\n   \n",
        "binary/losses.py": b"\x7fELF\x00\x01\x02" * 100,
        "latin1/losses.py": "x = 'caf\xe9'\n".encode("latin-1"),
        "broken-nb/losses.ipynb": '{"cells": [',
        "oneline/losses.py": "import numpy as np\n",
        "huge/losses.py": "x = 1\n" * 200_000,
    }
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("mine"),
                                               nbformat.v4.new_code_cell(good)])
    files["cho/losses.ipynb"] = nbformat.writes(notebook)
    for name, content in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    (tmp_path / "dan").mkdir()
    (tmp_path / "dan" / "losses.py").symlink_to(tmp_path / "ada" / "losses.py")
    [result] = compare_class(tmp_path, ["losses"], Settings(max_bytes=256 * 1024))
    reasons = {a.student: a.reason for a in result.set_aside}
    assert reasons == {
        "empty": "empty file", "blank": "empty file", "binary": "a binary file, not source code",
        "latin1": "not UTF-8 text (invalid continuation byte at byte 8)",
        "broken-nb": reasons["broken-nb"], "oneline": "too short to compare (4 tokens)",
        "huge": "1172 KiB, over the size cap of 256 KiB",
    }
    # the symbolic link never reaches the comparison: the shared finder refuses it in one line
    assert any("dan/losses.py is a symbolic link: refused" in r.getMessage() for r in caplog.records)
    assert reasons["broken-nb"].startswith("not a Jupyter notebook")
    assert all("\n" not in r for r in reasons.values())
    assert {d.source.student for d in result.documents} == {"ada", "ben", "cho"}
    # the notebook's code cells are the reference too: the copy is found across formats
    assert [p.students for p in result.flagged] == [("ada", "cho")]
