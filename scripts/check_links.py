"""Check the built site's links offline: every internal link and anchor resolves.

    python scripts/check_links.py [_build/html]

Reads every HTML page under the site (not ``_static/``) and every stylesheet under
``_static/``:

- an internal link (``<a href>``, ``<img src>``, ``<script src>``, ``<link href>``, ...) must
  name a file of the site (a folder counts if it has an index.html), without leaving it;
- its ``#anchor``, if it points into an HTML page, must be an ``id`` (or ``name``) there;
- a resource the browser loads by itself (script, stylesheet, image, frame, font in a
  stylesheet) must be local: the site reads offline;
- external links (``<a href="https://...">``) are not fetched.

Prints one line per problem and exits 1 if there is any.
"""
from __future__ import annotations

import posixpath
import re
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

# (tag, attribute) pairs that the browser follows or loads
LINK_ATTRS = {("a", "href"), ("area", "href"), ("link", "href"), ("img", "src"), ("script", "src"),
              ("iframe", "src"), ("source", "src"), ("video", "src"), ("audio", "src"), ("embed", "src"),
              ("object", "data"), ("video", "poster"), ("input", "src")}
# of those, the ones loaded without a click (a <link> only for these rel values)
LOADED = {"link", "img", "script", "iframe", "source", "video", "audio", "embed", "object", "input"}
LOADING_RELS = {"stylesheet", "icon", "shortcut", "preload", "modulepreload", "prefetch", "manifest",
                "apple-touch-icon", "mask-icon"}
SKIPPED_DIRS = {"_static"}
CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")]+)\1\s*\)""")


class Page(HTMLParser):
    """Collects a page's ids and the URLs it links to or loads."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.urls: list[tuple[str, str, bool]] = []  # (tag, url, loaded by the browser)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v for k, v in attrs if v is not None}
        for key in ("id", "name") if tag in ("a", "map") else ("id",):
            if key in a:
                self.ids.add(a[key])
        for t, attr in LINK_ATTRS:
            if tag == t and a.get(attr):
                rels = set(a.get("rel", "").lower().split())
                loaded = tag in LOADED and (tag != "link" or bool(rels & LOADING_RELS))
                self.urls.append((tag, a[attr].strip(), loaded))
        if tag == "meta" and a.get("http-equiv", "").lower() == "refresh":  # index.html's redirect
            match = re.search(r"url=(.+)$", a.get("content", ""), re.I)
            if match:
                self.urls.append(("meta", match.group(1).strip().strip("'\""), False))
        if tag == "img" and a.get("srcset"):
            for part in a["srcset"].split(","):
                if part.strip():
                    self.urls.append((tag, part.split()[0], True))

    handle_startendtag = handle_starttag


def is_external(url: str) -> bool:
    return bool(urlsplit(url).scheme) or url.startswith("//")


def parse(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8", errors="replace"))
    page.close()
    return page


def check_site(root: Path) -> list[str]:
    """Every problem with the site's links, one line each (empty if there is none)."""
    root = root.resolve()
    pages = {p.relative_to(root).as_posix(): p for p in sorted(root.rglob("*.html"))
             if not (set(p.relative_to(root).parts[:-1]) & SKIPPED_DIRS)}
    parsed = {rel: parse(path) for rel, path in pages.items()}
    ids = {rel: page.ids for rel, page in parsed.items()}
    problems = []

    def resolve(base: str, url: str) -> tuple[str | None, str]:
        """The site-relative file a URL from page ``base`` names, and its fragment."""
        parts = urlsplit(url)
        if not parts.path:
            return base, unquote(parts.fragment)
        target = posixpath.normpath(posixpath.join(posixpath.dirname(base), unquote(parts.path)))
        if target.startswith("../") or target == "..":
            return None, ""
        if (root / target).is_dir():
            target = posixpath.join(target, "index.html")
        return target, unquote(parts.fragment)

    for rel, page in parsed.items():
        for tag, url, loaded in page.urls:
            if url.startswith(("data:", "blob:", "javascript:", "mailto:", "tel:")):
                continue
            if is_external(url):
                if loaded:
                    problems.append(f"{rel}: <{tag}> loads {url} from outside the site (serve it locally)")
                continue
            target, fragment = resolve(rel, url)
            if target is None:
                problems.append(f"{rel}: <{tag}> {url} points outside the site")
            elif not (root / target).is_file():
                problems.append(f"{rel}: <{tag}> {url} -> {target} does not exist")
            elif fragment and target.endswith(".html"):
                if target not in ids:  # an HTML file we skipped (under _static/): parse it now
                    ids[target] = parse(root / target).ids
                if fragment not in ids[target]:
                    problems.append(f"{rel}: <{tag}> {url} -> no id {fragment!r} in {target}")

    for css in sorted((root / "_static").rglob("*.css")):
        rel = css.relative_to(root).as_posix()
        for _, url in CSS_URL.findall(css.read_text(encoding="utf-8", errors="replace")):
            url = url.strip()
            if url.startswith(("data:", "#")) or not url:
                continue
            if is_external(url):
                problems.append(f"{rel}: url({url}) loads from outside the site")
                continue
            target, _ = resolve(rel, url)
            if target is None or not (root / target).is_file():
                problems.append(f"{rel}: url({url}) -> {target} does not exist")
    return problems


def main(argv: list[str]) -> int:
    root = Path(argv[0] if argv else Path(__file__).resolve().parent.parent / "_build" / "html")
    problems = check_site(root)
    for line in problems:
        print(line)
    print(f"{len(problems)} link problems in {root}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
