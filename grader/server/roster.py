"""Who may hand in: the roster, one secret token per student, and the instructor's token.

A token is `<id>:<secret>` (the id is no secret; it says whose hash to check, so one
check costs one scrypt, not one per student). Only a salted scrypt hash of each token
is kept, in `<data>/roster.json` (mode 0600); the tokens themselves are written once, to
a file for the instructor to hand out, and never again.

The secret is 256 random bits, so no amount of guessing finds one whatever the hash
costs; scrypt's parameters are set for a server answering a class at a deadline (4 MiB,
a few milliseconds), not for human passwords. A token checked once is remembered for the
life of the process as an HMAC under a per-process key, so a student's next request
costs a SHA-256, not a scrypt; at most SCRYPT_SLOTS scrypt checks run at once, which
bounds the memory a burst of first requests can take.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import json
import os
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from grader.classroom.receipts import write_atomic
from grader.errors import UserError
from grader.grading.submission import check_student_id
from grader.textfile import read_text_file

ROSTER = "roster.json"
INSTRUCTOR = "@instructor"  # '@' is no student id character: it cannot collide with one
SCRYPT = {"n": 2**12, "r": 8, "p": 1, "maxmem": 64 * 1024 * 1024, "dklen": 32}
SCRYPT_SLOTS = threading.BoundedSemaphore(4)


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def hash_token(token: str, salt: bytes) -> bytes:
    return hashlib.scrypt(token.encode(), salt=salt, **SCRYPT)


def split_token(token: str) -> tuple[str, str] | None:
    """(id, secret), or None for anything not shaped like a token."""
    ident, sep, secret = token.strip().partition(":")
    if not sep or not ident or len(secret) < 20 or len(token) > 300:
        return None
    return ident, secret


@dataclass
class Member:
    id: str
    name: str = ""
    email: str = ""
    salt: str = ""  # hex
    hash: str = ""  # hex scrypt of the whole token
    issued_at: str = ""

    def matches(self, token: str) -> bool:
        if not self.hash:
            return False
        return hmac.compare_digest(hash_token(token, bytes.fromhex(self.salt)), bytes.fromhex(self.hash))


class Roster:
    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / ROSTER
        self.members: dict[str, Member] = {}
        self._mac_key = os.urandom(32)
        self._checked: dict[str, bytes] = {}  # id -> HMAC of the token scrypt already accepted
        if self.path.exists():
            try:
                raw = json.loads(self.path.read_text(encoding="utf-8"))
                self.members = {m["id"]: Member(**m) for m in raw["members"]}
            except (ValueError, KeyError, TypeError) as exc:
                raise UserError(f"{self.path} is not a dlgrade roster ({exc})") from None

    @property
    def students(self) -> list[Member]:
        return [m for m in self.members.values() if m.id != INSTRUCTOR]

    def save(self) -> None:
        data = {"members": [vars(m) for m in self.members.values()]}
        write_atomic(self.path, (json.dumps(data, indent=1) + "\n").encode(), mode=0o600)

    def issue(self, ident: str) -> str:
        """A new token for `ident` (replacing any earlier one); only its hash is kept."""
        member = self.members.setdefault(ident, Member(ident))
        token = f"{ident}:{new_secret()}"
        salt = os.urandom(16)
        member.salt, member.hash = salt.hex(), hash_token(token, salt).hex()
        member.issued_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
        return token

    def verify(self, token: str) -> str | None:
        """The id the token belongs to, or None; one constant-time scrypt comparison."""
        parts = split_token(token)
        if parts is None:
            return None
        member = self.members.get(parts[0])
        mac = hmac.new(self._mac_key, token.encode(), hashlib.sha256).digest()
        known = self._checked.get(parts[0])
        if member is not None and known is not None and hmac.compare_digest(known, mac):
            return member.id
        with SCRYPT_SLOTS:
            if member is None:
                hash_token(token, b"\0" * 16)  # an unknown id costs as long as a known one
                return None
            ok = member.matches(token)
        if ok:
            self._checked[member.id] = mac
        return member.id if ok else None

    def name_of(self, ident: str) -> str:
        member = self.members.get(ident)
        return member.name if member else ""


@dataclass(frozen=True)
class Imported:
    added: list[str]
    updated: list[str]
    tokens_file: Path | None
    instructor_token_created: bool


def read_roster_csv(path: Path) -> list[dict[str, str]]:
    """Rows of a roster CSV with an `id` column (and optional `name`, `email`); one-line errors."""
    reader = csv.DictReader(read_text_file(path).splitlines())
    fields = [f.strip().lower() for f in (reader.fieldnames or [])]
    if "id" not in fields:
        raise UserError(f"{path}: the first line must name the columns, with at least 'id' "
                        "(id,name,email)")
    rows, seen = [], set()
    for number, row in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
        ident = row.get("id", "")
        if not ident:
            continue
        try:
            check_student_id(ident)
        except UserError as exc:
            raise UserError(f"{path}:{number}: {exc}") from None
        if ident in seen:
            raise UserError(f"{path}:{number}: student {ident!r} appears twice")
        seen.add(ident)
        rows.append({"id": ident, "name": row.get("name", ""), "email": row.get("email", "")})
    if not rows:
        raise UserError(f"{path}: no students in it")
    return rows


def write_tokens(data_dir: Path, tokens: dict[str, str], roster: Roster) -> Path:
    """The handout: id, name, email, token; mode 0600, a new file each time."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    path = Path(data_dir) / f"tokens-{stamp}.csv"
    n = 1
    while path.exists():
        n += 1
        path = Path(data_dir) / f"tokens-{stamp}-{n}.csv"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["id", "name", "email", "token"])
        for ident, token in tokens.items():
            member = roster.members[ident]
            writer.writerow([ident, member.name, member.email, token])
    return path


def import_roster(data_dir: Path, csv_path: Path) -> Imported:
    """Add the CSV's students (new ones get a token; known ones keep theirs, name/email updated)."""
    rows = read_roster_csv(csv_path)
    Path(data_dir).mkdir(parents=True, exist_ok=True)
    roster = Roster(data_dir)
    tokens: dict[str, str] = {}
    added, updated = [], []
    for row in rows:
        known = row["id"] in roster.members
        if not known:
            tokens[row["id"]] = roster.issue(row["id"])
            added.append(row["id"])
        member = roster.members[row["id"]]
        if known and (member.name, member.email) != (row["name"], row["email"]):
            updated.append(row["id"])
        member.name, member.email = row["name"], row["email"]
    created = INSTRUCTOR not in roster.members
    if created:
        tokens[INSTRUCTOR] = roster.issue(INSTRUCTOR)
    roster.save()
    tokens_file = write_tokens(data_dir, tokens, roster) if tokens else None
    return Imported(added, updated, tokens_file, created)


def rotate(data_dir: Path, ident: str) -> tuple[str, Path]:
    """A new token for one student (or `--instructor`); the old one stops working at once."""
    roster = Roster(data_dir)
    if ident not in roster.members:
        raise UserError(f"no {ident!r} in the roster at {roster.path}")
    token = roster.issue(ident)
    roster.save()
    return token, write_tokens(data_dir, {ident: token}, roster)


def roster_summary(data_dir: Path) -> list[dict[str, Any]]:
    return [{"id": m.id, "name": m.name, "email": m.email, "issued_at": m.issued_at}
            for m in Roster(data_dir).students]
