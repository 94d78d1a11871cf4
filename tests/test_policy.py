"""Notebook policy: what makes strict nbval mean something, and the shape of a chapter.

nbval compares nothing for a cell that never ran, so every code cell must have been
executed, in order, by the canonical command. The rest is the contract of
``../shared/house-style.md``: self-contained, seeded, checked, timed, cited.
"""
from __future__ import annotations

import ast
import re
import sys
from datetime import datetime
from pathlib import Path

import nbformat
import pytest
import yaml

from conftest import ROOT, chapter_paths

# Third-party packages a chapter may import: the book's libraries, each pinned in
# requirements.txt and available in Colab. Adding one means pinning it too.
ALLOWED_THIRD_PARTY = {"numpy", "torch", "matplotlib", "scipy", "sklearn", "ipywidgets", "IPython", "tqdm", "xgboost", "pyspark"}
# Standard-library modules that reach the network or other processes' files.
FORBIDDEN_STDLIB = {"urllib", "http", "socket", "ftplib", "smtplib", "ssl", "requests", "webbrowser",
                    "xmlrpc", "telnetlib", "poplib", "imaplib", "subprocess"}
# Calls that read files or fetch data: a chapter generates its data or loads it from a package.
FORBIDDEN_CALLS = re.compile(
    r"\b(open|np\.load|np\.loadtxt|np\.genfromtxt|np\.fromfile|torch\.load|pd\.read_\w+|imread|"
    r"fetch_\w+|read_text|read_bytes|urlopen|download\w*)\s*\(|__file__|\.\./"
)
SEED_READ = re.compile(r"""os\.(environ\.get|getenv)\(\s*["']SEED["']""")
MAX_SECONDS = 90

CHAPTERS = chapter_paths()
IDS = [str(p.relative_to(ROOT / "notebooks")) for p in CHAPTERS]


def load(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def code_cells(nb) -> list:
    return [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]


def markdown(nb) -> str:
    return "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


def headings(nb) -> list[str]:
    return [h.strip() for h in re.findall(r"^#{1,6}\s+(.*)$", markdown(nb), re.M)]


def python_source(cell) -> str:
    """The cell's code with IPython magics and shell escapes blanked out, ready for ast."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in cell.source.splitlines())


def imported_roots(nb) -> set[str]:
    roots = set()
    for cell in code_cells(nb):
        for node in ast.walk(ast.parse(python_source(cell))):
            if isinstance(node, ast.Import):
                roots |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                roots.add(node.module.split(".")[0])
    return roots


def cell_seconds(cell) -> float | None:
    ex = cell.metadata.get("execution", {})
    start, end = ex.get("iopub.execute_input"), ex.get("shell.execute_reply")
    if not (start and end):
        return None
    parse = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00"))  # noqa: E731
    return (parse(end) - parse(start)).total_seconds()


def toc_files() -> set[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = set()

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                files.add(str(node["file"]).removesuffix(".ipynb").removesuffix(".md"))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(toc)
    return files


def test_there_are_chapters():
    assert CHAPTERS, "no chapter notebooks found under notebooks/"


def test_toc_lists_exactly_the_chapters():
    listed = {f for f in toc_files() if f.startswith("notebooks/")}
    present = {str(p.relative_to(ROOT).with_suffix("")) for p in CHAPTERS}
    assert listed == present, f"in _toc.yml only: {sorted(listed - present)}; on disk only: {sorted(present - listed)}"
    for f in toc_files():
        assert any((ROOT / f).with_suffix(s).exists() for s in (".md", ".ipynb")), f"_toc.yml names missing {f}"


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_every_code_cell_executed_in_order(path):
    counts = [c.get("execution_count") for c in code_cells(load(path))]
    assert None not in counts, f"unexecuted code cells at positions {[i for i, c in enumerate(counts) if c is None]}"
    assert counts == list(range(1, len(counts) + 1)), f"not run top to bottom in one kernel: {counts}"


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_no_errors_or_stderr(path):
    for i, cell in enumerate(code_cells(load(path))):
        for out in cell.get("outputs", []):
            assert out.output_type != "error", f"cell {i} stored an error: {out.get('ename')}"
            if out.output_type == "stream" and out.name == "stderr":
                pytest.fail(f"cell {i} wrote to stderr: {out.text[:200]!r}")


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_imports_only_pinned_libraries(path):
    pinned = {re.split(r"[=<>!~]", line)[0].strip().lower() for line in (ROOT / "requirements.txt").read_text().splitlines()
              if line.strip() and not line.startswith("#")}
    dist_of = {"sklearn": "scikit-learn", "IPython": "ipython", "xgboost": "xgboost-cpu"}
    for root in imported_roots(load(path)):
        if root in sys.stdlib_module_names:
            assert root not in FORBIDDEN_STDLIB, f"{root}: chapters do not use the network or other processes"
        else:
            assert root in ALLOWED_THIRD_PARTY, f"{root} is not one of the book's libraries {sorted(ALLOWED_THIRD_PARTY)}"
            assert dist_of.get(root, root).lower() in pinned, f"{root} is not pinned in requirements.txt"


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_self_contained_no_file_reads_no_downloads(path):
    for i, cell in enumerate(code_cells(load(path))):
        hit = FORBIDDEN_CALLS.search(python_source(cell))
        assert hit is None, f"cell {i} reads a file or fetches data ({hit.group(0)!r}); generate data or use sklearn.datasets.load_*"


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_reads_seed_from_environment(path):
    setup = "\n".join(c.source for c in code_cells(load(path))[:2])
    assert SEED_READ.search(setup), "the setup cell must read SEED from the environment (default 0)"
    assert re.search(r"manual_seed|default_rng|random\.seed", setup), "the setup cell must seed the generators"


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_chapter_shape(path):
    nb = load(path)
    md, heads = markdown(nb), headings(nb)
    assert re.search(r"\*\*Source post:?\*\*", md), "missing the one-line **Source post:** note"
    for section in ("Checks", "Exercises", "References"):
        assert any(section.lower() in h.lower() for h in heads), f"missing a '{section}' section"
    checks_at = next(i for i, c in enumerate(nb.cells) if c.cell_type == "markdown" and re.search(r"^#+ .*Checks", c.source, re.M | re.I))
    asserts = sum(len(re.findall(r"^\s*assert\b", c.source, re.M)) for c in nb.cells[checks_at:] if c.cell_type == "code")
    assert asserts >= 3, f"the Checks section has only {asserts} asserts"
    exercises = re.findall(r"^:::+\{exercise\}", md, re.M)
    solutions = re.findall(r"^:::+\{solution\}[^\n]*\n(?::[^\n]*\n)*?:class: dropdown", md, re.M)
    assert 2 <= len(exercises) <= 6, f"{len(exercises)} exercises (want 2 to 4)"
    assert len(solutions) == len(exercises), "every exercise needs a hidden (:class: dropdown) solution"


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_labels_are_prefixed_and_resolve(path):
    md, slug = markdown(load(path)), path.stem
    eq_labels = set(re.findall(r"^\$\$\s*\((\S+)\)\s*$", md, re.M))
    ex_labels = set(re.findall(r"^:label:\s*(\S+)", md, re.M))
    for label in eq_labels | ex_labels:
        assert label.startswith(slug + "-"), f"label {label!r} must start with the chapter slug ({slug}-)"
    for ref in re.findall(r"\{eq\}`([^`]+)`", md):
        assert ref in eq_labels, f"{{eq}}`{ref}` refers to no equation of this chapter"


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_macro_cell_matches_the_book(path):
    """The hidden first cell repeats the site's TeX macros so math renders in Jupyter and Colab too."""
    macros = yaml.safe_load((ROOT / "_config.yml").read_text())["sphinx"]["config"]["mathjax3_config"]["tex"]["macros"]
    first = load(path).cells[0]
    assert first.cell_type == "markdown" and "remove-cell" in first.metadata.get("tags", []), \
        "the first cell must be the hidden (remove-cell) macro cell"
    defined = dict(re.findall(r"\\newcommand\{\\(\w+)\}\{(.*)\}\s*$", first.source, re.M))
    assert defined == macros, f"macro cell differs from _config.yml: {set(defined.items()) ^ set(macros.items())}"


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_runtime_within_budget(path):
    times = [cell_seconds(c) for c in code_cells(load(path))]
    assert None not in times, "no timing metadata: execute with `make execute` (nbclient stores it)"
    total = sum(times)
    print(f"{path.name}: {total:.1f} s")
    assert total <= MAX_SECONDS, f"runtime {total:.0f} s exceeds the {MAX_SECONDS} s limit"


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_stored_with_python3_kernel_and_small(path):
    nb = load(path)
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3", "kernelspec must be python3 (Colab, Binder)"
    assert "jupytext" not in nb.metadata, "authoring metadata left in the notebook"
    size = path.stat().st_size
    assert size < 5_000_000, f"{size / 1e6:.1f} MB: keep a chapter under 5 MB (fewer animation frames, lower dpi)"


def adam_calls_without_fused(nb) -> list[str]:
    """Adam/AdamW constructions that do not pass ``fused=True``."""
    found = []
    for cell in code_cells(nb):
        for node in ast.walk(ast.parse(python_source(cell))):
            if isinstance(node, ast.Call):
                name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                fused = any(k.arg == "fused" and isinstance(k.value, ast.Constant) and k.value.value is True
                            for k in node.keywords)
                if name in {"Adam", "AdamW"} and not fused:
                    found.append(ast.unparse(node)[:80])
    return found


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_adam_is_fused(path):
    """Default (foreach) Adam takes float32 square roots with MKL's vector maths, which differ between
    CPUs even under the pinned code path, so a chapter trained with it prints other figures on
    another CPU; ``fused=True`` computes the same bits everywhere (tests/cross_cpu_workload.ipynb)."""
    found = adam_calls_without_fused(load(path))
    assert not found, f"pass fused=True (the same bits on every CPU): {found}"
