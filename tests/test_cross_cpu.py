"""Stored outputs survive a change of CPU (issue 7): chapters re-executed on an emulated CPU.

The kernel runs under ``qemu-x86_64 -cpu Haswell`` (Intel, AVX2, no AVX-512), so every library
dispatches as on that CPU, not as on the host that made the outputs. Each chapter of
``CHAPTERS`` is compared with its stored outputs by strict nbval under the rule another CPU
gets (``tolerant``, tests/numeric_compare.py): exact everywhere, except the cells of
tests/tolerances.yml within their measured tolerances. It fails if a setting of
scripts/numerics.py stops pinning a code path the chapter uses, or if a chapter prints a figure
that depends on the CPU. The chapters are chosen to cover the libraries' paths at a cost CI can
carry under emulation (about 15x slower than native): torch training with fused Adam and
attention (kimi-vl), torch with sqrt-heavy schedules (edm), a DPO run (dpo), numpy and
scikit-learn (feature-engineering).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

import numerics
from conftest import ROOT

CPU = "Haswell"
CHAPTERS = ["03-transformers/kimi-vl", "02-diffusion/edm", "04-adapting-llms/dpo", "06-classical-ml/feature-engineering"]


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
    folder = tmp_path_factory.mktemp("kernels")
    return folder, numerics.emulated_kernel(CPU, folder / "kernels", sys.executable)


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_stored_outputs_hold_on_another_cpu(kernels, chapter):
    folder, name = kernels
    env = {**os.environ, "PYTHONPATH": str(ROOT / "tests"), "DTR_NUMERICS": "tolerant", "JUPYTER_PATH": str(folder)}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-o", "addopts=", "-p", "nbval_rules", "-p", "no:cacheprovider", "-q",
         "--nbval", "--nbval-kernel-name", name, "--nbval-sanitize-with", "tests/sanitize.cfg",
         "--nbval-cell-timeout=1800", "--nbval-kernel-startup-timeout=300", f"notebooks/{chapter}.ipynb"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=3000)
    assert result.returncode == 0, f"{chapter} on an emulated {CPU}:\n{result.stdout[-6000:]}"
