"""`dlgrade serve`: the HTTP API students hand in through, and the instructor's pages.

Student API (a bearer token from the roster; the student is whoever the token says):
```
GET  /api/health                     server time (no token)
GET  /api/whoami                     who this token belongs to
PUT  /api/submissions/{assignment}   the file's bytes as the body; X-Dlgrade-Filename: losses.py
GET  /api/receipts                   my receipts
GET  /api/feedback[/{assignment}]    feedback the instructor has released
```
Instructor: `GET /api/instructor/receipts` with the instructor token, and the dashboard
at `/instructor` (a login form sets a session cookie; see grader.server.dashboard). Its forms
post with the session cookie and the page's CSRF token:
```
POST /instructor/release/{assignment}
POST /instructor/student/{student}/{assignment}/{extend|excuse|override}   reason, until | points
POST /instructor/revert/{adjustment id}
```
Every refusal is an HTTP 4xx with one line in `detail`.
"""

from __future__ import annotations

import json
import math
import secrets
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timezone
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from grader.catalog import assignment_names
from grader.classroom import adjustments
from grader.classroom.adjustments import Adjustment, parse_when
from grader.classroom.feedback import student_markdown
from grader.classroom.gradebook import Gradebook, SimilarityFlag
from grader.classroom.receipts import (
    KeyReused,
    Receipt,
    SubmissionStore,
    iso,
    parse_time,
    utc_now,
    write_atomic,
)
from grader.classroom.standing import standings
from grader.course import Course
from grader.errors import UserError
from grader.server import dashboard
from grader.server.checks import MAX_UPLOAD_BYTES, Refused, check_parses, lateness, suffix_of
from grader.server.guard import Guard
from grader.server.public_check import PublicChecker
from grader.server.roster import INSTRUCTOR, Roster

RELEASED = "released.json"
GRADEBOOK = "gradebook.db"
SESSION_COOKIE = "dlgrade_session"
SESSION_SECONDS = 8 * 3600
CLIENT_SKEW_NOTE = 120.0  # seconds of difference worth telling the student about


@dataclass
class Session:
    expires: float
    csrf: str


@dataclass
class ServerState:
    data_dir: Path
    course: Course | None
    gradebook: Path
    store: SubmissionStore
    guard: Guard
    max_upload: int = MAX_UPLOAD_BYTES
    checker: PublicChecker | None = None
    sessions: dict[str, Session] = field(default_factory=dict)
    _roster: Roster | None = None
    _roster_mtime: float = -1.0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def roster(self) -> Roster:
        """The roster, re-read when `dlgrade roster import/rotate` changed it on disk."""
        path = self.data_dir / "roster.json"
        mtime = path.stat().st_mtime_ns if path.exists() else 0
        with self._lock:
            if self._roster is None or mtime != self._roster_mtime:
                self._roster, self._roster_mtime = Roster(self.data_dir), mtime
            return self._roster

    def released(self) -> dict[str, dict[str, str]]:
        try:
            data = json.loads((self.data_dir / RELEASED).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def release(self, assignment: str, by: str) -> None:
        with self._lock:
            data = self.released()
            data[assignment] = {"released_at": iso(utc_now()), "by": by}
            write_atomic(self.data_dir / RELEASED, (json.dumps(data, indent=1) + "\n").encode())

    def receipt_json(self, r: Receipt) -> dict[str, Any]:
        out = {k: v for k, v in r.to_dict().items() if k not in ("file", "key")}
        out["lateness"] = lateness(self.course, r.assignment, r.time)
        if self.checker is not None and (check := self.checker.result(r)) is not None:
            out["public_check"] = check
        return out


def _client(request: Request) -> str:
    return request.client.host if request.client else "?"


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPException(401, "no token: run `dlgrade login --server URL` with the token "
                                 "your instructor gave you")
    return token.strip()


async def _identify(request: Request, token: str) -> str:
    state: ServerState = request.app.state.dlgrade
    claimed = token.partition(":")[0][:80]
    address = _client(request)
    wait = state.guard.login_blocked(claimed, address)
    if wait:
        raise HTTPException(429, f"too many failed token attempts; try again in {wait:.0f} s",
                            headers={"Retry-After": str(int(wait) + 1)})
    roster = state.roster()
    who = await run_in_threadpool(roster.verify, token)
    if who is None:
        state.guard.failed(claimed, address)
        raise HTTPException(401, "this token is not valid (mistyped, or replaced by "
                                 "`dlgrade roster rotate`); ask your instructor")
    return who


async def student(request: Request) -> str:
    who = await _identify(request, _bearer(request))
    if who == INSTRUCTOR:
        raise HTTPException(403, "this is the instructor token; students hand in with their own")
    return who


async def instructor(request: Request) -> str:
    who = await _identify(request, _bearer(request))
    if who != INSTRUCTOR:
        raise HTTPException(403, "this needs the instructor token")
    return who


def _assignment(name: str) -> str:
    if name not in assignment_names():
        raise HTTPException(404, f"unknown assignment {name[:40]!r} "
                                 f"(choose from: {', '.join(assignment_names())})")
    return name


async def _read_body(request: Request, limit: int) -> bytes:
    """The body, refused before reading when Content-Length says it is too big, and cut off
    as soon as a body without (or lying about) its length goes past the limit."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            size = int(declared)
        except ValueError:
            raise HTTPException(400, "Content-Length is not a number") from None
        if size > limit:
            raise HTTPException(413, f"the file is {size / 1e6:.1f} MB; the limit is "
                                     f"{limit / 1e6:.1f} MB")
    chunks, total = [], 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > limit:
            raise HTTPException(413, f"the file is over the {limit / 1e6:.1f} MB limit")
        chunks.append(chunk)
    return b"".join(chunks)


def create_app(data_dir: Path, course: Course | None = None, *, gradebook: Path | None = None,
               uploads_per_minute: int | None = None, max_upload: int = MAX_UPLOAD_BYTES) -> FastAPI:
    data_dir = Path(data_dir)
    per_minute = uploads_per_minute or (course.server.uploads_per_minute if course else 10)
    checker = (PublicChecker(data_dir, course.server.public_check_jobs)
               if course is not None and course.server.public_check else None)
    state = ServerState(data_dir=data_dir, course=course, gradebook=gradebook or data_dir / GRADEBOOK,
                        store=SubmissionStore(data_dir), guard=Guard(per_minute), max_upload=max_upload,
                        checker=checker)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if state.checker is not None:
            state.checker.close()  # the sandbox's warm processes go with the server

    app = FastAPI(title="dlgrade", docs_url=None, redoc_url=None, openapi_url=None,
                  lifespan=lifespan)
    app.state.dlgrade = state

    @app.exception_handler(HTTPException)
    async def one_line(_request: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse({"detail": str(exc.detail)}, status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.get("/api/health")
    def health() -> dict[str, Any]:
        return {"ok": True, "server_time": iso(utc_now()),
                "course": course.name if course else None}

    @app.get("/api/whoami")
    def whoami(who: str = Depends(student)) -> dict[str, Any]:  # noqa: B008
        return {"student": who, "name": state.roster().name_of(who), "server_time": iso(utc_now())}

    @app.put("/api/submissions/{assignment}")
    async def hand_in(request: Request, assignment: str) -> JSONResponse:
        assignment = _assignment(assignment)
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > state.max_upload:
            await _read_body(request, state.max_upload)  # raises 413 before reading
        who = await student(request)
        claimed = request.headers.get("x-dlgrade-student")
        if claimed is not None and claimed != who:
            raise HTTPException(403, f"this token belongs to {who!r}, not {claimed[:64]!r}: "
                                     "nobody hands in for someone else")
        wait = state.guard.uploads.retry_after(who)
        if wait:
            raise HTTPException(429, f"too many hand-ins in a minute; try again in {wait:.0f} s",
                                headers={"Retry-After": str(int(wait) + 1)})
        filename = request.headers.get("x-dlgrade-filename", f"{assignment}.py")
        key = request.headers.get("idempotency-key")
        if key is not None and (len(key) > 100 or not key.isprintable()):
            raise HTTPException(400, "Idempotency-Key must be printable and at most 100 characters")
        try:
            suffix = suffix_of(filename)
            data = await _read_body(request, state.max_upload)
            if not data:
                raise Refused(f"{filename} is empty", 422)
            await run_in_threadpool(check_parses, data, suffix, filename)
            receipt, duplicate = await run_in_threadpool(
                state.store.accept, who, assignment, suffix, data, source="upload", key=key)
        except Refused as exc:
            raise HTTPException(exc.status, str(exc)) from None
        except KeyReused as exc:
            raise HTTPException(409, str(exc)) from None
        if not duplicate:
            state.guard.uploads.hit(who)
        check = None  # the receipt is written: the public check only adds to the answer
        if state.checker is not None and state.checker.result(receipt) is None:
            check = await run_in_threadpool(state.checker.check, receipt, state.store.path_of(receipt))
        body = state.receipt_json(receipt)
        if check is not None:
            body["public_check"] = check
        body["duplicate"] = duplicate
        body["server_time"] = iso(utc_now())
        client_time = request.headers.get("x-dlgrade-client-time")
        if client_time:
            try:
                skew = (parse_time(client_time) - parse_time(body["server_time"])).total_seconds()
            except ValueError:
                skew = None
            if skew is not None and abs(skew) > CLIENT_SKEW_NOTE:
                body["clock_note"] = (f"your clock is {abs(skew):.0f} s "
                                      f"{'ahead of' if skew > 0 else 'behind'} the server's; "
                                      "the server's time is the one that counts")
        return JSONResponse(body, status_code=200 if duplicate else 201)

    @app.get("/api/receipts")
    def my_receipts(who: str = Depends(student)) -> dict[str, Any]:  # noqa: B008
        return {"student": who, "server_time": iso(utc_now()),
                "receipts": [state.receipt_json(r) for r in state.store.receipts(who)]}

    @app.get("/api/feedback")
    def feedback_list(who: str = Depends(student)) -> dict[str, Any]:  # noqa: B008
        released = state.released()
        graded = {r.assignment for r in _records(state, [who])}
        return {"released": sorted(a for a in released if a in graded)}

    @app.get("/api/feedback/{assignment}")
    def feedback_one(assignment: str, who: str = Depends(student)) -> PlainTextResponse:  # noqa: B008
        assignment = _assignment(assignment)
        if assignment not in state.released():
            raise HTTPException(404, f"feedback on {assignment} has not been released yet")
        records = [r for r in _records(state, [who]) if r.assignment == assignment]
        if not records:
            raise HTTPException(404, f"no graded hand-in of {assignment} for {who}")
        return PlainTextResponse(student_markdown(who, records, state.course),
                                 media_type="text/markdown; charset=utf-8")

    @app.get("/api/instructor/receipts")
    def all_receipts(_who: str = Depends(instructor)) -> dict[str, Any]:  # noqa: B008
        return {"receipts": [state.receipt_json(r) for r in state.store.receipts()]}

    _dashboard_routes(app, state)
    return app


def _records(state: ServerState, students: list[str] | None = None) -> list[Any]:
    """Final grades (late penalties, extensions, overrides, excuses applied now) of what was graded."""
    if not state.gradebook.exists():
        return []
    try:
        with Gradebook(state.gradebook, create=False) as gb:
            return standings(gb, state.course, students=students, with_missing=False)
    except UserError as exc:  # not a gradebook, or a newer schema: the server's problem, said plainly
        raise HTTPException(503, f"the gradebook cannot be read: {exc}") from None


def _adjustments_and_flags(state: ServerState, student: str | None = None
                           ) -> tuple[list[Adjustment], list[SimilarityFlag]]:
    if not state.gradebook.exists():
        return [], []
    try:
        with Gradebook(state.gradebook, create=False) as gb:
            return adjustments.read_adjustments(gb, student=student), gb.similarity_flags(student)
    except UserError as exc:
        raise HTTPException(503, f"the gradebook cannot be read: {exc}") from None


# ---------------------------------------------------------------- the instructor's pages


def _session(request: Request) -> Session | None:
    state: ServerState = request.app.state.dlgrade
    sid = request.cookies.get(SESSION_COOKIE, "")
    session = state.sessions.get(sid)
    if session is None or session.expires < time.monotonic():
        state.sessions.pop(sid, None)
        return None
    return session


async def _form(request: Request) -> dict[str, str]:
    from urllib.parse import parse_qs

    raw = await _read_body(request, 16 * 1024)
    return {k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace")).items()}


def _dashboard_routes(app: FastAPI, state: ServerState) -> None:
    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/instructor", status_code=303)

    @app.get("/instructor", response_class=HTMLResponse)
    def overview(request: Request) -> HTMLResponse:
        session = _session(request)
        if session is None:
            return HTMLResponse(dashboard.login_page())
        made, flags = _adjustments_and_flags(state)
        view = dashboard.collect_view(state.course, state.roster(), state.store,
                                      _records(state), state.released(), state.gradebook,
                                      made, flags)
        return HTMLResponse(dashboard.overview_page(view, session.csrf))

    @app.get("/instructor/student/{ident}", response_class=HTMLResponse)
    def one_student(request: Request, ident: str) -> HTMLResponse:
        session = _session(request)
        if session is None:
            return HTMLResponse(dashboard.login_page(), status_code=401)
        _on_roster(ident)
        records = _records(state, [ident])
        made, _flags = _adjustments_and_flags(state, ident)
        return HTMLResponse(dashboard.student_page(ident, records, state.course, session.csrf,
                                                   _adjustable(records, made), made))

    def _on_roster(ident: str) -> str:
        if ident not in {m.id for m in state.roster().students}:
            raise HTTPException(404, f"no student {ident[:64]!r} in the roster")
        return ident

    def _adjustable(records: list[Any], made: list[Adjustment]) -> list[str]:
        """Assignments worth a form: graded, adjusted, handed in by anyone or with a due date."""
        seen = {r.assignment for r in records} | {a.assignment for a in made} \
            | {a for _s, a in state.store.latest()}
        return [a for a in assignment_names()
                if a in seen or (state.course is not None and state.course.due_date(a))]

    async def _checked_form(request: Request) -> dict[str, str]:
        """The form of a logged-in instructor's page, or 401/403 (no session, CSRF missing/wrong)."""
        session = _session(request)
        if session is None:
            raise HTTPException(401, "log in to the dashboard first")
        form = await _form(request)
        if not secrets.compare_digest(form.get("csrf", "").encode(), session.csrf.encode()):
            raise HTTPException(403, "the form is stale or forged (CSRF check); reload the page")
        return form

    def _points(text: str) -> float:
        try:
            points = float(text.strip())
        except ValueError:
            raise HTTPException(400, f"points must be a number (got {text.strip()[:40]!r})") from None
        if not math.isfinite(points):
            raise HTTPException(400, "points must be a finite number")
        return points

    @app.post("/instructor/student/{ident}/{assignment}/{action}")
    async def adjust(request: Request, ident: str, assignment: str, action: str) -> RedirectResponse:
        form = await _checked_form(request)
        ident, assignment = _on_roster(ident), _assignment(assignment)
        reason = form.get("reason", "")
        if not reason.strip():
            raise HTTPException(400, f"say why: a reason is required (it is recorded with the {action})")
        if not state.gradebook.exists():
            raise HTTPException(409, "nothing is graded yet: run `dlgrade grade-batch DATA --db "
                                     "DATA/gradebook.db` first")
        db, by = state.gradebook, INSTRUCTOR
        try:
            if action == "override":
                points = _points(form.get("points", ""))
                await run_in_threadpool(adjustments.override, db, ident, assignment, points,
                                        reason=reason, by=by)
            elif action == "extend":
                text = form.get("until", "").strip()
                if not text:
                    raise HTTPException(400, "give the new due date (like 2030-03-20 or "
                                             "2030-03-20T18:00)")
                until = parse_when(text, state.course.tz if state.course else timezone.utc)
                await run_in_threadpool(adjustments.extend, db, ident, assignment, until,
                                        reason=reason, by=by)
            elif action == "excuse":
                await run_in_threadpool(adjustments.excuse, db, ident, assignment, reason=reason, by=by)
            else:
                raise HTTPException(404, f"unknown action {action[:40]!r} (choose from: "
                                         f"{', '.join(adjustments.KINDS)})")
        except UserError as exc:
            raise HTTPException(400, str(exc)) from None
        return RedirectResponse(f"/instructor/student/{ident}", status_code=303)

    @app.post("/instructor/revert/{adjustment_id}")
    async def revert(request: Request, adjustment_id: str) -> RedirectResponse:
        await _checked_form(request)
        if not adjustment_id.isdigit() or len(adjustment_id) > 18:
            raise HTTPException(400, f"not an adjustment id: {adjustment_id[:40]!r}")
        if not state.gradebook.exists():
            raise HTTPException(404, f"no adjustment {adjustment_id}: nothing is graded yet")
        try:
            done = await run_in_threadpool(adjustments.revert, state.gradebook, int(adjustment_id),
                                           by=INSTRUCTOR)
        except UserError as exc:
            status = 404 if str(exc).startswith("no adjustment") else 409
            raise HTTPException(status, str(exc)) from None
        return RedirectResponse(f"/instructor#adjustment-{done.id}", status_code=303)

    @app.post("/instructor/login")
    async def login(request: Request) -> Any:
        form = await _form(request)
        token = form.get("token", "").strip()
        if not token:
            return HTMLResponse(dashboard.login_page("enter the instructor token"), status_code=400)
        try:
            who = await _identify(request, token)
        except HTTPException as exc:
            return HTMLResponse(dashboard.login_page(str(exc.detail)), status_code=exc.status_code)
        if who != INSTRUCTOR:
            return HTMLResponse(dashboard.login_page("this is a student token; the dashboard "
                                                     "needs the instructor token"), status_code=403)
        sid = secrets.token_urlsafe(32)
        state.sessions[sid] = Session(time.monotonic() + SESSION_SECONDS, secrets.token_urlsafe(16))
        response = RedirectResponse("/instructor", status_code=303)
        response.set_cookie(SESSION_COOKIE, sid, httponly=True, samesite="strict",
                            secure=request.url.scheme == "https", max_age=SESSION_SECONDS)
        return response

    @app.post("/instructor/logout")
    def logout(request: Request) -> RedirectResponse:
        state.sessions.pop(request.cookies.get(SESSION_COOKIE, ""), None)
        response = RedirectResponse("/instructor", status_code=303)
        response.delete_cookie(SESSION_COOKIE)
        return response

    @app.post("/instructor/release/{assignment}")
    async def release(request: Request, assignment: str) -> RedirectResponse:
        await _checked_form(request)
        state.release(_assignment(assignment), by=INSTRUCTOR)
        return RedirectResponse(f"/instructor#{assignment}", status_code=303)
