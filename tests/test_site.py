"""The site: a fresh build with warnings as errors, and what a reader's browser shows.

One build per test run (the module-scoped ``site`` fixture; every site test lives in this
module, so ``--dist loadscope`` keeps them on one worker), then:

- the HTML itself: launch and download links, the macro cell hidden, outputs shown;
- links: every internal link and anchor resolves, nothing is loaded from outside the site
  (``scripts/check_links.py``; external links are not fetched);
- TeX: every formula typeset by MathJax in Node with the book's macros, errors fail
  (``web/check-tex.cjs``);
- a real browser: the site served on 127.0.0.1, every page opened in headless Chromium
  (``web/browser-check.cjs``, Playwright): no console errors, no failed or outside requests,
  math rendered, images loaded, launch/download buttons, saved widgets and animation
  buttons shown, the search box finds each chapter; a screenshot of the first chapter is
  kept in ``_build/browser/``. Without Chromium the browser tests skip, except under CI.
"""
from __future__ import annotations

import functools
import html
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from datetime import datetime
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import nbformat
import pytest
import yaml

from conftest import ROOT, chapter_paths
from test_claims import claims, printed  # how a chapter declares its claims

sys.path.insert(0, str(ROOT / "scripts"))
from build_book import build  # noqa: E402
from check_links import check_site  # noqa: E402

HTML = ROOT / "_build" / "html"
ARTIFACTS = ROOT / "_build" / "browser"
WEB = ROOT / "web"
CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
CHAPTERS = chapter_paths()
CHAPTER_IDS = [p.stem for p in CHAPTERS]
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


@pytest.fixture(scope="module")
def site() -> Path:
    """Build once per test run, from scratch, with -W --keep-going."""
    assert build() == 0, "jupyter-book build -W failed: see the Sphinx warnings above"
    return HTML


def repo_slug() -> str:
    url = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    return re.sub(r"^https://github\.com/", "", url).rstrip("/")


def page_of(nb: Path) -> str:
    return nb.relative_to(ROOT).with_suffix(".html").as_posix()


def site_pages(site: Path) -> list[str]:
    return sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html") if "_static" not in p.parts)


def node() -> str:
    found = shutil.which("node")
    assert found, "Node.js is needed for the site checks (make test installs the web/ assets with npm)"
    return found


# ---------------------------------------------------------------- the HTML itself

def test_index_and_preface(site):
    assert (site / "index.html").exists()
    preface = (site / "book" / "intro.html").read_text()
    assert "Derive, then Run" in preface and "Colab" in preface


@pytest.mark.parametrize("nb", CHAPTERS, ids=CHAPTER_IDS)
def test_chapter_page_has_launch_and_download_links(site, nb):
    rel = nb.relative_to(ROOT)
    page = (site / rel.with_suffix(".html")).read_text()
    assert f"https://colab.research.google.com/github/{repo_slug()}/blob/main/{rel}" in page, "no Colab launch link"
    assert f"https://mybinder.org/v2/gh/{repo_slug()}/main?urlpath=tree/{rel}" in page, "no Binder launch link"
    download = f"_sources/{rel}"
    assert download in page, "no .ipynb download link"
    assert (site / download).exists(), "the download link points to no file"


@pytest.mark.parametrize("nb", CHAPTERS, ids=CHAPTER_IDS)
def test_chapter_page_hides_the_macro_cell_and_shows_outputs(site, nb):
    page = (site / nb.relative_to(ROOT).with_suffix(".html")).read_text()
    assert "\\newcommand" not in page, "the macro cell should be removed from the page (tag remove-cell)"
    assert "cell_output" in page, "no stored outputs rendered"
    assert 'class="solution' in page or "solution" in page, "no exercise solutions"


# ---------------------------------------------------------------- numbers: chapters and equations

def toc_numbers() -> dict[str, str]:
    """Chapter path -> "part.k", counted here from _toc.yml (web/dtr_chapters.py does the same)."""
    numbers = {}
    for part in yaml.safe_load((ROOT / "_toc.yml").read_text())["parts"]:
        match = re.match(r"Part (\d+)\b", str(part.get("caption", "")))
        for k, entry in enumerate(part["chapters"], start=1):
            if match:
                numbers[entry["file"]] = f"{match[1]}.{k}"
    return numbers


EQNO = re.compile(r'<span class="eqno">\(([0-9.]+)\)')
EQ_ANCHOR = re.compile(r'id="equation-([\w-]+)"[^>]*>.*?<span class="eqno">\(([0-9.]+)\)', re.S)
EQ_REF = re.compile(r'<a class="reference internal" href="([^"#]*)#equation-([\w-]+)">\(([^)<]*)\)</a>')


@pytest.mark.parametrize("nb", CHAPTERS, ids=CHAPTER_IDS)
def test_chapter_number_and_equations_numbered_within_the_chapter(site, nb):
    """d2l's style: the i-th labelled equation of chapter k of Part p is (p.k.i), restarting per chapter."""
    rel = nb.relative_to(ROOT).with_suffix("")
    number = toc_numbers()[rel.as_posix()]
    page = (site / rel.with_suffix(".html")).read_text()
    assert f'<span class="section-number">{number} </span>' in page, f"the title does not show {number}"
    cells = nbformat.read(nb, as_version=4).cells
    labels = [m for c in cells if c.cell_type == "markdown" for m in re.findall(r"\$\$[ \t]*\(([\w:-]+)\)", c.source)]
    assert EQNO.findall(page) == [f"{number}.{i}" for i in range(1, len(labels) + 1)]


def test_equation_references_show_the_numbers_of_their_equations(site):
    """Every {eq} reference, on its own page or another, reads the number its target shows."""
    shown = {}
    for rel in site_pages(site):
        for label, number in EQ_ANCHOR.findall((site / rel).read_text()):
            shown[label] = number
    assert shown, "no numbered equations found on the site"
    refs = 0
    for rel in site_pages(site):
        for _, label, number in EQ_REF.findall((site / rel).read_text()):
            refs += 1
            assert shown.get(label) == number, f"{rel}: reference to {label} reads ({number}), the equation shows ({shown.get(label)})"
    assert refs > 100, f"only {refs} equation references found: has the HTML changed?"


def cell_time(cell) -> float:
    ex = cell.metadata.get("execution", {})
    start, end = ex.get("iopub.execute_input"), ex.get("shell.execute_reply")
    assert start and end, "no timing metadata: execute with `make execute`"
    parse = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00"))  # noqa: E731
    return (parse(end) - parse(start)).total_seconds()


def chapter_map_data() -> dict[str, list[str]]:
    return yaml.safe_load((ROOT / "book" / "data" / "chapter-map.yml").read_text())


@pytest.mark.parametrize("nb", CHAPTERS, ids=CHAPTER_IDS)
def test_chapter_page_shows_its_stored_run_and_its_place_on_the_map(site, nb):
    """The badge reads the stored run's metadata; the Builds on / Leads to lines the data file."""
    rel = nb.relative_to(ROOT).with_suffix("")
    page = (site / rel.with_suffix(".html")).read_text()
    stored = nbformat.read(nb, as_version=4)
    badge = re.search(r'<p class="dtr-run-badge">(.*?)</p>', page, re.S)
    assert badge, "no run badge under the title"
    seconds = sum(cell_time(c) for c in stored.cells if c.cell_type == "code")
    assert f"Stored run: {seconds:.0f} s of cell time" in badge[1]
    for name, version in stored.metadata.get("dtr", {}).get("environment", {}).items():
        assert f"{name} {version}" in badge[1], f"{name} {version} recorded but not on the badge"
    in_toc = {p.stem: p.relative_to(ROOT).with_suffix(".html").as_posix() for p in CHAPTERS}
    data = chapter_map_data()
    builds_on = {in_toc[s] for s in data[nb.stem] if s in in_toc}
    leads_to = {in_toc[s] for s, pre in data.items() if nb.stem in pre and s in in_toc}
    for label, expected in (("Builds on:", builds_on), ("Leads to:", leads_to)):
        line = re.search(rf"<strong>{label}</strong>(.*?)</p>", page, re.S)
        assert line, f"no '{label}' line"
        linked = {(rel.parent / h).as_posix() for h in re.findall(r'href="([^"#]+)"', line[1])}
        linked = {os.path.normpath(h) for h in linked}
        assert linked == expected, f"{label} links {sorted(linked)}, the data file says {sorted(expected)}"


def test_chapter_map_data_and_figure(site):
    """Every chapter in the TOC has an entry, names are chapters, no cycles; the figure links every chapter."""
    data = chapter_map_data()
    assert {p.stem for p in CHAPTERS} <= set(data), "a chapter in the TOC has no line in book/data/chapter-map.yml"
    for slug, prereqs in data.items():
        unknown = set(prereqs) - set(data)
        assert not unknown, f"{slug} builds on {unknown}, which are not chapters"
    state: dict[str, int] = {}

    def visit(slug: str, path: tuple[str, ...]) -> None:
        assert state.get(slug) != 1, f"the prerequisites have a cycle: {' -> '.join(path + (slug,))}"
        if state.get(slug) == 2:
            return
        state[slug] = 1
        for pre in data[slug]:
            visit(pre, path + (slug,))
        state[slug] = 2

    for slug in data:
        visit(slug, ())
    page = (site / "book" / "chapter-map.html").read_text()
    assert "<svg" in page, "no map figure"
    for nb in CHAPTERS:
        assert f'href="../{nb.relative_to(ROOT).with_suffix(".html").as_posix()}"' in page, f"{nb.stem} missing from the map"


def test_glossary_data_every_chapter_contributes():
    """>= 150 bilingual terms, each pointing into a chapter of the TOC; every chapter has terms."""
    terms = yaml.safe_load((ROOT / "book" / "data" / "glossary.yml").read_text())
    assert len(terms) >= 150, f"{len(terms)} terms: the glossary needs at least 150"
    english = [t["en"].lower() for t in terms]
    assert len(set(english)) == len(english), "a term appears twice"
    in_toc = {p.stem for p in CHAPTERS}
    for t in terms:
        assert set(t) == {"en", "zh", "def", "at"}, f"{t}: fields are en, zh, def, at"
        assert re.search(r"[\u4e00-\u9fff]", t["zh"]), f"{t['en']}: no Chinese term"
        assert t["at"].split("#")[0] in in_toc, f"{t['en']}: {t['at']} is not a chapter in the TOC"
    per_chapter = {slug: sum(t["at"].startswith(slug + "#") for t in terms) for slug in in_toc}
    lacking = sorted(slug for slug, n in per_chapter.items() if n < 3)
    assert not lacking, f"chapters with fewer than 3 glossary terms: {lacking}"


def test_glossary_page_links_every_term_to_its_section(site):
    terms = yaml.safe_load((ROOT / "book" / "data" / "glossary.yml").read_text())
    page = (site / "book" / "glossary.html").read_text()
    pages = {p.stem: p.relative_to(ROOT).with_suffix(".html").as_posix() for p in CHAPTERS}
    for t in terms:
        slug, anchor = t["at"].split("#")
        href = f"../{pages[slug]}#{anchor}"
        assert f'href="{href}"' in page, f"{t['en']}: no link to {href}"
        assert f'id="{anchor}"' in (site / pages[slug]).read_text(), f"{t['en']}: {pages[slug]} has no #{anchor}"
        assert html.escape(t["zh"], quote=False) in page, f"{t['en']}: Chinese term not shown"


def test_reproduction_page_has_every_declared_claim(site):
    """One row per declared claim, linking the chapter's Checks section, with our stored figure."""
    page = (site / "book" / "reproduction.html").read_text()
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", page, flags=re.S)
    # each row's text, tags dropped and entities decoded (docutils writes "pass@1" as "pass&#64;1")
    text = {r: html.unescape(re.sub(r"<[^>]+>", "", r)) for r in rows}
    for nb in CHAPTERS:
        notebook = nbformat.read(nb, as_version=4)
        href = f"../{nb.relative_to(ROOT).with_suffix('.html').as_posix()}#checks"
        assert 'id="checks"' in (site / nb.relative_to(ROOT).with_suffix(".html")).read_text(), f"{nb.stem}: no #checks"
        if reason := notebook.metadata.get("dtr", {}).get("no_headline_claim"):
            assert [r for r in rows if f'href="{href}"' in r and reason in text[r]], \
                f"{nb.stem}: its reason for no headline claim is not listed"
        for cell, c in claims(notebook):
            ours = f"{float(re.findall(c['figure'], printed(cell))[0]):g}"
            mine = [r for r in rows if f'href="{href}"' in r and c["claim"] in text[r]]
            assert len(mine) == 1, f"{nb.stem}: {len(mine)} rows for {c['claim']!r}"
            assert f"<p>{ours}</p>" in mine[0] and "✓" in mine[0], f"{nb.stem}: {c['claim']!r} row wrong"


# ---------------------------------------------------------------- links, offline

def test_internal_links_and_anchors_resolve(site):
    problems = check_site(site)
    assert not problems, f"{len(problems)} broken links:\n" + "\n".join(problems[:40])


def test_offline_assets_are_served_by_the_site(site):
    offline = site / "_static" / "offline"
    for asset in ("mathjax/tex-mml-chtml.js", "requirejs/require.js", "html-manager/embed-amd.js",
                  "font-awesome/css/font-awesome.min.css", "font-awesome/fonts/fontawesome-webfont.woff2"):
        assert (offline / asset).is_file(), f"_static/offline/{asset} missing (web/dtr_offline.py copies it)"
    for page in site_pages(site):
        text = (site / page).read_text()
        for cdn in ("cdn.jsdelivr.net", "cdnjs.cloudflare.com", "maxcdn.bootstrapcdn.com", "fonts.googleapis.com"):
            assert not re.search(rf"""(src|href)=["']https?://{re.escape(cdn)}""", text), f"{page} loads from {cdn}"


# ---------------------------------------------------------------- TeX

@pytest.fixture(scope="module")
def tex_report(site) -> dict:
    out = subprocess.run([node(), str(WEB / "check-tex.cjs"), str(site)], capture_output=True, text=True,
                         timeout=600, cwd=ROOT)
    assert out.returncode == 0, f"web/check-tex.cjs failed:\n{out.stderr[-3000:]}"
    report = json.loads(out.stdout)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "tex-report.json").write_text(json.dumps(report, indent=1))
    return report["pages"]


def test_every_formula_is_valid_tex(tex_report):
    errors = [f"{page}: {e['error']} in {e['tex'][:120]!r}" for page, r in tex_report.items() for e in r["errors"]]
    assert not errors, f"{len(errors)} TeX errors (MathJax, the book's macros):\n" + "\n".join(errors[:40])
    no_mathjax = [page for page, r in tex_report.items() if not r["mathjax"] and r.get("math_elements")]
    assert not no_mathjax, f"pages with math but without MathJax: {no_mathjax}"


@pytest.mark.parametrize("nb", CHAPTERS, ids=CHAPTER_IDS)
def test_tex_check_saw_the_chapter_formulas(tex_report, nb):
    page = tex_report.get(page_of(nb))
    assert page and page["formulas"] > 0, "the TeX check found no formula on this chapter page"


# ---------------------------------------------------------------- the browser

def find_chromium() -> str | None:
    for name in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if name and (found := shutil.which(name)):
            return found
    return None


@pytest.fixture(scope="module")
def served(site):
    """The built site on http://127.0.0.1:<free port>/ for the length of the module."""

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args):  # noqa: D102
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def search_term(nb: Path) -> str:
    """A chapter's key term: the longest word of its title."""
    title = next(re.sub(r"^#\s+", "", line) for cell in nbformat.read(nb, as_version=4).cells
                 if cell.cell_type == "markdown" for line in cell.source.splitlines() if re.match(r"^#\s", line))
    return max(re.findall(r"[A-Za-z][A-Za-z-]{3,}", title), key=len)


@pytest.fixture(scope="module")
def browser(site, served) -> dict:
    chromium = find_chromium()
    if chromium is None:
        message = ("no Chromium found (Debian: apt-get install chromium; or set CHROMIUM=/path/to/chrome): "
                   "the browser test did not run")
        if CI:
            pytest.fail(message + ", and under CI it must")
        pytest.skip(message)
    chapters = [{
        "page": page_of(nb),
        "term": search_term(nb),
        "colab": f"https://colab.research.google.com/github/{repo_slug()}/blob/main/{nb.relative_to(ROOT).as_posix()}",
        "binder": f"https://mybinder.org/v2/gh/{repo_slug()}/main?urlpath=tree/{nb.relative_to(ROOT).as_posix()}",
        "download": os.path.relpath(site / "_sources" / nb.relative_to(ROOT), (site / page_of(nb)).parent),
    } for nb in CHAPTERS if (site / page_of(nb)).exists()]
    shutil.rmtree(ARTIFACTS / "screenshots", ignore_errors=True)
    root = yaml.safe_load((ROOT / "_toc.yml").read_text())["root"]  # the page index.html redirects to
    config = {"base": served, "chromium": chromium, "pages": site_pages(site), "chapters": chapters,
              "search_from": f"{root}.html"}
    if chapters:
        config["screenshot_page"] = chapters[0]["page"]
        config["screenshot"] = str(ARTIFACTS / "screenshots" / (Path(chapters[0]["page"]).stem + ".png"))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "config.json").write_text(json.dumps(config, indent=1))
    out = subprocess.run([node(), str(WEB / "browser-check.cjs"), str(ARTIFACTS / "config.json")],
                         capture_output=True, text=True, timeout=1200, cwd=ROOT)
    assert out.returncode == 0, f"web/browser-check.cjs failed:\n{out.stderr[-3000:]}"
    report = json.loads(out.stdout)
    (ARTIFACTS / "report.json").write_text(json.dumps(report, indent=1))
    report["config"] = config
    slowest = sorted(report["pages"].items(), key=lambda kv: -kv[1].get("seconds", 0))[:3]
    print(f"Chromium {report['chromium']}: {len(report['pages'])} pages; slowest "
          + ", ".join(f"{p} {r.get('seconds', 0):.1f} s" for p, r in slowest))
    return report


def chapter_result(browser: dict, nb: Path) -> dict:
    result = browser["pages"].get(page_of(nb))
    assert result is not None, f"no page {page_of(nb)} in the site: is the chapter in _toc.yml?"
    return result


def problems(report: dict, key: str) -> list[str]:
    return [f"{page}: {item}" for page, r in report["pages"].items() for item in r.get(key, [])]


def test_browser_opened_every_page(browser, site):
    assert sorted(browser["pages"]) == site_pages(site)


def test_browser_no_console_errors(browser):
    found = problems(browser, "console")
    assert not found, "console errors:\n" + "\n".join(found[:40])


def test_browser_no_failed_or_outside_requests(browser):
    failed, outside = problems(browser, "failed"), problems(browser, "external")
    assert not failed, "failed requests:\n" + "\n".join(failed[:40])
    assert not outside, "requests outside the site (must be served locally):\n" + "\n".join(outside[:40])


def test_browser_math_is_rendered(browser):
    bad = []
    for page, r in browser["pages"].items():
        math = r.get("math", {})
        bad += [f"{page}: not typeset: {t!r}" for t in math.get("unrendered", [])]
        bad += [f"{page}: MathJax error: {t!r}" for t in math.get("errors", [])]
        bad += [f"{page}: raw TeX left on the page: {t!r}" for t in math.get("raw", [])]
    assert not bad, "\n".join(bad[:40])
    for chapter in browser["config"]["chapters"]:
        assert browser["pages"][chapter["page"]]["math"]["elements"] > 0, f"{chapter['page']}: no math"


def test_browser_images_load(browser):
    broken = problems(browser, "images")
    assert not broken, "broken images:\n" + "\n".join(broken[:40])


@pytest.mark.parametrize("nb", CHAPTERS, ids=CHAPTER_IDS)
def test_browser_chapter_has_colab_binder_and_download_buttons(browser, nb):
    buttons = chapter_result(browser, nb).get("buttons", {})
    for name in ("launch", "colab", "binder", "download"):
        assert buttons.get(name), f"the {name} button is missing or hidden: {buttons}"


@pytest.mark.parametrize("nb", CHAPTERS, ids=CHAPTER_IDS)
def test_browser_saved_widgets_render(browser, nb):
    state = nbformat.read(nb, as_version=4).metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    shown = [cell for cell in nbformat.read(nb, as_version=4).cells if cell.cell_type == "code"
             and not {"remove-output", "remove-cell"} & set(cell.metadata.get("tags", []))]
    views = sum(1 for cell in shown for out in cell.get("outputs", [])
                if "application/vnd.jupyter.widget-view+json" in out.get("data", {}))
    widgets = chapter_result(browser, nb).get("widgets", [])
    assert len(widgets) == views, f"{views} widget outputs in the notebook, {len(widgets)} on the page"
    if views:
        assert state, "widget outputs but no saved widget state (execute with `make execute`)"
    for w in widgets:
        assert w["rendered"], f"widget {w['model']} did not render from the saved state"
        assert w["images_ok"] == w["images"], f"widget {w['model']}: {w['images'] - w['images_ok']} images did not load"
    models = {m["model_name"] for m in state.values()}
    if any(name.endswith("SliderModel") and name != "SliderStyleModel" for name in models):
        assert sum(w["sliders"] for w in widgets) > 0, "slider models saved, no slider shown"
    if "ImageModel" in models:
        assert sum(w["images_ok"] for w in widgets) > 0, "image models saved, no image shown"


def test_browser_animation_buttons_show_their_icons(browser):
    blank = [f"{page}: {r['animations']['blank']} of {r['animations']['icons']} icons blank"
             for page, r in browser["pages"].items() if r.get("animations", {}).get("blank")]
    assert not blank, "animation buttons without icons (Font Awesome not loaded):\n" + "\n".join(blank)
    missing = [page for page, r in browser["pages"].items()
               if r.get("animations", {}).get("count") and not r["animations"]["icons"]]
    assert not missing, f"animations without buttons: {missing}"


@pytest.mark.parametrize("nb", CHAPTERS, ids=CHAPTER_IDS)
def test_browser_search_finds_the_chapter(browser, nb):
    chapter_result(browser, nb)
    result = browser["search"].get(page_of(nb), {})
    assert not result.get("console") and not result.get("failed") and not result.get("external"), result
    assert result.get("found"), f"typing {result.get('term')!r} in the search box does not find the chapter: {result}"


def test_browser_screenshot_of_a_chapter_is_kept(browser):
    if not browser["config"]["chapters"]:
        pytest.skip("no chapter page yet")
    shot = Path(browser["config"]["screenshot"])
    assert shot.is_file() and shot.stat().st_size > 10_000, f"no screenshot at {shot}"
