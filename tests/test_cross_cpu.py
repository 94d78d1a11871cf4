"""Stored outputs survive a change of CPU (issue 7): re-executed on an emulated CPU.

The kernel runs under ``qemu-x86_64 -cpu <model>`` (Haswell: Intel, AVX2, no AVX-512; EPYC: AMD
Zen 1), so every library dispatches as on that CPU, not as on the host that made the outputs,
and its results are compared with the stored outputs by strict nbval under the rule another
CPU gets (``tolerant``, tests/numeric_compare.py): exact everywhere, except the cells of
tests/tolerances.yml within their measured tolerances.

What runs is ``tests/cross_cpu_workload.ipynb``: every numeric code path the chapters use
(ATen's kernels, MKL's GEMM and vector maths, oneDNN, OpenBLAS, numpy's SIMD loops, training
with SGD and Adam, scipy, scikit-learn), each printed as a digest of its exact bits, so a single
last-bit difference fails. Emulation is 30-100x slower than native, which rules out whole
chapters in CI. The test fails if a setting of scripts/numerics.py stops pinning a path (drop
``ATEN_CPU_CAPABILITY`` and randn differs on Haswell; drop ``MKL_CBWR`` and the matmuls do).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

import numerics
from conftest import ROOT

CPUS = ["Haswell", "EPYC"]
WORKLOAD = "tests/cross_cpu_workload.ipynb"


def ci() -> bool:
    return os.environ.get("CI") == "true"


@pytest.fixture(scope="module")
def kernels(tmp_path_factory):
    if not numerics.supports_x86_code_path():
        pytest.skip("not an AVX2 x86-64 machine: the chapters run under the structure rule instead")
    if shutil.which("qemu-x86_64") is None:
        if ci():
            pytest.fail("qemu-x86_64 is missing: `make test` installs Debian's qemu-user")
        pytest.skip("qemu-x86_64 is missing: `make qemu` installs it")
    return tmp_path_factory.mktemp("kernels")


@pytest.mark.parametrize("cpu", CPUS)
def test_stored_outputs_hold_on_another_cpu(kernels, cpu):
    folder = kernels
    name = numerics.emulated_kernel(cpu, folder / "kernels", sys.executable)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "tests"), "DTR_NUMERICS": "tolerant", "JUPYTER_PATH": str(folder)}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-o", "addopts=", "-p", "nbval_rules", "-p", "no:cacheprovider", "-q",
         "--nbval", "--nbval-kernel-name", name, "--nbval-sanitize-with", "tests/sanitize.cfg",
         "--nbval-cell-timeout=1800", "--nbval-kernel-startup-timeout=300", WORKLOAD],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=3000)
    assert result.returncode == 0, f"{WORKLOAD} on an emulated {cpu}:\n{result.stdout[-6000:]}"
