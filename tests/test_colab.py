"""Every chapter runs in Colab's package versions (issue 8): all cells, every assert, the widgets.

The kernel runs in ``.venv-colab``, made by ``make test`` from ``tests/requirements-colab.txt``
(Colab's numpy, matplotlib, scikit-learn, scipy, ipywidgets 7.7.1, IPython and ipykernel). Outputs
are not compared (other versions print other digits); a chapter passes when every cell runs
without an error, so every ``assert`` of its Checks holds. Then every slider and drop-down the
chapter made is moved once, in the live kernel, as a reader would: its callback must run under
ipywidgets 7.7.1 and redraw its Output panel.
"""
from __future__ import annotations

import json
import os
import sys
import tempfile

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

from conftest import ROOT, chapter_paths

VENV = ROOT / ".venv-colab"
KERNEL = "dtr-colab"
CHAPTERS = chapter_paths()

# Move every control once; report how many there were and how many panels were redrawn.
EXERCISE_WIDGETS = r'''
import json as _json
import ipywidgets as _W
_all = list((getattr(_W.Widget, "widgets", None) or _W.widgets.widget._instances).values())
_panels = [w for w in _all if isinstance(w, _W.Output)]
_before = [p.outputs for p in _panels]
_moved = 0
for _w in _all:
    if isinstance(_w, (_W.widgets.widget_int._BoundedInt, _W.widgets.widget_float._BoundedFloat)):
        _w.value = _w.max if _w.value != _w.max else _w.min
        _moved += 1
    elif isinstance(_w, _W.widgets.widget_selection._Selection) and len(_w.options) > 1:
        _w.index = 1 if _w.index != 1 else 0
        _moved += 1
_redrawn = sum(p.outputs is not b and len(p.outputs) > 0 for p, b in zip(_panels, _before))
print(_json.dumps({"version": _W.__version__, "controls": _moved, "panels": len(_panels), "redrawn": _redrawn}))
'''


def colab_kernel() -> KernelManager:
    specs = KernelSpecManager(kernel_dirs=[str(VENV / "share" / "jupyter" / "kernels")])
    return KernelManager(kernel_name=KERNEL, kernel_spec_manager=specs)


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_chapter_runs_in_colab_versions(path):
    if not (VENV / "share" / "jupyter" / "kernels" / KERNEL).exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{VENV.name} is missing: `make test` creates it")
        pytest.skip(f"{VENV.name} is missing: run `make test` (it creates it)")
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(EXERCISE_WIDGETS))
    with tempfile.TemporaryDirectory(prefix="dtr-colab-") as cwd:  # no repo file in reach
        km = colab_kernel()  # nbclient shuts down only kernels it made itself, so this one is ours to stop
        try:
            NotebookClient(nb, km=km, timeout=600, resources={"metadata": {"path": cwd}}).execute()
        finally:
            if km.has_kernel:
                km.shutdown_kernel(now=True)
    report = json.loads(nb.cells[-1].outputs[-1]["text"])
    assert report["version"].startswith("7.7"), f"the kernel ran ipywidgets {report['version']}, not Colab's 7.7.1"
    assert report["redrawn"] == report["panels"] or report["controls"] == 0, \
        f"{report['panels'] - report['redrawn']} Output panel(s) not redrawn after moving every control: {report}"
    print(f"{path.stem}: ran in Colab's versions; widgets {report}")
