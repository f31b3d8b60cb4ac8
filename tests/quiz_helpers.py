"""What the quiz tests share: the fixture bank and a way to read Rich's wrapped output."""

from __future__ import annotations

from pathlib import Path

FIXTURE = Path(__file__).resolve().parent / "data" / "quiz_bank"


def flat(text: str) -> str:
    """Output with Rich's line wrapping undone."""
    return " ".join(text.split())
