"""Run a chapter notebook the canonical way: pinned kernel, one thread, one numeric code path
(``numerics.py``), fixed SEED, no repo files.

Shared by ``execute.py`` (stores outputs) and ``seeds.py`` (robustness report).
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

import numerics

ROOT = Path(__file__).resolve().parent.parent


def chapters(args: list[str]) -> list[Path]:
    """The notebooks named on the command line, or every chapter under notebooks/."""
    if args:
        return [Path(a).resolve() for a in args]
    return sorted(p for p in (ROOT / "notebooks").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def canonical_env(seed: int) -> None:
    """The environment the kernel inherits: one thread and one numeric code path, the given SEED."""
    numerics.apply()
    os.environ["SEED"] = str(seed)
    os.environ["PYTHONHASHSEED"] = "0"
    os.environ["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    os.environ.pop("FULL", None)  # the stored run is the CPU-minute run, never the GPU one


def run(path: Path, seed: int = 0, timeout: int = 600,
        emulate: str | None = None) -> tuple[nbformat.NotebookNode, float]:
    """Execute ``path`` top to bottom in a fresh kernel inside an empty temporary folder.

    ``emulate="Haswell"`` runs the kernel under ``qemu-x86_64 -cpu Haswell`` (``make tolerances``).
    """
    canonical_env(seed)
    nb = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory(prefix="dtr-") as cwd:  # the notebook sees no repo file
        km = None
        if emulate:
            kernels = Path(cwd) / ".kernels"
            name = numerics.emulated_kernel(emulate, kernels, sys.executable)
            km = KernelManager(kernel_name=name, kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernels)]))
        client = NotebookClient(nb, timeout=timeout, kernel_name="python3", km=km,
                                resources={"metadata": {"path": cwd}},
                                record_timing=True, store_widget_state=True)
        start = time.perf_counter()
        client.execute()
        seconds = time.perf_counter() - start
    return nb, seconds
