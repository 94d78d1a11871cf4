"""Sphinx extension: the site loads nothing from a CDN, so it also reads offline.

The front-end assets come from npm (``web/package.json``, exact versions in the committed
``web/package-lock.json``, installed by ``npm ci`` in the Makefile's set-up) and are copied
into ``_build/html/_static/offline/``:

- MathJax 3 (``mathjax-full``'s ``es5`` components) for ``mathjax_path``;
- require.js and the ipywidgets HTML manager for ``nb_ipywidgets_js`` (saved widget state);
- Font Awesome 4 for matplotlib's ``to_jshtml()`` animations, whose stored HTML links the
  CDN copy: the link is rewritten on every page, the notebooks' stored outputs untouched.

``_config.yml`` points ``mathjax_path`` and ``nb_ipywidgets_js`` at these copies.
"""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.builders.html._assets import _JavaScript
from sphinx.errors import ExtensionError

WEB = Path(__file__).resolve().parent
MODULES = WEB / "node_modules"
PREFIX = "offline"  # under _static/; the theme already uses _static/vendor/

# (npm package folder, files or folders to copy, destination under _static/offline/)
ASSETS = [
    ("mathjax-full/es5", ["tex-mml-chtml.js", "input", "output", "ui", "a11y", "adaptors", "sre", "core.js",
                          "startup.js", "loader.js"], "mathjax"),
    ("requirejs", ["require.js"], "requirejs"),
    ("@jupyter-widgets/html-manager/dist", ["embed-amd.js", "*.woff2", "*.woff", "*.ttf", "*.eot", "*.svg"],
     "html-manager"),
    ("font-awesome", ["css", "fonts"], "font-awesome"),
]

# CDN stylesheets inside stored notebook outputs, and their local copies.
REWRITES = [
    (re.compile(r"https://maxcdn\.bootstrapcdn\.com/font-awesome/4\.\d+\.\d+/css/font-awesome(\.min)?\.css"),
     f"_static/{PREFIX}/font-awesome/css/font-awesome.min.css"),
]


def check_installed(app: Sphinx) -> None:
    missing = [pkg for pkg, _, _ in ASSETS if not (MODULES / pkg).exists()]
    if missing:
        raise ExtensionError(
            f"front-end assets missing from {MODULES} ({', '.join(missing)}): run `make book` "
            f"(it runs `npm ci` in web/), or `cd web && npm ci` by hand"
        )


def rewrite_cdn_links(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Point CDN stylesheets of stored outputs (the animations' Font Awesome) at the local copy."""
    body = context.get("body")
    if body:
        for pattern, local in REWRITES:
            body = pattern.sub(lambda _: context["pathto"](local, 1), body)
        context["body"] = body


def fix_page_scripts(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Runs after the other extensions have added their scripts to the page."""
    scripts = context.get("script_files") or []
    # Jupyter Book 1.0.4 adds sphinx-thebe's (and togglebutton's) inline configuration twice:
    # the second `const THEBE_JS_URL` is a SyntaxError in every reader's console. Keep the first.
    seen, unique = set(), []
    for js in scripts:
        body = js.attributes.get("body")
        if body and not js.filename and body in seen:
            continue
        seen.add(body)
        unique.append(js)
    scripts[:] = unique
    # The widget manager finds its fonts through require.js's path for its own module id,
    # by default next to the page: map that id to the local copy, between the two scripts.
    for i, js in enumerate(scripts):
        if str(js.filename).endswith(f"{PREFIX}/html-manager/embed-amd.js"):
            where = context["pathto"](f"_static/{PREFIX}/html-manager", 1)
            config = json.dumps({"paths": {"@jupyter-widgets/html-manager/dist": where}})
            body = f"require.config({config});\n{MATHJAX2_SHIM}"
            scripts.insert(i, _JavaScript(None, priority=js.priority, body=body))
            break


# ipywidgets' typeset() calls the MathJax 2 API, `MathJax.Hub.Queue(["Typeset", MathJax.Hub, el])`,
# an uncaught TypeError under MathJax 3 on every widget page. Map it to MathJax 3, before and
# after MathJax 3 replaces the configuration object `window.MathJax` (startup.ready).
MATHJAX2_SHIM = """(function () {
  var hub = {Queue: function (job) {
    var mj = window.MathJax, el = job && job[2];
    if (mj && mj.typesetPromise && mj.startup && mj.startup.promise) {
      mj.startup.promise.then(function () { return mj.typesetPromise(el ? [el] : undefined); });
    }
  }};
  var config = window.MathJax = window.MathJax || {};
  config.Hub = hub;
  config.startup = config.startup || {};
  var ready = config.startup.ready;
  config.startup.ready = function () {
    if (ready) { ready(); } else { window.MathJax.startup.defaultReady(); }
    window.MathJax.Hub = hub;
  };
})();"""


def copy_assets(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    target = Path(app.outdir) / "_static" / PREFIX
    for pkg, names, dest in ASSETS:
        src, out = MODULES / pkg, target / dest
        out.mkdir(parents=True, exist_ok=True)
        for name in names:
            for path in sorted(src.glob(name)):
                if path.is_dir():
                    shutil.copytree(path, out / path.name, dirs_exist_ok=True)
                else:
                    shutil.copy2(path, out / path.name)
    notice = ["Third-party front-end assets served with this site (from npm):"]
    for pkg in ("mathjax-full", "requirejs", "@jupyter-widgets/html-manager", "font-awesome"):
        meta = json.loads((MODULES / pkg / "package.json").read_text())
        lic = meta.get("license") or ", ".join(entry.get("type", "") for entry in meta.get("licenses", []))
        notice.append(f"{meta['name']} {meta['version']}: {lic}")
    (target / "NOTICE.txt").write_text("\n".join(notice) + "\n")


def setup(app: Sphinx) -> dict:
    app.connect("builder-inited", check_installed)
    app.connect("html-page-context", rewrite_cdn_links)
    app.connect("html-page-context", fix_page_scripts, priority=900)
    app.connect("build-finished", copy_assets)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
