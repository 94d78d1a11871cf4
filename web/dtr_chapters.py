"""Sphinx extension: what the site shows about each chapter, generated at build time from the
table of contents, the stored notebooks and the book's data files, never typed into a page.

- Chapter numbers and equations numbered within their chapter, as d2l does: the third
  labelled equation of chapter 2 of Part 3 is "(3.2.3)", on the page and in every {eq}
  reference to it, from any page.
- Under every chapter's title: a badge with the stored run (its cell time, the CPU and the
  package versions recorded by ``make execute`` in the notebook's metadata), and a "Builds on /
  Leads to" line from ``book/data/chapter-map.yml``.
- The ``dtr-chapter-map`` directive: the prerequisite graph as a figure (matplotlib, SVG,
  each chapter a link).
- The ``dtr-reproduction`` directive: the reproduction table, one row per headline claim
  a chapter declares in the metadata of the code cell whose assert checks it
  (``metadata.dtr.claims``), with our figure read from that cell's stored output.
- The ``dtr-glossary`` directive: the bilingual glossary from ``book/data/glossary.yml``, each
  term linked to the section of the chapter that defines it.

Jupyter Book 1.x numbers parts' chapters apart, so with numbered parts Sphinx's own equation
numbers run through the whole book ("(172)"). Here the number of a chapter is read from
``_toc.yml``: part N is the part whose caption starts "Part N", chapter k its k-th entry. Pages
outside a numbered part (front and back matter) keep one counter of their own, "(1)", "(2)".

Nothing is typed by hand: a chapter gets its number from its place in ``_toc.yml``, and its
equations from their order on the page.
"""
from __future__ import annotations

import io
import operator
import re
from datetime import datetime
from pathlib import Path

import nbformat
import yaml
from docutils import nodes
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)

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


def cell_seconds(cell: nbformat.NotebookNode) -> float:
    """A code cell's run time from nbclient's timing metadata (as tests/test_policy.py reads it)."""
    ex = cell.metadata.get("execution", {})
    start, end = ex.get("iopub.execute_input"), ex.get("shell.execute_reply")
    if not (start and end):
        return 0.0
    parse = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00"))  # noqa: E731
    return (parse(end) - parse(start)).total_seconds()


def run_badge(nb: nbformat.NotebookNode) -> str:
    """One line on the stored run: cell time, CPU, Python and the packages' versions."""
    seconds = sum(cell_seconds(c) for c in nb.cells if c.cell_type == "code")
    meta = nb.metadata.get("dtr", {})
    parts = [f"Stored run: {seconds:.0f} s of cell time, one thread, SEED=0"]
    if meta.get("cpu"):
        parts[0] += f", on {meta['cpu']}"
    env = meta.get("environment")
    if env:
        parts += [f"{name} {ver}" for name, ver in env.items()]
    else:
        parts.append(f"Python {nb.metadata.get('language_info', {}).get('version', '?')}; package versions "
                     "not recorded by this run (requirements.txt pins them)")
    return " · ".join(parts)


def chapter_map(srcdir: Path, numbers: dict[str, tuple[int, int]]) -> dict[str, list[str]]:
    """Docname -> the docnames it builds on, for the chapters in the TOC."""
    declared = yaml.safe_load((srcdir / "book" / "data" / "chapter-map.yml").read_text())
    doc_of = {doc.rsplit("/", 1)[-1]: doc for doc in numbers}
    return {doc_of[slug]: [doc_of[p] for p in prereqs if p in doc_of]
            for slug, prereqs in declared.items() if slug in doc_of}


def chapter_links(app: Sphinx, docname: str, docs: list[str], label: str) -> nodes.paragraph:
    """"Builds on: 1.3 VAE, 2.1 DDPM" with a link to each page."""
    para = nodes.paragraph(classes=["dtr-chapter-links"])
    para += nodes.strong(label, label)
    para += nodes.Text(" ")
    for i, doc in enumerate(docs):
        if i:
            para += nodes.Text(", ")
        name = ".".join(map(str, app.env.dtr_chapter_numbers[doc])) + " " + app.env.titles[doc].astext()
        uri = app.builder.get_relative_uri(docname, doc)
        para += nodes.reference(name, name, refuri=uri, internal=True)
    if not docs:
        para += nodes.Text("nothing earlier: a place to start" if label.startswith("Builds") else "no later chapter yet")
    return para


def number_the_title(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Chapter number before the title ("3.2 FlashAttention ..."), badge and map links below it."""
    numbers = getattr(app.env, "dtr_chapter_numbers", {})
    number = numbers.get(docname)
    if not number:
        return
    for section in doctree.findall(nodes.section):
        title = section.next_node(nodes.title)
        label = ".".join(map(str, number)) + " "
        title.insert(0, nodes.inline(label, label, classes=["section-number"]))
        nb = nbformat.read(app.env.doc2path(docname), as_version=4)
        graph = chapter_map(Path(app.srcdir), numbers)
        leads_to = sorted((d for d, pre in graph.items() if docname in pre), key=numbers.get)
        badge = nodes.paragraph(classes=["dtr-run-badge"])
        badge += nodes.Text(run_badge(nb))
        where = section.index(title) + 1
        section.insert(where, badge)
        section.insert(where + 1, chapter_links(app, docname, sorted(graph.get(docname, []), key=numbers.get), "Builds on:"))
        section.insert(where + 2, chapter_links(app, docname, leads_to, "Leads to:"))
        return


class chapter_map_placeholder(nodes.General, nodes.Element):
    """Where the map goes; filled in once every chapter's number is known."""


class ChapterMapDirective(SphinxDirective):
    """``{dtr-chapter-map}``: the prerequisite graph of the chapters in the TOC."""

    def run(self) -> list[nodes.Node]:
        self.env.note_dependency(str(Path(self.env.srcdir) / "book" / "data" / "chapter-map.yml"))
        return [chapter_map_placeholder()]


def chapter_map_svg(app: Sphinx, docname: str) -> str:
    """The graph as an SVG: one column a part, chapters in book order, arrows prerequisite -> chapter."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    numbers = app.env.dtr_chapter_numbers
    graph = chapter_map(Path(app.srcdir), numbers)
    rows = max(k for _, k in numbers.values())
    xy = {doc: (part - 1, -(k - 1)) for doc, (part, k) in numbers.items()}
    plt.rcParams["svg.fonttype"] = "none"  # labels stay text: searchable, sharp, small
    fig, ax = plt.subplots(figsize=(2.0 * max(p for p, _ in numbers.values()), 0.55 * rows + 0.8))
    for doc, prereqs in graph.items():
        for pre in prereqs:
            (x0, y0), (x1, y1) = xy[pre], xy[doc]
            bend = 0.0 if x0 != x1 else 0.6  # arrows inside one column bow out to stay visible
            ax.annotate("", xy=(x1 - 0.02, y1), xytext=(x0 + 0.02, y0),
                        arrowprops=dict(arrowstyle="-|>", color="0.55", lw=0.8, shrinkA=4, shrinkB=4,
                                        connectionstyle=f"arc3,rad={bend}"))
    for doc, (x, y) in xy.items():
        part, k = numbers[doc]
        text = ax.text(x, y, f"{part}.{k} {doc.rsplit('/', 1)[-1]}", ha="center", va="center", fontsize=8,
                       bbox=dict(boxstyle="round,pad=0.3", fc=plt.cm.tab10(part - 1), alpha=0.25, ec="none"))
        text.set_url(app.builder.get_relative_uri(docname, doc))
    parts = sorted({p for p, _ in numbers.values()})
    for p in parts:
        ax.text(p - 1, 0.9, f"Part {p}", ha="center", fontsize=9, weight="bold")
    ax.set_xlim(-0.6, len(parts) - 0.4)
    ax.set_ylim(-rows + 0.4, 1.3)
    ax.axis("off")
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(fig)
    svg = buffer.getvalue()
    return svg[svg.index("<svg"):]  # drop the XML prolog and DOCTYPE: the SVG sits inside HTML


def fill_chapter_map(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    for node in list(doctree.findall(chapter_map_placeholder)):
        html = f'<figure class="dtr-chapter-map">{chapter_map_svg(app, docname)}</figure>'
        node.replace_self(nodes.raw("", html, format="html"))


def add_stylesheet(app: Sphinx, config) -> None:
    """Serve web/dtr.css (the badge's and the map's styles) from _static/."""
    config.html_static_path = [*config.html_static_path, str(Path(__file__).resolve().parent / "static")]


def row(*cells: nodes.Node) -> nodes.row:
    """A table row, one paragraph an entry."""
    r = nodes.row()
    for cell in cells:
        entry = nodes.entry()
        entry += nodes.paragraph("", "", cell)
        r += entry
    return r


def new_table(classes: str, columns: dict[str, int]) -> tuple[nodes.table, nodes.tbody]:
    """An empty table with a heading row; columns: heading -> relative width. Returns the body to fill."""
    table, group = nodes.table(classes=[classes]), nodes.tgroup(cols=len(columns))
    table += group
    group.extend(nodes.colspec(colwidth=w) for w in columns.values())
    head, body = nodes.thead(), nodes.tbody()
    group += [head, body]
    head += row(*(nodes.Text(h) for h in columns))
    return table, body


class glossary_placeholder(nodes.General, nodes.Element):
    """Where the glossary table goes; filled in once every chapter's number is known."""


class GlossaryDirective(SphinxDirective):
    """``{dtr-glossary}``: the terms of book/data/glossary.yml as a table."""

    def run(self) -> list[nodes.Node]:
        self.env.note_dependency(str(Path(self.env.srcdir) / "book" / "data" / "glossary.yml"))
        return [glossary_placeholder()]


def section_titles(app: Sphinx, docname: str, cache: dict) -> dict[str, str]:
    """Section id -> its title ("1.2 Forward versus reverse KL") on one page."""
    if docname not in cache:
        doctree = app.env.get_doctree(docname)
        cache[docname] = {sid: sec[0].astext() for sec in doctree.findall(nodes.section)
                          if sec.children and isinstance(sec[0], nodes.title) for sid in sec["ids"]}
    return cache[docname]


def glossary_table(app: Sphinx, docname: str) -> nodes.table:
    """English | 中文 | definition | where it is defined (a link to the section)."""
    terms = yaml.safe_load((Path(app.srcdir) / "book" / "data" / "glossary.yml").read_text())
    numbers = app.env.dtr_chapter_numbers
    doc_of = {doc.rsplit("/", 1)[-1]: doc for doc in numbers}
    cache: dict = {}
    table, body = new_table("dtr-glossary", {"English": 22, "中文": 14, "Definition": 44, "Defined in": 20})
    for term in sorted(terms, key=lambda t: t["en"].lower()):
        slug, anchor = term["at"].split("#")
        doc = doc_of[slug]
        title = section_titles(app, doc, cache).get(anchor)
        if title is None:  # a warning fails the build (-W): the data file points nowhere
            logger.warning(f"glossary: {term['en']!r} points to {term['at']}, which has no such section",
                           location=docname)
            continue
        where = ".".join(map(str, numbers[doc])) + " § " + title
        link = nodes.reference(where, where, internal=True,
                               refuri=app.builder.get_relative_uri(docname, doc) + "#" + anchor)
        body += row(nodes.strong(term["en"], term["en"]), nodes.Text(term["zh"]), nodes.Text(term["def"]), link)
    return table


class reproduction_placeholder(nodes.General, nodes.Element):
    """Where the reproduction table goes."""


class ReproductionDirective(SphinxDirective):
    """``{dtr-reproduction}``: every declared claim of every chapter in the TOC."""

    def run(self) -> list[nodes.Node]:
        return [reproduction_placeholder()]


OPS = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt, "==": operator.eq}


def cell_text(cell: nbformat.NotebookNode) -> str:
    """A code cell's stored stream output (what it printed)."""
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream")


def declared_claims(nb: nbformat.NotebookNode) -> list[dict]:
    """The claims a chapter declares, each with our figure read from its cell's stored output.

    A claim: {claim, paper, figure (a regex whose one group is our number in the cell's
    output), op (>=, <=, > or <), threshold}. Adds ``ours`` (float or None) and ``passes``.
    """
    found = []
    for cell in nb.cells:
        for claim in cell.metadata.get("dtr", {}).get("claims", []):
            hits = re.findall(claim["figure"], cell_text(cell))
            ours = float(hits[0]) if len(hits) == 1 else None
            passes = ours is not None and OPS[claim["op"]](ours, claim["threshold"])
            found.append({**claim, "ours": ours, "passes": passes, "cell": cell.get("id")})
    return found


def reproduction_table(app: Sphinx, docname: str) -> nodes.table:
    """Chapter | claim | the paper | ours | threshold | pass, in book order."""
    numbers = app.env.dtr_chapter_numbers
    table, body = new_table("dtr-reproduction", {"Chapter": 14, "Claim": 34, "The paper": 22, "Ours": 10,
                                                 "Threshold": 10, "Pass": 6})
    for doc in sorted(numbers, key=numbers.get):
        nb = nbformat.read(app.env.doc2path(doc), as_version=4)
        name = ".".join(map(str, numbers[doc])) + " " + doc.rsplit("/", 1)[-1]
        checks = app.builder.get_relative_uri(docname, doc) + "#checks"

        def link() -> nodes.reference:  # a fresh node per row: a docutils node has one parent
            return nodes.reference(name, name, internal=True, refuri=checks)

        if reason := nb.metadata.get("dtr", {}).get("no_headline_claim"):
            body += row(link(), nodes.emphasis(reason, "No headline claim: " + reason), *(nodes.Text("–") for _ in range(4)))
        for c in declared_claims(nb):
            ours = "missing" if c["ours"] is None else f"{c['ours']:g}"
            body += row(link(), nodes.Text(c["claim"]), nodes.Text(c["paper"]), nodes.Text(ours),
                        nodes.Text(f"{c['op']} {c['threshold']:g}"), nodes.Text("✓" if c["passes"] else "✗"))
    return table


def fill_reproduction(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    for node in list(doctree.findall(reproduction_placeholder)):
        node.replace_self(reproduction_table(app, docname))


def fill_glossary(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    for node in list(doctree.findall(glossary_placeholder)):
        node.replace_self(glossary_table(app, docname))


def setup(app: Sphinx) -> dict:
    app.add_node(reproduction_placeholder)
    app.add_directive("dtr-reproduction", ReproductionDirective)
    app.connect("doctree-resolved", fill_reproduction)
    app.add_node(glossary_placeholder)
    app.add_directive("dtr-glossary", GlossaryDirective)
    app.connect("doctree-resolved", fill_glossary)
    app.connect("config-inited", add_stylesheet)
    app.add_css_file("dtr.css")
    app.add_node(chapter_map_placeholder)
    app.add_directive("dtr-chapter-map", ChapterMapDirective)
    app.connect("doctree-resolved", fill_chapter_map)
    # After Sphinx's own TocTreeCollector (priority 500) has assigned the numbers.
    app.connect("env-get-updated", renumber_equations, priority=900)
    app.connect("doctree-resolved", number_the_title)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
