"""The student's side: `login`, `submit`, `status`, `feedback` against a course server.

Only the standard library (urllib), so a student's install needs nothing the server does.
The server URL and token live in `<config>/server.json`, mode 0600, where `<config>` is
`$DLGRADE_CONFIG_DIR` or the user config folder (platformdirs).
"""

from __future__ import annotations

import json
import os
import re
import ssl
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from grader.classroom.receipts import iso, utc_now
from grader.errors import UserError
from grader.server.checks import MAX_UPLOAD_BYTES

CONFIG_ENV = "DLGRADE_CONFIG_DIR"
CONFIG_FILE = "server.json"
TIMEOUT = 60.0
RETRIES = 3


def config_dir() -> Path:
    env = os.environ.get(CONFIG_ENV)
    if env:
        return Path(env)
    from platformdirs import user_config_dir

    return Path(user_config_dir("dlgrade"))


@dataclass
class ClientConfig:
    server: str
    token: str
    student: str
    cafile: str | None = None


def load_config() -> ClientConfig | None:
    path = config_dir() / CONFIG_FILE
    if not path.exists():
        return None
    try:
        return ClientConfig(**json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, TypeError) as exc:
        raise UserError(f"{path} is damaged ({exc}); run `dlgrade login --server URL` again") from None


def save_config(cfg: ClientConfig) -> Path:
    folder = config_dir()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / CONFIG_FILE
    tmp = folder / f".{CONFIG_FILE}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(asdict(cfg), out, indent=1)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return path


def normalise_url(url: str) -> str:
    parsed = urllib.parse.urlsplit(url.strip())
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise UserError(f"server URL {url!r} must look like https://grader.example.edu "
                        "or http://127.0.0.1:8000")
    return f"{parsed.scheme}://{parsed.netloc}{parsed.path.rstrip('/')}"


def _context(cafile: str | None) -> ssl.SSLContext | None:
    return ssl.create_default_context(cafile=cafile) if cafile else None


def request(server: str, method: str, path: str, *, token: str | None = None,
            body: bytes | None = None, headers: dict[str, str] | None = None,
            cafile: str | None = None, retries: int = 1) -> tuple[int, bytes]:
    """One HTTP exchange; a refusal becomes a UserError with the server's one line."""
    all_headers = {"User-Agent": "dlgrade", **(headers or {})}
    if token:
        all_headers["Authorization"] = f"Bearer {token}"
    last: Exception | None = None
    for _attempt in range(max(1, retries)):
        req = urllib.request.Request(server + path, data=body, method=method, headers=all_headers)
        try:
            with urllib.request.urlopen(req, timeout=TIMEOUT, context=_context(cafile)) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                detail = json.loads(raw).get("detail", raw.decode("utf-8", "replace"))
            except ValueError:
                detail = raw.decode("utf-8", "replace")[:200]
            raise UserError(f"the server refused ({exc.code}): {detail}") from None
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as exc:
            last = exc  # the server restarting, a dropped connection: the same request again
    reason = getattr(last, "reason", last)
    raise UserError(f"cannot reach the course server at {server}: {reason}")


def login(server: str, token: str, cafile: str | None = None) -> tuple[ClientConfig, Path]:
    server = normalise_url(server)
    token = token.strip()
    if not token:
        raise UserError("empty token; paste the token your instructor gave you")
    if not re.fullmatch(r"[!-~]{20,300}", token) or ":" not in token:
        raise UserError("that is not a dlgrade token: one line like s2024001:Xy3…, as your "
                        "instructor gave it")
    _, raw = request(server, "GET", "/api/whoami", token=token, cafile=cafile)
    who = json.loads(raw)
    cfg = ClientConfig(server=server, token=token, student=who["student"], cafile=cafile)
    return cfg, save_config(cfg)


def require_config() -> ClientConfig:
    cfg = load_config()
    if cfg is None:
        raise UserError("no course server configured: run `dlgrade login --server URL` with the "
                        "token your instructor gave you")
    return cfg


def upload(cfg: ClientConfig, assignment: str, file: Path) -> dict[str, Any]:
    """Hand in `file`; retried on a dropped connection with the same idempotency key."""
    if not file.is_file():
        raise UserError(f"no such file: {file}")
    size = file.stat().st_size
    if size > MAX_UPLOAD_BYTES:
        raise UserError(f"{file} is {size / 1e6:.1f} MB: too large for a submission")
    data = file.read_bytes()
    headers = {"Content-Type": "application/octet-stream", "X-Dlgrade-Filename": file.name,
               "X-Dlgrade-Student": cfg.student, "Idempotency-Key": uuid.uuid4().hex,
               "X-Dlgrade-Client-Time": iso(utc_now())}
    _, raw = request(cfg.server, "PUT", f"/api/submissions/{urllib.parse.quote(assignment)}",
                     token=cfg.token, body=data, headers=headers, cafile=cfg.cafile, retries=RETRIES)
    return json.loads(raw)


def receipts(cfg: ClientConfig) -> dict[str, Any]:
    _, raw = request(cfg.server, "GET", "/api/receipts", token=cfg.token, cafile=cfg.cafile)
    return json.loads(raw)


def feedback(cfg: ClientConfig, assignment: str | None) -> dict[str, str]:
    """{assignment: markdown} of the released feedback (one assignment, or all released)."""
    if assignment is None:
        _, raw = request(cfg.server, "GET", "/api/feedback", token=cfg.token, cafile=cfg.cafile)
        names = json.loads(raw)["released"]
    else:
        names = [assignment]
    out = {}
    for name in names:
        _, text = request(cfg.server, "GET", f"/api/feedback/{urllib.parse.quote(name)}",
                          token=cfg.token, cafile=cfg.cafile)
        out[name] = text.decode("utf-8")
    return out
