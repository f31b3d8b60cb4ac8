"""Shared by the quiz tests: no test reads or writes the quiz progress or bank cache in ~."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _own_home(tmp_path, monkeypatch):
    """Progress and the bank cache of every test live in its own folder, never in ~."""
    monkeypatch.setenv("DLGRADE_HOME", str(tmp_path / "dlgrade-home"))
