"""The dashboard's grade adjustments over HTTP against a real server: extend, excuse,
override with a reason, revert; who is the instructor token; every bad input is a 4xx with
one line; nothing happens without the session cookie and the page's CSRF token."""

from __future__ import annotations

import http.client
import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlencode

import pytest

pytest.importorskip("fastapi")

from server_helpers import Server, import_roster, start_server  # noqa: E402

from grader.classroom.adjustments import list_adjustments  # noqa: E402
from grader.classroom.gradebook import SIMILAR, Gradebook  # noqa: E402
from grader.classroom.late import assess  # noqa: E402
from grader.classroom.receipts import SubmissionStore  # noqa: E402
from grader.classroom.standing import final_grades  # noqa: E402
from grader.course import load_course  # noqa: E402
from grader.grading.results import Report, TestResult  # noqa: E402

DUE = datetime(2030, 3, 14, 23, 59, tzinfo=timezone.utc)
COURSE = """name = "Adjust course"
[late_policy]
kind = "per_day"
percent = 10
[due]
losses = 2030-03-14T23:59:00Z
"""
STUDENTS = ["ahn", "baek", "cho"]
LATE_DAYS = {"ahn": 0, "baek": 2, "cho": 0}


def report(student: str) -> Report:
    tests = [TestResult(f"case{i}", "mse", 25.0, 25.0, "passed", "", 0.01, "visible") for i in range(4)]
    return Report("losses", student, "0" * 64, "", tests)


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Server:
    home = tmp_path_factory.mktemp("adjust")
    (home / "course.toml").write_text(COURSE)
    data = home / "server-data"
    tokens = import_roster(data, STUDENTS, home)
    course = load_course(home / "course.toml")
    store = SubmissionStore(data)
    with Gradebook(data / "gradebook.db") as gb:
        for student in STUDENTS:
            when = DUE + timedelta(days=LATE_DAYS[student], minutes=-30)
            store.accept(student, "losses", ".py", f"# {student}\n".encode(), now=when)
            rep = report(student)
            gb.record(rep, student=student, assignment="losses", path="x", submitted_at=when,
                      submitted_at_source="receipt",
                      lateness=assess(rep.score, when, DUE, course.late_policy), due=DUE)
        with gb.write() as c:
            c.execute("INSERT INTO similarity_flags (kind, assignment, student, other, score, sha256, "
                      "other_sha256, detail, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      (SIMILAR, "losses", "ahn", "cho", 0.88, "a" * 64, "b" * 64, "{}",
                       "2030-03-15T00:00:00Z"))
    srv = start_server(data, home, course=home / "course.toml", tokens=tokens)
    yield srv
    srv.stop()


def request(server: Server, method: str, path: str, form: dict[str, str] | None = None,
            cookie: str | None = None) -> tuple[int, dict[str, str], str]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    headers = {"Content-Type": "application/x-www-form-urlencoded"} if form is not None else {}
    if cookie:
        headers["Cookie"] = cookie
    conn.request(method, path, body=urlencode(form).encode() if form is not None else None,
                 headers=headers)
    resp = conn.getresponse()
    body = resp.read().decode("utf-8", "replace")
    out = resp.status, {k.lower(): v for k, v in resp.getheaders()}, body
    conn.close()
    return out


@pytest.fixture(scope="module")
def session(server: Server) -> tuple[str, str]:
    """(cookie, csrf) of a logged-in instructor."""
    status, headers, _ = request(server, "POST", "/instructor/login",
                                 {"token": server.tokens["@instructor"]})
    assert status == 303, status
    cookie = headers["set-cookie"].split(";")[0]
    status, _, page = request(server, "GET", "/instructor", cookie=cookie)
    assert status == 200 and "instructor dashboard" in page
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    assert csrf is not None
    return cookie, csrf.group(1)


def detail(body: str) -> str:
    return json.loads(body)["detail"]


def grade(server: Server, student: str):
    (rec,) = final_grades(server.data / "gradebook.db", load_course(server.data.parent / "course.toml"),
                          students=[student], with_missing=False)
    return rec


def post(server: Server, session: tuple[str, str], path: str, **fields: str) -> tuple[int, str]:
    cookie, csrf = session
    status, _, body = request(server, "POST", path, {"csrf": csrf, **fields}, cookie=cookie)
    return status, body


def test_an_extension_removes_the_late_penalty_and_shows_the_new_due_date(server, session) -> None:
    assert grade(server, "baek").score == 80.0  # 2 days late, 10 % a day
    status, body = post(server, session, "/instructor/student/baek/losses/extend",
                        until="2030-03-17T12:00Z", reason="medical certificate")
    assert status == 303, body
    rec = grade(server, "baek")
    assert rec.score == 100.0 and rec.late_days == 0 and rec.due == "2030-03-17T12:00:00Z"
    (adj,) = [a for a in list_adjustments(server.data / "gradebook.db", student="baek") if a.active]
    assert (adj.kind, adj.made_by, adj.reason) == ("extend", "@instructor", "medical certificate")
    _, _, page = request(server, "GET", "/instructor/student/baek", cookie=session[0])
    assert "due date extended to 2030-03-17 12:00 UTC" in page and "medical certificate" in page
    _, _, overview = request(server, "GET", "/instructor", cookie=session[0])
    late = overview[overview.index('<h3>Late</h3>'):overview.index("<h3>Not handed in")]
    assert "baek" not in late  # on time under the extension
    assert re.search(r'id="score-baek-losses">100\.0 <span class="muted">\(extended\)', overview)


def test_override_with_a_reason_then_revert(server, session) -> None:
    status, body = post(server, session, "/instructor/student/ahn/losses/override",
                        points="42.5", reason="plagiarism hearing outcome")
    assert status == 303, body
    assert grade(server, "ahn").score == 42.5
    _, _, overview = request(server, "GET", "/instructor", cookie=session[0])
    assert re.search(r'id="score-ahn-losses">42\.5 <span class="muted">\(override\)', overview)
    assert "override to 42.5 points: plagiarism hearing outcome" in overview
    (adj,) = [a for a in list_adjustments(server.data / "gradebook.db", student="ahn") if a.active]
    status, body = post(server, session, f"/instructor/revert/{adj.id}")
    assert status == 303, body
    assert grade(server, "ahn").score == 100.0
    status, body = post(server, session, f"/instructor/revert/{adj.id}")
    assert status == 409 and "already reverted by @instructor" in detail(body)
    _, _, overview = request(server, "GET", "/instructor", cookie=session[0])
    assert f'id="revert-{adj.id}"' not in overview and "reverted by @instructor" in overview


def test_excuse_shows_on_the_dashboard_and_in_the_students_feedback(server, session) -> None:
    status, body = post(server, session, "/instructor/student/cho/losses/excuse", reason="bereavement")
    assert status == 303, body
    assert grade(server, "cho").status == "excused"
    _, _, overview = request(server, "GET", "/instructor", cookie=session[0])
    assert 'id="score-cho-losses">excused</td>' in overview
    assert post(server, session, "/instructor/release/losses")[0] == 303
    status, text = server.call("GET", "/api/feedback/losses", token=server.tokens["cho"])
    assert status == 200 and "## losses: excused" in text, text


@pytest.mark.parametrize(("path", "fields", "status", "says"), [
    ("/instructor/student/ahn/losses/override", {"points": "90", "reason": "  "}, 400, "reason is required"),
    ("/instructor/student/ahn/losses/override", {"points": "ninety", "reason": "r"}, 400, "must be a number"),
    ("/instructor/student/ahn/losses/override", {"points": "nan", "reason": "r"}, 400, "finite"),
    ("/instructor/student/ahn/losses/override", {"points": "101", "reason": "r"}, 400, "between 0 and 100"),
    ("/instructor/student/ahn/losses/override", {"points": "-1", "reason": "r"}, 400, "between 0 and 100"),
    ("/instructor/student/ahn/losses/extend", {"until": "", "reason": "r"}, 400, "new due date"),
    ("/instructor/student/ahn/losses/extend", {"until": "next tuesday", "reason": "r"}, 400,
     "not a date"),
    ("/instructor/student/ahn/losses/delete", {"reason": "r"}, 404, "unknown action"),
    ("/instructor/student/nobody/losses/excuse", {"reason": "r"}, 404, "no student"),
    ("/instructor/student/ahn/nonsense/excuse", {"reason": "r"}, 404, "unknown assignment"),
    ("/instructor/revert/99999", {}, 404, "no adjustment 99999"),
    ("/instructor/revert/abc", {}, 400, "not an adjustment id"),
])
def test_bad_input_is_one_line_and_records_nothing(server, session, path, fields, status, says) -> None:
    before = list_adjustments(server.data / "gradebook.db")
    got, body = post(server, session, path, **fields)
    assert got == status and says in detail(body), body
    assert "Traceback" not in body
    assert list_adjustments(server.data / "gradebook.db") == before


def test_no_session_or_no_csrf_changes_nothing(server, session) -> None:
    before = list_adjustments(server.data / "gradebook.db")
    form = {"points": "0", "reason": "forged"}
    status, _, body = request(server, "POST", "/instructor/student/ahn/losses/override", form,
                              cookie=session[0])
    assert status == 403 and "CSRF" in detail(body)
    status, _, body = request(server, "POST", "/instructor/student/ahn/losses/override",
                              {**form, "csrf": "ünicode-forgery"}, cookie=session[0])
    assert status == 403 and "CSRF" in detail(body)
    status, _, body = request(server, "POST", "/instructor/student/ahn/losses/override",
                              {**form, "csrf": session[1]})
    assert status == 401 and "log in" in detail(body)
    status, _, body = request(server, "POST", "/instructor/revert/1", {"csrf": session[1]})
    assert status == 401
    assert list_adjustments(server.data / "gradebook.db") == before


def test_similarity_flags_show_on_the_dashboard_as_flags_only(server, session) -> None:
    _, _, overview = request(server, "GET", "/instructor", cookie=session[0])
    part = overview[overview.index("<h3>Similarity flags</h3>"):overview.index("<h3>Late</h3>")]
    assert "ahn: similar to cho (0.88)" in part and "score unchanged" in part


def test_a_student_page_has_the_forms(server, session) -> None:
    status, _, page = request(server, "GET", "/instructor/student/ahn", cookie=session[0])
    assert status == 200
    for action in ("extend", "override", "excuse"):
        assert f'action="/instructor/student/ahn/losses/{action}"' in page
        assert f'id="{action}-losses"' in page
    assert page.count(f'name="csrf" value="{session[1]}"') >= 3
    status, _, _ = request(server, "GET", "/instructor/student/ahn")
    assert status == 401


def test_a_missing_gradebook_is_a_conflict_not_a_crash(tmp_path: Path) -> None:
    data = tmp_path / "server-data"
    tokens = import_roster(data, ["ahn"], tmp_path)
    (tmp_path / "course.toml").write_text(COURSE)
    srv = start_server(data, tmp_path, course=tmp_path / "course.toml", tokens=tokens)
    try:
        status, headers, _ = request(srv, "POST", "/instructor/login", {"token": tokens["@instructor"]})
        cookie = headers["set-cookie"].split(";")[0]
        _, _, page = request(srv, "GET", "/instructor/student/ahn", cookie=cookie)
        csrf = re.search(r'name="csrf" value="([^"]+)"', page)
        assert csrf is not None, page
        status, _, body = request(srv, "POST", "/instructor/student/ahn/losses/excuse",
                                  {"csrf": csrf.group(1), "reason": "r"}, cookie=cookie)
        assert status == 409 and "nothing is graded yet" in detail(body)
        assert not (data / "gradebook.db").exists()
    finally:
        srv.stop()
