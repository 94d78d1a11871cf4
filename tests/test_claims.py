"""The reproduction table's claims (book/reproduction.md): each chapter declares its headline
claims in the metadata of the code cell whose assert checks them, and the site's table is
generated from those declarations and the cell's stored output (web/dtr_chapters.py).

A declaration, in ``cell.metadata.dtr.claims``::

    {"claim": "in words", "paper": "the paper's figure, with where it is in the paper",
     "figure": "regex; its one group is our number in the cell's printed output",
     "op": ">=", "threshold": 0.8}

Checked here, on the stored notebooks: the regex finds our number exactly once in the cell's
output; the number meets the threshold; and an ``assert`` in the same cell compares with that
threshold under that operator (written either way round), so the table cannot say other than
what the assert checked.
"""
from __future__ import annotations

import ast
import operator
import re

import nbformat
import pytest

from conftest import ROOT, chapter_paths

CHAPTERS = chapter_paths()
IDS = [p.stem for p in CHAPTERS]
FIELDS = {"claim", "paper", "figure", "op", "threshold"}
ARITHMETIC = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}
OPS = {">=": (operator.ge, ast.GtE, ast.LtE), "<=": (operator.le, ast.LtE, ast.GtE),
       ">": (operator.gt, ast.Gt, ast.Lt), "<": (operator.lt, ast.Lt, ast.Gt),
       "==": (operator.eq, ast.Eq, ast.Eq)}


def claims(nb) -> list[tuple[nbformat.NotebookNode, dict]]:
    return [(cell, c) for cell in nb.cells if cell.cell_type == "code"
            for c in cell.metadata.get("dtr", {}).get("claims", [])]


def printed(cell) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream")


def constants(nb) -> dict[str, float]:
    """Module-level NAME = number assignments in the notebook (thresholds given a name)."""
    found = {}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        source = "\n".join(l for l in cell.source.splitlines() if not l.lstrip().startswith(("%", "!")))
        for node in ast.parse(source).body:
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and \
                    isinstance(node.value.value, (int, float)):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        found[target.id] = float(node.value.value)
    return found


def asserts_compare_with(cell, op: str, threshold: float, names: dict[str, float]) -> bool:
    """Does an assert in the cell compare something `op threshold` (or `threshold op' something)?"""
    _, forward, backward = OPS[op]
    source = "\n".join(l for l in cell.source.splitlines() if not l.lstrip().startswith(("%", "!")))

    def value(node) -> float | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return float(node.value)
        if isinstance(node, ast.Name):
            return names.get(node.id)
        if isinstance(node, ast.BinOp) and type(node.op) in ARITHMETIC:  # K / 4 with K = 64 a constant
            left, right = value(node.left), value(node.right)
            if left is not None and right is not None and not (isinstance(node.op, ast.Div) and right == 0):
                return ARITHMETIC[type(node.op)](left, right)
        return None

    def mentioned(side) -> set[float]:
        return {v for n in ast.walk(side) if (v := value(n)) is not None}

    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Assert):
            continue
        for cmp in ast.walk(node.test):
            if not isinstance(cmp, ast.Compare):
                continue
            sides = [cmp.left, *cmp.comparators]
            for i, o in enumerate(cmp.ops):
                # "==" also as a round-off bound: abs(x - T) < eps
                if op == "==" and isinstance(o, (ast.Lt, ast.LtE)) and isinstance(sides[i], ast.Call) and \
                        getattr(sides[i].func, "id", None) == "abs" and threshold in mentioned(sides[i]):
                    return True
                # the threshold on the far side of the operator, alone or scaling the other
                # quantity (``a < 0.75 * b`` checks the ratio a / b < 0.75)
                if isinstance(o, forward) and threshold in mentioned(sides[i + 1]):
                    return True
                if isinstance(o, backward) and threshold in mentioned(sides[i]):
                    return True
    return False


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_declared_claims_agree_with_their_asserts_and_outputs(path):
    nb = nbformat.read(path, as_version=4)
    names = constants(nb)
    for cell, claim in claims(nb):
        assert set(claim) == FIELDS, f"cell {cell.get('id')}: a claim has the fields {sorted(FIELDS)}"
        assert claim["op"] in OPS, f"cell {cell.get('id')}: op must be one of {sorted(OPS)}"
        hits = re.findall(claim["figure"], printed(cell))
        assert len(hits) == 1, f"{claim['claim']!r}: the figure regex finds {len(hits)} numbers in the cell's output, not 1"
        ours = float(hits[0])
        assert OPS[claim["op"]][0](ours, claim["threshold"]), \
            f"{claim['claim']!r}: stored figure {ours} does not meet {claim['op']} {claim['threshold']}"
        assert asserts_compare_with(cell, claim["op"], float(claim["threshold"]), names), \
            f"{claim['claim']!r}: no assert in its cell compares {claim['op']} {claim['threshold']}"


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_every_chapter_with_a_headline_declares_it(path):
    """The reproduction table has a row for every chapter: its headline claims, or, for a chapter
    whose checks are all identities (a textbook chapter with no paper figure to reproduce), the
    reason it has none, given in ``metadata.dtr.no_headline_claim``. A chapter that calls one of its
    checks the headline cannot claim to have none."""
    nb = nbformat.read(path, as_version=4)
    reason = nb.metadata.get("dtr", {}).get("no_headline_claim")
    if reason is None:
        assert claims(nb), (f"{path.stem} declares no claim: put its headline in the metadata of the cell whose "
                            "assert checks it (cell.metadata.dtr.claims; see book/reproduction.md)")
        return
    assert not claims(nb), f"{path.stem} declares claims and also says it has none"
    assert len(reason.split()) >= 8, f"{path.stem}: say why the chapter has no headline claim, in a sentence"
    text = " ".join(c.source for c in nb.cells).lower()
    assert "headline" not in text, f"{path.stem} calls a check its headline: declare it as a claim"
