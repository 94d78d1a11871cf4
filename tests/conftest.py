"""Shared fixtures. nbval's rules for the chapters (tests/nbval_rules.py) load as a plugin (pytest.ini)."""
from __future__ import annotations

from pathlib import Path

from nbval_rules import ROOT


def chapter_paths() -> list[Path]:
    """Every chapter notebook in the repository."""
    return sorted(p for p in (ROOT / "notebooks").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
