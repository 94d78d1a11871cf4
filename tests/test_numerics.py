"""The comparison rules of tests/numeric_compare.py, and proof that strict nbval still catches
what it exists to catch: a stored output that no longer matches its code, and a chapter that
prints different figures on two runs on one machine (synthetic notebooks, a few seconds)."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import nbformat
import pytest
from nbclient import NotebookClient

import numeric_compare as nc
from conftest import ROOT

TOL = nc.Tolerance(rel=0.01, abs=0.001)


@pytest.mark.parametrize("test, ref, tol, same", [
    ("acc 0.9622, loss 0.0587", "acc 0.9622, loss 0.0587", None, True),
    ("acc 0.9597, loss 0.0590", "acc 0.9622, loss 0.0587", TOL, True),       # within 1 % + 0.001
    ("acc 0.9400, loss 0.0587", "acc 0.9622, loss 0.0587", TOL, False),      # 2.3 % off
    ("acc 0.9622, loss 0.0587!", "acc 0.9622, loss 0.0587", TOL, False),     # the text changed
    ("acc 0.9622", "acc 0.9622, loss 0.0587", TOL, False),                   # a figure went missing
    ("acc 0.1, loss 7", "acc 0.9622, loss 0.0587", nc.ANY_NUMBER, True),     # structure: numbers not compared
    ("accuracy 0.1", "acc 0.9622", nc.ANY_NUMBER, False),                    # ... but the text is
    ("max |a - b| = 6.7e-16", "max |a - b| = 8.9e-16", TOL, True),           # 1e-15 is inside abs 0.001
    ("at 0x7f00aa11bb22: 1.5", "at 0x7f00ffeeddcc: 1.5", TOL, True),        # sanitised before comparing
])
def test_reconcile_text(test, ref, tol, same):
    sanitize = lambda s: s.replace("0x7f00aa11bb22", "0xADDRESS").replace("0x7f00ffeeddcc", "0xADDRESS")  # noqa: E731
    out = nc.reconcile_text(test, ref, tol, sanitize) if tol else test
    assert (out == ref) is same


def test_rules_per_machine():
    assert nc.rule_for_notebook("abc", "abc", True, None) == "strict"
    assert nc.rule_for_notebook("abc", "def", True, None) == "tolerant"
    assert nc.rule_for_notebook("abc", "abc", False, None) == "structure"
    assert nc.rule_for_notebook(None, "abc", True, None) == "tolerant"
    assert nc.rule_for_notebook("abc", "abc", True, "tolerant") == "tolerant"
    with pytest.raises(ValueError):
        nc.rule_for_notebook("abc", "abc", True, "lax")


def test_tolerance_table_is_well_formed():
    """Every entry names a chapter and a cell that exist, and says why."""
    table = nc.load_tolerances(ROOT / "tests" / "tolerances.yml")
    for slug, cells in table.items():
        [path] = list((ROOT / "notebooks").glob(f"*/{slug}.ipynb")) or [None]
        assert path is not None, f"tolerances.yml names no chapter {slug!r}"
        ids = {c.get("id") for c in nbformat.read(path, as_version=4).cells}
        assert set(cells) <= ids, f"{slug}: tolerances for cells that do not exist {sorted(set(cells) - ids)}"


CELLS = [
    "import os\nSEED = int(os.environ.get('SEED', 0))\nscale = 3.0",
    "print(f'figure: {scale * 1.2345:.4f}')",
    "print(f'noise: {int.from_bytes(os.urandom(8), \"little\")}')",
]


def run_nbval(path, rule: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "tests"), "DTR_NUMERICS": rule}
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "nbval_rules", "-p", "no:cacheprovider", "-n", "0",
                           "-q", "--rootdir", str(ROOT), "-c", str(ROOT / "pytest.ini"), str(path)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    """A tiny notebook executed and stored, as `make execute` stores a chapter."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    return nb, tmp_path_factory.mktemp("nb")


def write(nb, folder, name, drop_noise=True):
    nb = nbformat.from_dict(nb)
    if drop_noise:
        nb.cells = nb.cells[:2]
    path = folder / name
    nbformat.write(nb, path)
    return path


def test_unchanged_notebook_passes(stored):
    nb, folder = stored
    result = run_nbval(write(nb, folder, "same.ipynb"), "strict")
    assert result.returncode == 0, result.stdout[-2000:]


@pytest.mark.parametrize("rule", ["strict", "tolerant"])
def test_stale_output_fails(stored, rule):
    """A constant changed without re-executing: the stored figure no longer matches its code."""
    nb, folder = stored
    nb = nbformat.from_dict(nb)
    nb.cells[0].source = nb.cells[0].source.replace("scale = 3.0", "scale = 3.5")
    result = run_nbval(write(nb, folder, f"stale-{rule}.ipynb"), rule)
    assert result.returncode != 0 and "Cell outputs differ" in result.stdout, result.stdout[-2000:]


def test_nondeterministic_figure_fails(stored):
    """A cell that prints a different figure on every run fails on the machine that made it."""
    nb, folder = stored
    result = run_nbval(write(nb, folder, "noise.ipynb", drop_noise=False), "strict")
    assert result.returncode != 0 and "noise:" in result.stdout, result.stdout[-2000:]
