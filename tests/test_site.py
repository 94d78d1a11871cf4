"""The site: a fresh build with warnings as errors, and what a reader needs on each page."""
from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, chapter_paths

sys.path.insert(0, str(ROOT / "scripts"))
from build_book import build  # noqa: E402

HTML = ROOT / "_build" / "html"


@pytest.fixture(scope="module")
def site() -> Path:
    """Build once per test run, from scratch, with -W --keep-going."""
    assert build() == 0, "jupyter-book build -W failed: see the Sphinx warnings above"
    return HTML


def repo_slug() -> str:
    url = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    return re.sub(r"^https://github\.com/", "", url).rstrip("/")


def test_index_and_preface(site):
    assert (site / "index.html").exists()
    preface = (site / "book" / "intro.html").read_text()
    assert "Derive, then Run" in preface and "Colab" in preface


@pytest.mark.parametrize("nb", chapter_paths(), ids=lambda p: p.stem)
def test_chapter_page_has_launch_and_download_links(site, nb):
    rel = nb.relative_to(ROOT)
    page = (site / rel.with_suffix(".html")).read_text()
    assert f"https://colab.research.google.com/github/{repo_slug()}/blob/main/{rel}" in page, "no Colab launch link"
    assert f"https://mybinder.org/v2/gh/{repo_slug()}/main?urlpath=tree/{rel}" in page, "no Binder launch link"
    download = f"_sources/{rel}"
    assert download in page, "no .ipynb download link"
    assert (site / download).exists(), "the download link points to no file"


@pytest.mark.parametrize("nb", chapter_paths(), ids=lambda p: p.stem)
def test_chapter_page_hides_the_macro_cell_and_shows_outputs(site, nb):
    page = (site / nb.relative_to(ROOT).with_suffix(".html")).read_text()
    assert "\\newcommand" not in page, "the macro cell should be removed from the page (tag remove-cell)"
    assert "cell_output" in page, "no stored outputs rendered"
    assert 'class="solution' in page or "solution" in page, "no exercise solutions"
