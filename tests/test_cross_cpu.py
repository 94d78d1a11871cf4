"""Stored outputs survive another numeric code path (issue 7).

Every chapter is re-executed with MKL on another code path than the one that made its outputs
(``MKL_CBWR=AVX2`` instead of ``COMPATIBLE``: a different GEMM and vector-maths kernel, so
different last bits, as on a CPU whose MKL kernels differ), and compared with its stored
outputs under the rule another CPU gets (``tolerant``, tests/numeric_compare.py): exact
everywhere except the cells of tests/tolerances.yml, whose figures must fall within their
measured tolerances. A chapter that prints round-off digits, or a figure after training that
moves more than its measured tolerance, fails here.
"""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from conftest import ROOT, chapter_paths
from nbval_rules import PINNED

PERTURB = "MKL_CBWR=AVX2"
CHAPTERS = chapter_paths()


@pytest.mark.skipif(not PINNED, reason="no pinned x86-64 code path on this CPU: the notebooks run under the structure rule")
@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_outputs_survive_another_code_path(path):
    env = {**os.environ, "PYTHONPATH": str(ROOT / "tests"), "DTR_NUMERICS": "tolerant", "DTR_PERTURB": PERTURB}
    result = subprocess.run([sys.executable, "-m", "pytest", "-p", "nbval_rules", "-p", "no:cacheprovider", "-n", "0",
                             "-q", "--rootdir", str(ROOT), "-c", str(ROOT / "pytest.ini"), str(path)],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, f"{path.name} under {PERTURB}:\n{result.stdout[-6000:]}"
