"""nbval's rules for the chapters: the canonical numeric environment and the cross-CPU comparison.

Imported by ``tests/conftest.py`` (so ``make test`` always has it) and loadable on its own as a
pytest plugin (``PYTHONPATH=tests pytest -p nbval_rules notebooks/...``, as the cross-CPU test
runs it). nbval's kernels inherit this process's environment: one thread, ``SEED=0`` and the
numeric code path of ``scripts/numerics.py``, exactly as ``make execute`` made the stored
outputs.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for _dir in (ROOT / "scripts", ROOT / "tests"):
    if str(_dir) not in sys.path:
        sys.path.insert(0, str(_dir))

import numerics  # noqa: E402
import numeric_compare as nc  # noqa: E402

numerics.apply()
os.environ["SEED"] = "0"
os.environ["PYTHONHASHSEED"] = "0"
os.environ["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
os.environ.pop("FULL", None)

TOLERANCES = nc.load_tolerances(ROOT / "tests" / "tolerances.yml")
HERE = numerics.cpu_fingerprint()
PINNED = numerics.supports_x86_code_path()


def notebook_rule(nb) -> str:
    """The comparison rule for a notebook read by nbval (see tests/numeric_compare.py)."""
    made_on = nb.metadata.get("dtr", {}).get("outputs_made_on")
    return nc.rule_for_notebook(made_on, HERE, PINNED, nc.forced_rule())


def _install_rules() -> None:
    """Wrap nbval's output comparison: reconcile numbers within the cell's rule, then compare as nbval does."""
    try:
        from nbval.plugin import IPyNbCell
    except ImportError:  # nbval missing: the notebook tests cannot run anyway
        return
    original = IPyNbCell.compare_outputs
    if getattr(original, "dtr_rules", False):  # already installed
        return

    def compare_outputs(self, test, ref, skip_compare=None):
        rule = notebook_rule(self.parent.nb)
        tol = nc.tolerance_for_cell(rule, Path(str(self.parent.fspath)).stem, self.cell.get("id", ""), TOLERANCES)
        if tol is not None:
            test = nc.reconcile_outputs(test, ref, tol, self.sanitize)
        return original(self, test, ref, skip_compare)

    compare_outputs.dtr_rules = True
    IPyNbCell.compare_outputs = compare_outputs


_install_rules()


def pytest_report_header(config):
    rule = nc.forced_rule() or ("auto" if PINNED else "structure")
    lines = [f"numerics: {' '.join(f'{k}={v}' for k, v in numerics.numeric_env().items())}; "
             f"CPU fingerprint {HERE}; rule {rule}"]
    if not PINNED and not nc.forced_rule():
        lines.append("NOTE: this CPU cannot run the pinned x86-64 code path, so printed numbers cannot match the stored "
                     "ones; every chapter still runs and every assert is checked, text is compared, numbers are not.")
    return lines
