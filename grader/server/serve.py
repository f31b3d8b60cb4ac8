"""Starting the server: where it listens, TLS, and refusing to send tokens in clear by accident."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from grader.course import Course
from grader.errors import UserError
from grader.sandbox import bwrap


@dataclass(frozen=True)
class ServeOptions:
    data: Path
    host: str = "127.0.0.1"
    port: int = 8000
    certfile: Path | None = None
    keyfile: Path | None = None
    allow_plain_http: bool = False
    allow_weak_sandbox: bool = False


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_options(opts: ServeOptions) -> None:
    if (opts.certfile is None) != (opts.keyfile is None):
        raise UserError("--certfile and --keyfile go together")
    for path in (opts.certfile, opts.keyfile):
        if path is not None and not path.is_file():
            raise UserError(f"no such file: {path}")
    if opts.certfile is None and not is_loopback(opts.host) and not opts.allow_plain_http:
        raise UserError(f"{opts.host} is reachable from other machines and there is no TLS: tokens "
                        "would travel in clear. Give --certfile/--keyfile, or bind 127.0.0.1 "
                        "behind a TLS reverse proxy, or accept it with --allow-plain-http")
    if opts.data.exists() and not opts.data.is_dir():
        raise UserError(f"data folder {opts.data} is a file")


def check_sandbox(opts: ServeOptions, course: Course | None) -> str | None:
    """The public check runs student code here: without bwrap's layer that needs an opt-in."""
    if course is None or not course.server.public_check:
        return None
    state = bwrap.status()
    if state.working:
        return f"public check on hand-in: on ({course.server.public_check_jobs} at a time, under bwrap)"
    if not opts.allow_weak_sandbox:
        raise UserError(f"public_check runs student code on this server, and bwrap is not working "
                        f"here ({state.detail}): install bubblewrap, or accept the weaker sandbox "
                        "with --allow-weak-sandbox (see dlgrade doctor)")
    return ("WARNING: public check on hand-in runs student code without bwrap's file-system and "
            "network layer (--allow-weak-sandbox)")


def run(opts: ServeOptions, course: Course | None, say: Callable[[str], None] = print) -> None:
    """Serve until interrupted (uvicorn; one process, so one receipt log writer)."""
    check_options(opts)
    sandbox_line = check_sandbox(opts, course)
    try:
        import uvicorn

        from grader.server.app import create_app
    except ImportError:
        raise UserError("the course server needs the `server` extra: pip install 'dlgrade[server]'") from None
    app = create_app(opts.data, course)
    state = app.state.dlgrade
    scheme = "https" if opts.certfile else "http"
    students = len(state.roster().students)
    say(f"dlgrade serve: {scheme}://{opts.host}:{opts.port}  data {opts.data.resolve()}  "
        f"{students} students on the roster, {len(state.store.receipts())} receipts")
    if students == 0:
        say("no roster yet: dlgrade roster import roster.csv --data " + str(opts.data))
    if opts.certfile is None:
        if is_loopback(opts.host):
            say("plain HTTP on loopback: for students on other machines, put a TLS reverse proxy "
                "(Caddy, nginx) in front, or pass --certfile/--keyfile (see README)")
        else:
            say("WARNING: plain HTTP on a network address (--allow-plain-http): tokens travel in clear")
    if sandbox_line:
        say(sandbox_line)
    say(f"dashboard: {scheme}://{opts.host}:{opts.port}/instructor")
    uvicorn.run(app, host=opts.host, port=opts.port, log_level="warning",
                ssl_certfile=str(opts.certfile) if opts.certfile else None,
                ssl_keyfile=str(opts.keyfile) if opts.keyfile else None,
                proxy_headers=True, server_header=False)
