#!/usr/bin/env node
// Typeset every formula of the built site with MathJax in Node and report every TeX error.
//
//   node web/check-tex.cjs _build/html > REPORT.json
//
// The same engine the site serves (mathjax-full 3.2.2, whose es5 build is _static/offline/
// mathjax), the same configuration (each page's `window.MathJax = {...}`: the book's macros
// and the HTML classes MathJax processes) and the same TeX packages as the site's
// tex-mml-chtml component: base, ams, newcommand, configmacros and the extensions it
// autoloads. Two differences, on purpose: `noundefined` is left out, so an undefined macro
// is an error instead of red text on the page, and `noerrors` too, so an unbalanced brace
// or a bad environment is reported with MathJax's own message. The report maps each page
// to its count of formulas and its errors: {page: {formulas, errors: [{tex, error}]}}.
"use strict";
const fs = require("fs");
const path = require("path");
const { mathjax } = require("mathjax-full/js/mathjax.js");
const { TeX } = require("mathjax-full/js/input/tex.js");
const { CHTML } = require("mathjax-full/js/output/chtml.js");
const { liteAdaptor } = require("mathjax-full/js/adaptors/liteAdaptor.js");
const { RegisterHTMLHandler } = require("mathjax-full/js/handlers/html.js");
require("mathjax-full/js/input/tex/AllPackages.js"); // registers every package's configuration
const { AutoloadConfiguration } = require("mathjax-full/js/input/tex/autoload/AutoloadConfiguration.js");

const AUTOLOADED = Object.keys(AutoloadConfiguration.options.autoload);
const PACKAGES = ["base", "ams", "newcommand", "configmacros", ...AUTOLOADED.filter((p) => p !== "newcommand")];

const adaptor = liteAdaptor();
RegisterHTMLHandler(adaptor);

function pageConfig(html) {
  // Sphinx writes the configuration as JSON: <script>window.MathJax = {...}</script>
  const match = html.match(/<script>window\.MathJax = (\{.*?\})<\/script>/s);
  return match ? JSON.parse(match[1]) : null;
}

function walk(dir, out = []) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!["_static", "_sources", "_images", "_downloads"].includes(entry.name)) walk(full, out);
    } else if (entry.name.endsWith(".html")) out.push(full);
  }
  return out;
}

function check(html, config) {
  const errors = [];
  const tex = new TeX({
    ...(config.tex || {}),
    packages: PACKAGES,
    formatError(jax, err) {
      errors.push({ tex: jax.latex, error: err.message });
      return jax.formatError(err);
    },
  });
  const doc = mathjax.document(html, { ...(config.options || {}), InputJax: tex, OutputJax: new CHTML({ fontURL: "." }) });
  doc.render();
  // A formula MathJax did not even find (an unbalanced brace hides its closing delimiter)
  // stays text on the page: typeset each such .math element by itself to get the error.
  let unfound = 0;
  for (const el of mathElements(adaptor.body(doc.document))) {
    if (hasDescendant(el, "mjx-container")) continue;
    unfound += 1;
    const text = adaptor.textContent(el).trim();
    const display = text.startsWith("\\[") || text.startsWith("$$");
    const inner = text.replace(/^(\\\(|\\\[|\$\$)/, "").replace(/(\\\)|\\\]|\$\$)$/, "");
    const before = errors.length;
    doc.convert(inner, { display });
    if (errors.length === before) errors.push({ tex: text, error: "MathJax did not find this formula's delimiters" });
  }
  return { formulas: Array.from(doc.math).length + unfound, errors };
}

function classes(node) {
  return (adaptor.kind(node) === "#text" || adaptor.kind(node) === "#comment") ? []
    : (adaptor.getAttribute(node, "class") || "").split(/\s+/);
}

function* mathElements(node) {
  if (classes(node).includes("math")) { yield node; return; }
  if (adaptor.kind(node) === "#text" || adaptor.kind(node) === "#comment") return;
  for (const child of adaptor.childNodes(node)) yield* mathElements(child);
}

function hasDescendant(node, kind) {
  if (adaptor.kind(node) === kind) return true;
  if (adaptor.kind(node) === "#text" || adaptor.kind(node) === "#comment") return false;
  return adaptor.childNodes(node).some((child) => hasDescendant(child, kind));
}

function main() {
  const root = path.resolve(process.argv[2] || "_build/html");
  const report = {};
  for (const file of walk(root).sort()) {
    const html = fs.readFileSync(file, "utf8");
    const config = pageConfig(html);
    const rel = path.relative(root, file).split(path.sep).join("/");
    if (!config) {
      // a page without MathJax must hold no math either
      report[rel] = { formulas: 0, errors: [], mathjax: false, math_elements: (html.match(/class="math[ "]/g) || []).length };
      continue;
    }
    report[rel] = { ...check(html, config), mathjax: true };
  }
  process.stdout.write(JSON.stringify({ packages: PACKAGES, pages: report }, null, 1));
}

main();
