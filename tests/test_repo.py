"""The repository's own contract: pins, the two README commands, CI calls the test command."""
from __future__ import annotations

import re

from conftest import ROOT


def requirement_lines() -> list[str]:
    return [l.strip() for l in (ROOT / "requirements.txt").read_text().splitlines() if l.strip() and not l.startswith("#")]


def test_requirements_are_exact_pins():
    loose = [l for l in requirement_lines() if not re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[A-Za-z0-9_.+\-]+", l)]
    assert not loose, f"not exact pins: {loose}"


def test_required_packages_are_pinned():
    names = {l.split("==")[0].lower().replace("_", "-") for l in requirement_lines()}
    need = {"jupyter-book", "numpy", "torch", "matplotlib", "ipywidgets", "nbval", "scikit-learn", "scipy",
            "pytest", "pytest-xdist", "ipykernel", "nbclient", "nbconvert", "tqdm", "sphinx-proof",
            "sphinx-exercise", "sphinxcontrib-bibtex"}
    assert need <= names, f"missing pins: {sorted(need - names)}"
    jb = next(l for l in requirement_lines() if l.lower().startswith("jupyter-book=="))
    assert jb.split("==")[1].startswith("1."), "Jupyter Book 1.x"
    assert "torch==2.13.0" in requirement_lines(), "torch==2.13.0 (the CPU build on this machine's disk)"


def test_ci_runs_the_readme_test_command():
    readme, ci = (ROOT / "README.md").read_text(), (ROOT / ".ci" / "run").read_text()
    assert "make test" in readme and "make book" in readme
    commands = [l for l in ci.splitlines() if l.strip() and not l.lstrip().startswith(("#", "set ", "cd "))]
    assert commands == ["make test"], f".ci/run must only call the README's test command, found {commands}"


def test_config_keeps_outputs_and_launch_buttons():
    import yaml

    cfg = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert cfg["execute"]["execute_notebooks"] == "off"
    assert cfg["only_build_toc_files"] is True
    assert cfg["launch_buttons"]["colab_url"] and cfg["launch_buttons"]["binderhub_url"]
    assert cfg["sphinx"].get("recursive_update") is True, "html_theme_options would drop the launch buttons"


def test_scripts_compile():
    """The make targets' scripts are not run by the tests: at least make sure each one parses."""
    import py_compile

    for script in sorted((ROOT / "scripts").glob("*.py")) + sorted((ROOT / "web").glob("*.py")):
        py_compile.compile(str(script), doraise=True, cfile=str(ROOT / "_build" / "pycompile" / (script.name + "c")))


def test_bibliography_has_no_duplicates():
    """One entry per work: the bibliography page lists every entry of references.bib."""
    import collections

    bib = (ROOT / "book" / "references.bib").read_text()
    keys = re.findall(r"^@\w+\{([^,]+),", bib, re.M)
    titles = [re.sub(r"[^a-z0-9]", "", t.lower()) for t in re.findall(r"^\s*title\s*=\s*[{\"](.+?)[}\"],?\s*$", bib, re.M)]
    dup_keys = [k for k, n in collections.Counter(keys).items() if n > 1]
    dup_titles = [t for t, n in collections.Counter(titles).items() if n > 1]
    assert not dup_keys and not dup_titles, f"duplicate keys {dup_keys} or titles {dup_titles}"
