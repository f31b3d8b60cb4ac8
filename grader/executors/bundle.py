"""The grading bundle: what a worker needs besides the dlgrade code, named by one hash.

It holds the specs (public and hidden), the reference solutions and the shipped expected
outputs of the driver's course tree. A worker receives it once (grader.executors.worker)
and writes it, with a copy of its own dlgrade code, into a course tree in its private
scratch: its sandbox imports the specs from there, and its trusted side takes the specs,
the reference and the expected outputs from there too. So a worker grades with the
driver's specs even when the instructor changed a hidden case since the worker was
installed, and needs no copy of the solutions on its disk. Every task carries the hash,
so a worker never grades with a bundle other than the driver's.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from grader import __version__
from grader.catalog import ROOT

SPECS = "grader/specs"
REFERENCE = "reference"
EXPECTED = "grader/specs/expected"  # inside SPECS: replaced with it


def _collect(root: Path, folder: str, pattern: str) -> dict[str, bytes]:
    base = root / folder
    if not base.is_dir():
        return {}
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(base.rglob(pattern)) if p.is_file() and "__pycache__" not in p.parts}


def _digest(version: str, files: dict[str, bytes]) -> str:
    h = hashlib.sha256(f"dlgrade {version}\0".encode())
    for name in sorted(files):
        content = files[name]
        h.update(f"{name}\0{len(content)}\0".encode())
        h.update(content)
    return h.hexdigest()


@dataclass(frozen=True)
class Bundle:
    version: str  # the dlgrade version of the driver
    files: dict[str, bytes]  # path relative to the course tree -> content
    hash: str = field(init=False)
    code_hash: str = field(init=False)  # the specs alone: do the worker's own match them?

    def __post_init__(self) -> None:
        object.__setattr__(self, "hash", _digest(self.version, self.files))
        object.__setattr__(self, "code_hash", code_digest_of(self.version, self.files))

    @property
    def size(self) -> int:
        return sum(len(c) for c in self.files.values())


def code_digest_of(version: str, files: dict[str, bytes]) -> str:
    """The digest of the specs' code alone (not the expected outputs beside it)."""
    return _digest(version, {k: v for k, v in files.items()
                             if k.startswith(SPECS + "/") and k.endswith(".py")})


def build_bundle(root: Path = ROOT) -> Bundle:
    """The bundle of the course tree at `root` (the driver's)."""
    files = _collect(root, SPECS, "*.py")
    files |= _collect(root, REFERENCE, "*.py")
    files |= _collect(root, EXPECTED, "*.json")
    return Bundle(version=__version__, files=files)


def local_code_digest(root: Path = ROOT) -> str:
    """The digest of the specs this process would grade with."""
    return code_digest_of(__version__, _collect(root, SPECS, "*.py"))


# the worker's own code copied into the bundle's course tree: what the sandbox imports
CODE = ("grader", "assignments")
_NOT_COPIED = shutil.ignore_patterns("__pycache__", "*.pyc")


def materialise(bundle: Bundle, scratch: Path, code_root: Path = ROOT) -> Path:
    """A course tree under `scratch`: this machine's dlgrade code (`code_root`) with the
    bundle's specs, reference and expected outputs in place of its own; its folder.

    Built in a fresh folder and renamed into place, so a worker that dies half-way never
    leaves a half-written tree that a restarted worker would take as whole.
    """
    scratch.mkdir(parents=True, exist_ok=True)
    final = scratch / f"dlgrade-bundle-{bundle.hash[:16]}"
    if final.is_dir():
        return final
    staging = Path(tempfile.mkdtemp(prefix=".bundle-", dir=scratch))
    os.chmod(staging, 0o755)  # the sandbox's own uids import the code from here
    for folder in CODE:
        shutil.copytree(code_root / folder, staging / folder, ignore=_NOT_COPIED)
    for folder in (SPECS, EXPECTED):  # only the bundle's: no stale hidden spec left behind
        shutil.rmtree(staging / folder, ignore_errors=True)
    for name, content in bundle.files.items():
        path = staging / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    os.chmod(staging / REFERENCE, 0o700)  # the solutions: for this worker's user only
    try:
        staging.rename(final)
    except OSError:  # another worker process on this machine was first: same content
        shutil.rmtree(staging, ignore_errors=True)
    return final
