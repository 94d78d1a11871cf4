"""Run a chapter notebook the canonical way: pinned kernel, one thread, one numeric code path
(``numerics.py``), fixed SEED, no repo files.

Shared by ``execute.py`` (stores outputs) and ``seeds.py`` (robustness report).
"""
from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

import numerics

ROOT = Path(__file__).resolve().parent.parent


def chapters(args: list[str]) -> list[Path]:
    """The notebooks named on the command line, or every chapter under notebooks/."""
    if args:
        return [Path(a).resolve() for a in args]
    return sorted(p for p in (ROOT / "notebooks").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def canonical_env(seed: int, perturb: dict[str, str] | None = None) -> None:
    """The environment the kernel inherits: one thread and one numeric code path, the given SEED.

    ``perturb`` overrides variables of the code path (``make tolerances`` measures with it).
    """
    numerics.apply(perturb)
    os.environ["SEED"] = str(seed)
    os.environ["PYTHONHASHSEED"] = "0"
    os.environ["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    os.environ.pop("FULL", None)  # the stored run is the CPU-minute run, never the GPU one


def run(path: Path, seed: int = 0, timeout: int = 600,
        perturb: dict[str, str] | None = None) -> tuple[nbformat.NotebookNode, float]:
    """Execute ``path`` top to bottom in a fresh kernel inside an empty temporary folder."""
    canonical_env(seed, perturb)
    nb = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory(prefix="dtr-") as cwd:  # the notebook sees no repo file
        client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                                resources={"metadata": {"path": cwd}},
                                record_timing=True, store_widget_state=True)
        start = time.perf_counter()
        client.execute()
        seconds = time.perf_counter() - start
    return nb, seconds
