"""Re-execute chapter notebooks in place: the one canonical way stored outputs are made.

    make execute [NB="notebooks/02-diffusion/ddpm.ipynb ..."]

One thread, one numeric code path (numerics.py), SEED=0, the pinned environment, a fresh kernel per notebook, timing metadata
stored (the tests read it for the runtime budget).
"""
from __future__ import annotations

import sys

import nbformat

import numerics
from nbrun import ROOT, chapters, run


def main(args: list[str]) -> int:
    for path in chapters(args):
        nb, seconds = run(path, seed=0)
        nb.metadata.pop("jupytext", None)  # authoring metadata, not part of the chapter
        # the tests compare bit for bit on this CPU, and within measured tolerances elsewhere
        nb.metadata["dtr"] = {"outputs_made_on": numerics.cpu_fingerprint()}
        nbformat.write(nb, path)
        print(f"{seconds:6.1f} s  {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
