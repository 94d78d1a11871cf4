"""Shared fixtures; also pins the kernels' environment to the canonical one (one thread, SEED=0)."""
from __future__ import annotations

import os
from pathlib import Path

# nbval's kernels inherit this environment: stored outputs were made with exactly it.
for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[_var] = "1"
os.environ["SEED"] = "0"
os.environ["PYTHONHASHSEED"] = "0"
os.environ["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
os.environ.pop("FULL", None)

ROOT = Path(__file__).resolve().parent.parent


def chapter_paths() -> list[Path]:
    """Every chapter notebook in the repository."""
    return sorted(p for p in (ROOT / "notebooks").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
