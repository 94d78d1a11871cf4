"""Robustness report: run every chapter with SEED=1 and SEED=2; nothing is stored.

    make seeds [NB="notebooks/05-reinforcement-learning/temporal-difference.ipynb ..."]

A chapter passes for a seed when every cell runs, so every check's ``assert`` holds.
Exits 1 if any chapter fails for any seed.
"""
from __future__ import annotations

import sys

from nbclient.exceptions import CellExecutionError

from nbrun import ROOT, chapters, run

SEEDS = (1, 2)


def main(args: list[str]) -> int:
    failed = 0
    print(f"{'chapter':64s} " + " ".join(f"SEED={s:<12d}" for s in SEEDS))
    for path in chapters(args):
        row = []
        for seed in SEEDS:
            try:
                _, seconds = run(path, seed=seed)
                row.append(f"pass {seconds:5.1f} s")
            except CellExecutionError as err:
                failed += 1
                last = str(err).strip().splitlines()[-1][:80]
                row.append(f"FAIL ({last})")
        name = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        print(f"{str(name):64s} " + "  ".join(f"{r:16s}" for r in row), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
