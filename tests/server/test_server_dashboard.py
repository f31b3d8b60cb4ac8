"""The instructor dashboard in a real headless chromium (Debian's; skipped without it)."""

from __future__ import annotations

import os
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
webdriver = pytest.importorskip("selenium.webdriver")

from selenium.common.exceptions import WebDriverException  # noqa: E402
from selenium.webdriver.chrome.options import Options  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402
from server_helpers import Server, import_roster, start_server  # noqa: E402

from grader.classroom.gradebook import Gradebook  # noqa: E402
from grader.classroom.late import assess  # noqa: E402
from grader.classroom.receipts import SubmissionStore  # noqa: E402
from grader.grading.results import Report, TestResult  # noqa: E402

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
DUE = datetime(2030, 3, 14, 23, 59, tzinfo=timezone.utc)
COURSE = """name = "Dashboard course"
[late_policy]
kind = "per_day"
percent = 10
[due]
losses = 2030-03-14T23:59:00Z
"""
SHOTS = Path(os.environ.get("DLGRADE_SCREENSHOTS", "")) if os.environ.get("DLGRADE_SCREENSHOTS") else None

# student: (minutes after the due time, [(case, passed, message)])
CLASS = {
    "ahn": (-600, [("mse_basic", True, ""), ("mse_batch", True, ""), ("ce_basic", True, "")]),
    "baek": (-30, [("mse_basic", True, ""), ("mse_batch", False, "max abs error 0.5 at [3]"),
                   ("ce_basic", True, "")]),
    "cho": (2 * 1440, [("mse_basic", False, "timed out after 2 s"),
                       ("mse_batch", False, "timed out after 2 s"), ("ce_basic", True, "")]),
    "<script>x</script>": (-5, [("mse_basic", False, "dlgrade sandbox: reading /etc/shadow is not "
                                 "allowed <b>bold</b>"), ("mse_batch", True, ""), ("ce_basic", True, "")]),
}
MISSING = ["dan", "eun"]


def report(student: str, cases: list[tuple[str, bool, str]]) -> Report:
    tests = [TestResult(name, name.split("_")[0], 100 / 3 if ok else 0.0, 100 / 3,
                        "passed" if ok else "failed", msg, 0.01, "visible")
             for name, ok, msg in cases]
    return Report("losses", student, f"{abs(hash(student)):064x}"[:64], "", tests)


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Server:
    home = tmp_path_factory.mktemp("dash")
    (home / "course.toml").write_text(COURSE)
    data = home / "server-data"
    ids = ["ahn", "baek", "cho", "dan", "eun"]
    tokens = import_roster(data, ids, home)
    store = SubmissionStore(data)
    from datetime import timedelta

    from grader.course import load_course

    course = load_course(home / "course.toml")
    with Gradebook(data / "gradebook.db") as gb:
        for student, (minutes, cases) in CLASS.items():
            when = DUE + timedelta(minutes=minutes)
            if student in ids:
                store.accept(student, "losses", ".py", f"# {student}\n".encode(), now=when)
            rep = report(student, cases)
            gb.record(rep, student=student, assignment="losses", path="x", submitted_at=when,
                      submitted_at_source="receipt",
                      lateness=assess(rep.score, when, DUE, course.late_policy), due=DUE)
        with gb.write() as c:  # as `dlgrade similarity` records a pair: a flag, never a score
            c.execute("INSERT INTO similarity_flags (kind, assignment, student, other, score, sha256, "
                      "other_sha256, detail, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      ("similar", "losses", "ahn", "baek", 0.93, "a" * 64, "b" * 64, "{}",
                       "2030-03-16T00:00:00Z"))
    srv = start_server(data, home, course=home / "course.toml", tokens=tokens)
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def browser():
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.skip("no chromium/chromedriver here (apt-get install chromium chromium-driver)")
    opts = Options()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1280,2400"):
        opts.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def shot(driver, name: str) -> None:
    if SHOTS is not None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(SHOTS / f"{name}.png"))


def click_and_wait(browser, element) -> None:
    """Click, and wait until the page it leads to has replaced this one."""
    page = browser.find_element(By.TAG_NAME, "html")
    element.click()

    def replaced(_driver) -> bool:
        # Chromium may answer a question about the old page's node with "does not belong to
        # the document" rather than a stale-element error: both mean the page was replaced.
        try:
            return expected_conditions.staleness_of(page)(_driver)
        except WebDriverException:
            return True

    WebDriverWait(browser, 15).until(replaced)


def log_in(browser, server: Server, token: str) -> None:
    browser.get(server.url + "/instructor")
    browser.delete_all_cookies()  # a fresh login each time
    browser.get(server.url + "/instructor")
    field = browser.find_element(By.ID, "token")
    field.clear()
    field.send_keys(token)
    click_and_wait(browser, browser.find_element(By.ID, "login"))


def test_a_student_token_does_not_open_the_dashboard(browser, server: Server) -> None:
    log_in(browser, server, server.tokens["ahn"])
    assert "student token" in browser.find_element(By.ID, "error").text
    log_in(browser, server, "@instructor:" + "w" * 43)
    assert "not valid" in browser.find_element(By.ID, "error").text
    shot(browser, "login-refused")


def test_the_dashboard_shows_the_class(browser, server: Server) -> None:
    log_in(browser, server, server.tokens["@instructor"])
    assert "instructor dashboard" in browser.find_element(By.TAG_NAME, "h1").text
    section = browser.find_element(By.ID, "losses")
    bars = section.find_elements(By.CSS_SELECTOR, "svg.histogram rect.bar")
    counts = [int(b.get_attribute("data-count")) for b in bars]
    assert len(bars) == 10 and sum(counts) == len(CLASS)
    assert counts[-1] == 1  # ahn's 100
    assert all(b.size["height"] > 0 for b, c in zip(bars, counts, strict=True) if c)
    flagged = section.find_element(By.CLASS_NAME, "flagged").text
    assert "cho: timeout in mse_basic" in flagged
    assert "<script>x</script>: blocked in mse_basic" in flagged  # escaped, shown as text
    late = section.find_element(By.CLASS_NAME, "late-list").text
    assert "cho" in late and "late by 2 d" in late and "baek" not in late
    assert section.find_element(By.CLASS_NAME, "missing").text == "dan, eun"
    failures = section.find_element(By.CLASS_NAME, "failures").text
    assert "mse_basic" in failures and "2/4" in failures
    assert not browser.find_elements(By.TAG_NAME, "script")  # nothing from a student runs
    assert "ahn: similar to baek (0.93)" in section.find_element(By.CLASS_NAME, "similar").text
    shot(browser, "dashboard")


def test_a_students_feedback_page(browser, server: Server) -> None:
    log_in(browser, server, server.tokens["@instructor"])
    click_and_wait(browser, browser.find_element(By.LINK_TEXT, "feedback"))  # the first student: ahn
    assert "Feedback for ahn" in browser.find_element(By.TAG_NAME, "h1").text
    browser.get(server.url + "/instructor/student/cho")
    text = browser.find_element(By.TAG_NAME, "body").text
    assert "timed out after 2 s" in text and "2 day(s) late" in text, text
    shot(browser, "student-cho")


def test_releasing_feedback_reaches_the_student(browser, server: Server) -> None:
    status, body = server.call("GET", "/api/feedback/losses", token=server.tokens["baek"])
    assert status == 404
    log_in(browser, server, server.tokens["@instructor"])
    click_and_wait(browser, browser.find_element(By.ID, "release-losses"))
    assert "Feedback released" in browser.find_element(By.CLASS_NAME, "released").text
    assert not browser.find_elements(By.ID, "release-losses")
    shot(browser, "released")
    status, body = server.call("GET", "/api/feedback/losses", token=server.tokens["baek"])
    assert status == 200 and "# Feedback for baek" in body and "ahn" not in body


def fill(browser, fields: dict[str, str]) -> None:
    for ident, text in fields.items():
        box = browser.find_element(By.ID, ident)
        box.clear()
        box.send_keys(text)


def test_an_extension_and_an_override_through_the_forms(browser, server: Server) -> None:
    log_in(browser, server, server.tokens["@instructor"])
    before = browser.find_element(By.ID, "score-cho-losses").text
    assert before == "26.7"  # 33.3 points, 2 days late at 10 % a day
    browser.get(server.url + "/instructor/student/cho")
    fill(browser, {"extend-losses-until": "2030-03-17", "extend-losses-reason": "flu, note from the clinic"})
    click_and_wait(browser, browser.find_element(By.ID, "extend-losses"))
    text = browser.find_element(By.TAG_NAME, "body").text
    assert "due date extended to 2030-03-17 23:59 UTC" in text, text
    assert "losses: 33.3333 / 100\n" in text and "UTC: on time" in text, text
    assert "extension until 2030-03-17 23:59 UTC: flu, note from the clinic" in \
        browser.find_element(By.CLASS_NAME, "adjustments").text
    shot(browser, "student-cho-extended")

    browser.get(server.url + "/instructor/student/baek")
    fill(browser, {"override-losses-points": "120", "override-losses-reason": "regraded by hand"})
    click_and_wait(browser, browser.find_element(By.ID, "override-losses"))
    assert "between 0 and 100" in browser.find_element(By.TAG_NAME, "body").text  # refused, one line
    browser.get(server.url + "/instructor/student/baek")
    fill(browser, {"override-losses-points": "95", "override-losses-reason": "regraded by hand"})
    click_and_wait(browser, browser.find_element(By.ID, "override-losses"))
    assert "score set by the instructor: 95" in browser.find_element(By.TAG_NAME, "body").text

    browser.get(server.url + "/instructor")
    assert browser.find_element(By.ID, "score-cho-losses").text == "33.3 (extended)"
    assert browser.find_element(By.ID, "score-baek-losses").text == "95.0 (override)"
    late = browser.find_element(By.CLASS_NAME, "late-list").text if \
        browser.find_elements(By.CLASS_NAME, "late-list") else ""
    assert "cho" not in late  # on time under the extension
    table = browser.find_element(By.CLASS_NAME, "adjustments").text
    assert "override to 95 points: regraded by hand" in table and "@instructor" in table
    shot(browser, "dashboard-adjusted")
