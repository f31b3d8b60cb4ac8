"""The course as last committed: what the student kit and nbgrader export are built from.

The working copy is where an instructor tries things: a stub with the solution typed in,
scratch files, the `submissions/` exchange. None of that may reach students, so the kit
reads files from `HEAD` (`git ls-tree`, `git cat-file`), never from the disk, and a tree
whose relevant files differ from `HEAD` is refused unless the instructor says otherwise.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

from grader.errors import UserError


def _git(root: Path, *args: str, input: bytes | None = None) -> bytes:
    try:
        done = subprocess.run(["git", "-C", str(root), *args], input=input, capture_output=True,
                              timeout=120, check=False)
    except FileNotFoundError:
        raise UserError("git is not installed: the kit is built from the course's git repository") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise UserError(f"git {' '.join(args[:2])} failed in {root}: "
                        f"{message[-1] if message else done.returncode}")
    return done.stdout


@dataclass(frozen=True)
class CommittedTree:
    """A read-only view of HEAD of the repository that holds `root`."""

    root: Path  # the course folder (may be below the repository's top)
    top: Path  # the repository's top folder
    commit: str

    @classmethod
    def open(cls, root: Path) -> CommittedTree:
        root = Path(root).resolve()
        probe = subprocess.run(["git", "-C", str(root), "rev-parse", "--show-toplevel"],
                               capture_output=True, text=True, check=False)
        if probe.returncode != 0:
            raise UserError(f"{root} is not in a git repository: the student kit is built from the "
                            "committed course (git init, git add, git commit first)")
        top = Path(probe.stdout.strip()).resolve()
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "--verify", "-q", "HEAD"],
                              capture_output=True, text=True, check=False)
        if head.returncode != 0:
            raise UserError(f"the repository at {top} has no commit yet: commit the course first")
        return cls(root, top, head.stdout.strip())

    def _prefix(self) -> str:
        rel = self.root.relative_to(self.top).as_posix()
        return "" if rel == "." else rel + "/"

    def files(self) -> list[str]:
        """Every committed regular file under the course folder, relative to it."""
        out = _git(self.top, "ls-tree", "-r", "-z", "--full-tree", "HEAD")
        prefix = self._prefix()
        names = []
        for entry in out.split(b"\0"):
            if not entry:
                continue
            meta, _, name = entry.partition(b"\t")
            mode = meta.split()[0]
            path = name.decode("utf-8", "surrogateescape")
            if mode in (b"100644", b"100755") and path.startswith(prefix):
                names.append(path[len(prefix):])
        return names

    def executable(self) -> set[str]:
        out = _git(self.top, "ls-tree", "-r", "-z", "--full-tree", "HEAD")
        prefix = self._prefix()
        return {e.partition(b"\t")[2].decode()[len(prefix):] for e in out.split(b"\0")
                if e.startswith(b"100755")}

    def read(self, relative: str) -> bytes:
        """The committed bytes of one file (relative to the course folder)."""
        return _git(self.top, "cat-file", "blob", f"HEAD:{self._prefix()}{relative}")

    def read_many(self, relatives: Sequence[str]) -> dict[str, bytes]:
        """Many blobs in one `git cat-file --batch`."""
        if not relatives:
            return {}
        spec = "".join(f"HEAD:{self._prefix()}{r}\n" for r in relatives).encode()
        out = _git(self.top, "cat-file", "--batch", input=spec)
        blobs, pos = {}, 0
        for rel in relatives:
            header_end = out.index(b"\n", pos)
            header = out[pos:header_end].split()
            if header[-1] == b"missing":
                raise UserError(f"{rel} is not in the last commit")
            size = int(header[2])
            blobs[rel] = out[header_end + 1:header_end + 1 + size]
            pos = header_end + 1 + size + 1
        return blobs

    def changed(self, patterns: Iterable[str]) -> list[str]:
        """Tracked files matching `patterns` whose working copy or index differs from HEAD."""
        out = _git(self.root, "status", "--porcelain=v1", "-z", "--untracked-files=no", "--", ".")
        prefix = self._prefix()
        paths, entries = [], out.split(b"\0")
        i = 0
        while i < len(entries):
            entry = entries[i].decode("utf-8", "surrogateescape")
            i += 1
            if len(entry) < 4:
                continue
            if entry[0] in "RC":
                i += 1  # a rename names its source next
            path = entry[3:]
            path = path[len(prefix):] if path.startswith(prefix) else path
            if any(fnmatch(path, p) for p in patterns):
                paths.append(path)
        return sorted(paths)

    def untracked(self, patterns: Iterable[str]) -> list[str]:
        out = _git(self.root, "ls-files", "-z", "--others", "--exclude-standard", "--", ".")
        pats = list(patterns)
        found = [p.decode("utf-8", "surrogateescape") for p in out.split(b"\0") if p]
        return sorted(p for p in found if any(fnmatch(p, q) for q in pats))


def refuse_if_changed(tree: CommittedTree, patterns: Sequence[str], allow_dirty: bool,
                      what: str) -> list[str]:
    """Refuse (one line) when files of `patterns` have uncommitted changes; with
    `allow_dirty`, return them so the caller can say the committed versions were used."""
    changed = tree.changed(patterns)
    if changed and not allow_dirty:
        shown = ", ".join(changed[:5]) + (f" and {len(changed) - 5} more" if len(changed) > 5 else "")
        raise UserError(f"uncommitted changes to {shown}: {what} is built from the last commit "
                        f"({tree.commit[:10]}); commit them, or pass --allow-dirty to build from "
                        "the last commit anyway")
    return changed
