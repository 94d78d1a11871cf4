"""Re-execute chapter notebooks in place: the one canonical way stored outputs are made.

    make execute [NB="notebooks/02-diffusion/ddpm.ipynb ..."]

One thread, one numeric code path (numerics.py), SEED=0, the pinned environment, a fresh kernel per notebook, timing metadata
stored (the tests read it for the runtime budget).
"""
from __future__ import annotations

import platform
import re
import sys
from pathlib import Path
from importlib.metadata import version

import nbformat

import numerics
from nbrun import ROOT, chapters, run


# Import name -> distribution, for the packages a chapter may import (tests/test_policy.py).
DISTRIBUTIONS = {"numpy": "numpy", "torch": "torch", "matplotlib": "matplotlib", "scipy": "scipy",
                 "sklearn": "scikit-learn", "ipywidgets": "ipywidgets", "tqdm": "tqdm",
                 "xgboost": "xgboost-cpu", "pyspark": "pyspark"}


def environment(nb: nbformat.NotebookNode) -> dict[str, str]:
    """Python and the versions of the pinned packages the chapter imports (this kernel's .venv)."""
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    roots = set(re.findall(r"^\s*(?:from|import)\s+(\w+)", code, re.M))
    return {"python": platform.python_version(),
            **{dist: version(dist) for mod, dist in DISTRIBUTIONS.items() if mod in roots}}


def cpu_model() -> str:
    """The CPU's model name, for the reader (the fingerprint is what the tests compare)."""
    found = re.search(r"^model name\s*:\s*(.*)$", Path("/proc/cpuinfo").read_text(), re.M)
    return found.group(1).strip() if found else platform.machine()


def main(args: list[str]) -> int:
    for path in chapters(args):
        nb, seconds = run(path, seed=0)
        nb.metadata.pop("jupytext", None)  # authoring metadata, not part of the chapter
        # the tests compare bit for bit on this CPU, and within measured tolerances elsewhere
        # (and the chapter's badge on the site shows the run's wall time, CPU and versions)
        # (update, not replace: the chapter's own keys, e.g. no_headline_claim, stay)
        nb.metadata.setdefault("dtr", {}).update(
            outputs_made_on=numerics.cpu_fingerprint(), cpu=cpu_model(), wall_seconds=round(seconds, 1),
            environment=environment(nb))
        nbformat.write(nb, path)
        print(f"{seconds:6.1f} s  {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
