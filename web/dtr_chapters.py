"""Sphinx extension: chapter numbers from the table of contents, and equations numbered within
their chapter, as d2l does: the third labelled equation of chapter 2 of Part 3 is "(3.2.3)",
on the page and in every {eq} reference to it, from any page.

Jupyter Book 1.x numbers parts' chapters apart, so with numbered parts Sphinx's own equation
numbers run through the whole book ("(172)"). Here the number of a chapter is read from
``_toc.yml``: part N is the part whose caption starts "Part N", chapter k its k-th entry. Pages
outside a numbered part (front and back matter) keep one counter of their own, "(1)", "(2)".

Nothing is typed by hand: a chapter gets its number from its place in ``_toc.yml``, and its
equations from their order on the page.
"""
from __future__ import annotations

import re
from pathlib import Path

import yaml
from docutils import nodes
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment

PART_CAPTION = re.compile(r"^Part\s+(\d+)\b")


def chapter_numbers(toc_path: Path) -> dict[str, tuple[int, int]]:
    """Docname -> (part, chapter) for every chapter of a numbered part of the TOC."""
    toc = yaml.safe_load(toc_path.read_text())
    numbers: dict[str, tuple[int, int]] = {}
    for part in toc.get("parts", []):
        match = PART_CAPTION.match(str(part.get("caption", "")))
        if not match:
            continue
        for k, entry in enumerate(part.get("chapters", []), start=1):
            numbers[str(entry["file"]).removesuffix(".ipynb").removesuffix(".md")] = (int(match[1]), k)
    return numbers


def renumber_equations(app: Sphinx, env: BuildEnvironment) -> list[str]:
    """After Sphinx has numbered figures and equations: number equations within each chapter."""
    numbers = chapter_numbers(Path(app.srcdir) / "_toc.yml")
    env.dtr_chapter_numbers = numbers  # type: ignore[attr-defined]
    for docname, kinds in env.toc_fignumbers.items():
        equations = kinds.get("displaymath")
        if not equations:
            continue
        prefix = numbers.get(docname, ())
        # Sphinx numbered them in the page's order; keep that order, restart at 1 on every page.
        in_order = sorted(equations, key=lambda node_id: equations[node_id])
        kinds["displaymath"] = {node_id: (*prefix, i) for i, node_id in enumerate(in_order, start=1)}
    return []


def number_the_title(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Put the chapter number before the page title: "3.2 From MHA to MQA ...". """
    number = getattr(app.env, "dtr_chapter_numbers", {}).get(docname)
    if not number:
        return
    for section in doctree.findall(nodes.section):
        title = section.next_node(nodes.title)
        if title is not None:
            label = ".".join(map(str, number)) + " "
            title.insert(0, nodes.inline(label, label, classes=["section-number"]))
        return


def setup(app: Sphinx) -> dict:
    # After Sphinx's own TocTreeCollector (priority 500) has assigned the numbers.
    app.connect("env-get-updated", renumber_equations, priority=900)
    app.connect("doctree-resolved", number_the_title)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
