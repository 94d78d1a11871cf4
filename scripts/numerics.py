"""The numeric environment that stored outputs are made and checked in, and the CPU they came from.

Used by the commands that execute chapters (``scripts/nbrun.py``: ``make execute``, ``make seeds``)
and by the tests (``tests/conftest.py``); never by the notebooks, so readers in Jupyter and
Colab run at full speed.

Why these settings (measured in ``../shared/notes/cross-cpu-numerics.md``): with them, every
x86-64 CPU with AVX2 and FMA computes the same bits for matmuls, ATen's own kernels
(softmax, sigmoid, layer_norm, randn, nn.Linear init), oneDNN's convolutions, OpenBLAS's
linear algebra and numpy's SIMD loops. What they cannot pin is MKL's vector maths (torch's
sqrt and a few inverse trigonometric functions use approximate-reciprocal instructions whose
results differ between Intel and AMD), and so anything trained with default Adam. Those
figures are compared within the measured tolerances of ``tests/tolerances.yml``.
"""
from __future__ import annotations

import hashlib
import os
import platform
import re
from pathlib import Path

# One thread: results must not depend on the core count.
THREADS = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}

# One code path for every AVX2+FMA x86-64 CPU (Intel and AMD, AVX2 and AVX-512 alike).
X86_CODE_PATH = {
    "ATEN_CPU_CAPABILITY": "avx2",                        # ATen's kernels: 256-bit, same FMA contraction
    "MKL_CBWR": "COMPATIBLE",                             # MKL GEMM + most of VML; the only value AMD honours
    "ONEDNN_MAX_CPU_ISA": "AVX2",                         # oneDNN's JIT (conv, gelu)
    "OPENBLAS_CORETYPE": "Haswell",                       # numpy's BLAS/LAPACK kernels
    "NPY_DISABLE_CPU_FEATURES": "X86_V4,AVX512_ICL,AVX512_SPR",  # numpy's own SIMD loops (exp, tanh, ...)
}


def cpu_flags() -> set[str]:
    """The CPU's feature flags (Linux); empty where /proc/cpuinfo does not exist."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    found = re.search(r"^flags\s*:(.*)$", text, re.M)
    return set(found.group(1).split()) if found else set()


def supports_x86_code_path() -> bool:
    """True on an x86-64 CPU with AVX2 and FMA, the machines the settings make agree."""
    return platform.machine().lower() in {"x86_64", "amd64"} and {"avx2", "fma"} <= cpu_flags()


def numeric_env() -> dict[str, str]:
    """The variables to set: threads everywhere, the pinned code path where the CPU supports it."""
    return {**THREADS, **(X86_CODE_PATH if supports_x86_code_path() else {})}


def apply(extra: dict[str, str] | None = None) -> None:
    """Set the numeric environment in ``os.environ`` (children inherit it), then ``extra`` on top."""
    os.environ.update(numeric_env())
    os.environ.update(extra or {})


def cpu_fingerprint() -> str:
    """What decides the digits: architecture, CPU vendor and model, and its ISA extensions.

    Outputs made on one fingerprint are compared bit for bit on the same fingerprint; on any
    other, the measured tolerances apply to the figures that legitimately vary.
    """
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        info = ""
    fields = [platform.machine()]
    for key in ("vendor_id", "cpu family", "model", "model name", "stepping"):
        found = re.search(rf"^{key}\s*:\s*(.*)$", info, re.M)
        fields.append(found.group(1).strip() if found else "?")
    fields.append(" ".join(sorted(f for f in cpu_flags() if re.match(r"(avx|fma|sse|f16c|amx)", f))))
    return hashlib.sha256("|".join(fields).encode()).hexdigest()[:16]


def emulated_kernel(cpu: str, folder: Path, python: str) -> str:
    """A Jupyter kernel spec that runs ``python`` under ``qemu-x86_64 -cpu <cpu>``; returns its name.

    The emulated CPU has another vendor and generation than the host (e.g. ``Haswell``: Intel,
    AVX2 without AVX-512; ``EPYC``: AMD Zen 1), so MKL, ATen, oneDNN, OpenBLAS and numpy dispatch
    as they would there. Kernels are looked up in ``folder`` (pass it to a KernelSpecManager).
    """
    import json

    if not re.fullmatch(r"[A-Za-z0-9_.-]+", cpu):
        raise ValueError(f"not a qemu CPU model: {cpu!r}")
    name = f"dtr-qemu-{cpu.lower()}"
    spec = folder / name
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": ["qemu-x86_64", "-cpu", cpu, python, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": f"Python on an emulated {cpu}", "language": "python"}))
    return name
