"""How strict nbval compares printed figures when the CPU is not the one that made the outputs.

Three rules, chosen per notebook (``rule_for_notebook``):

``strict``
    On the CPU that made the stored outputs (its fingerprint is in the notebook's metadata):
    every output must match exactly, after ``sanitize.cfg``. A chapter that prints different
    figures on two runs on one machine fails here.
``tolerant``
    On another x86-64 CPU with AVX2 and FMA, under the pinned code path of
    ``scripts/numerics.py``: still exact everywhere, except the cells listed in
    ``tests/tolerances.yml``. In those, the text around the numbers must match exactly,
    there must be as many numbers, and each number must be within the cell's measured
    tolerance, ``|test - ref| <= abs + rel * |ref|``.
``structure``
    Where exact agreement is impossible (ARM, Apple silicon, x86 without AVX2): every cell
    runs and every ``assert`` holds, the text and the count of numbers must match, the
    numbers themselves are not compared. The session says so in one line.

``DTR_NUMERICS=strict|tolerant|structure`` forces a rule (the cross-CPU test uses it).
"""
from __future__ import annotations

import copy
import os
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

# a printed figure: 12, -3.5, .25, 1e-12, 6.1e-16, 95.3 (the sign belongs to the number)
NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")
RULES = ("strict", "tolerant", "structure")


@dataclass(frozen=True)
class Tolerance:
    """Numbers agree when ``|test - ref| <= abs + rel * |ref|``; ``None`` means any number agrees."""

    rel: float | None = 0.0
    abs: float | None = 0.0

    def agrees(self, test: float, ref: float) -> bool:
        if self.rel is None:
            return True
        return abs(test - ref) <= self.abs + self.rel * abs(ref)


ANY_NUMBER = Tolerance(rel=None, abs=None)


def split_numbers(text: str) -> tuple[list[str], list[float]]:
    """The text with its numbers cut out (the skeleton), and the numbers."""
    return NUMBER.split(text), [float(m) for m in NUMBER.findall(text)]


def reconcile_text(test: str, ref: str, tol: Tolerance, sanitize=lambda s: s) -> str:
    """``ref`` if ``test`` says the same with numbers within ``tol``, else ``test`` unchanged.

    Both are sanitised first (memory addresses, animation ids). Returning the reference makes
    nbval's own comparison pass; returning the test text lets nbval print its usual diff, so a
    real difference is reported exactly as before.
    """
    if test == ref:
        return test
    skel_t, num_t = split_numbers(sanitize(test))
    skel_r, num_r = split_numbers(sanitize(ref))
    if skel_t != skel_r or len(num_t) != len(num_r):
        return test
    return ref if all(tol.agrees(t, r) for t, r in zip(num_t, num_r)) else test


def reconcile_outputs(test: list, ref: list, tol: Tolerance, sanitize=lambda s: s) -> list:
    """Apply ``reconcile_text`` to every text output of ``test`` against its counterpart in ``ref``."""
    out = copy.deepcopy(test)
    for t, r in zip(out, ref):
        if t.get("output_type") != r.get("output_type"):
            continue
        if t.get("output_type") == "stream" and t.get("name") == r.get("name"):
            t["text"] = reconcile_text(t["text"], r["text"], tol, sanitize)
        for mime, value in t.get("data", {}).items():
            if isinstance(value, str) and isinstance(r.get("data", {}).get(mime), str):
                t["data"][mime] = reconcile_text(value, r["data"][mime], tol, sanitize)
    return out


def load_tolerances(path: Path) -> dict[str, dict[str, Tolerance]]:
    """``tests/tolerances.yml``: chapter slug -> cell id -> Tolerance (with a written reason)."""
    raw = yaml.safe_load(path.read_text()) or {}
    table = {}
    for slug, cells in raw.items():
        table[slug] = {}
        for cell_id, spec in cells.items():
            if not spec.get("why"):
                raise ValueError(f"{path.name}: {slug}/{cell_id} needs a 'why' (the measurement behind it)")
            table[slug][str(cell_id)] = Tolerance(rel=float(spec["rel"]), abs=float(spec["abs"]))
    return table


def rule_for_notebook(made_on: str | None, here: str, pinned_path: bool, forced: str | None) -> str:
    """Which rule compares a notebook's stored outputs on this machine."""
    if forced:
        if forced not in RULES:
            raise ValueError(f"DTR_NUMERICS={forced!r}: expected one of {RULES}")
        return forced
    if not pinned_path:
        return "structure"
    return "strict" if made_on == here else "tolerant"


def tolerance_for_cell(rule: str, slug: str, cell_id: str, table: dict) -> Tolerance | None:
    """The tolerance a cell is compared with, or None for an exact comparison."""
    if rule == "structure":
        return ANY_NUMBER
    if rule == "tolerant":
        return table.get(slug, {}).get(cell_id)
    return None


def forced_rule() -> str | None:
    return os.environ.get("DTR_NUMERICS") or None
