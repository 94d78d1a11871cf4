#!/usr/bin/env node
// Open every page of the built site in headless Chromium and report what a reader would see.
//
//   node web/browser-check.cjs CONFIG.json > REPORT.json
//
// CONFIG: {base, chromium, pages: [path], chapters: [{page, term, colab, binder, download}],
// search_from, screenshot_page, screenshot}, written by tests/test_site.py, which serves the
// site on 127.0.0.1 and turns the report (one JSON object on stdout) into assertions. Every
// request to another host is aborted and reported: the site must load nothing from outside.
"use strict";
const fs = require("fs");
const path = require("path");
const { chromium } = require("playwright-core");

const ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
  "--disable-default-apps", "--disable-extensions"];
const TIMEOUT = 30000;

async function settle(page) {
  // MathJax typesets after load; its startup promise resolves when the page is done.
  await page.waitForFunction(() => !window.MathJax || (window.MathJax.startup && window.MathJax.startup.promise),
    null, { timeout: TIMEOUT });
  await page.evaluate(() => window.MathJax && window.MathJax.startup ? window.MathJax.startup.promise : null);
  // Saved widgets: the HTML manager puts a .widget-subarea before each view script.
  const views = await page.evaluate(() =>
    document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]').length);
  if (views) {
    await page.waitForFunction((n) => {
      const areas = [...document.querySelectorAll(".widget-subarea")];
      return areas.length >= n && areas.every((a) => a.children.length > 0);
    }, views, { timeout: TIMEOUT }).catch(() => {});
  }
  // Every image loads now, not lazily when scrolled to.
  await page.evaluate(async () => {
    const imgs = [...document.images];
    imgs.forEach((img) => { img.loading = "eager"; });
    await Promise.all(imgs.map((img) => img.complete ? null : new Promise((done) => {
      img.addEventListener("load", done, { once: true });
      img.addEventListener("error", done, { once: true });
      setTimeout(done, 10000);
    })));
    await document.fonts.ready;
  });
  await page.waitForLoadState("networkidle", { timeout: TIMEOUT }).catch(() => {});
}

function inspect() {
  // Runs in the page: what is on it after MathJax, the widget manager and the images are done.
  const out = {};
  const math = [...document.querySelectorAll(".math")];
  out.math = {
    elements: math.length,
    unrendered: math.filter((el) => !el.querySelector("mjx-container")).map((el) => el.textContent.trim().slice(0, 80)),
    errors: [...document.querySelectorAll("mjx-merror")].map((el) =>
      el.getAttribute("data-mjx-error") || el.textContent.slice(0, 80)),
  };
  // TeX left as text anywhere MathJax would look (outside code)
  const walker = document.createTreeWalker(document.querySelector("main") || document.body, NodeFilter.SHOW_TEXT);
  const raw = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.parentElement.closest("pre, code, script, style, textarea, mjx-container, .highlight")) continue;
    if (/\\\(|\\\[|\$\$|\\begin\{/.test(node.textContent)) raw.push(node.textContent.trim().slice(0, 80));
  }
  out.math.raw = raw;
  out.images = [...document.images].map((img) => ({ src: img.getAttribute("src").slice(0, 120), ok: img.complete && img.naturalWidth > 0 }))
    .filter((img) => !img.ok).map((img) => img.src);
  const viewScripts = [...document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]')];
  out.widgets = viewScripts.map((script) => {
    const area = script.previousElementSibling;
    // drawn (even inside a collapsed output) and not the manager's error widget
    const rendered = !!area && area.classList.contains("widget-subarea") && area.children.length > 0
      && !area.querySelector(".jupyter-widgets-error-widget");
    const imgs = area ? [...area.querySelectorAll("img")] : [];
    return {
      model: JSON.parse(script.textContent).model_id,
      rendered,
      sliders: area ? area.querySelectorAll(".widget-slider, .widget-hslider, .widget-vslider").length : 0,
      images: imgs.length,
      images_ok: imgs.filter((img) => img.complete && img.naturalWidth > 0).length,
    };
  });
  out.widget_state = !!document.querySelector('script[type="application/vnd.jupyter.widget-state+json"]');
  const buttons = [...document.querySelectorAll(".animation .anim-buttons i.fa, .animation .anim-buttons svg")];
  out.animations = {
    count: document.querySelectorAll(".animation").length,
    icons: buttons.length,
    // an icon shows when its glyph comes from a loaded icon font (or the theme made it an SVG)
    blank: buttons.filter((el) => {
      if (el.tagName.toLowerCase() === "svg") return el.getBoundingClientRect().width === 0;
      const before = getComputedStyle(el, "::before");
      const family = before.fontFamily.replace(/["']/g, "").split(",")[0].trim();
      return before.content === "none" || before.content === "normal" || !document.fonts.check(`16px "${family}"`)
        || ![...document.fonts].some((f) => f.family.replace(/["']/g, "") === family && f.status === "loaded");
    }).length,
  };
  out.title = (document.querySelector("main h1") || {}).textContent || "";
  return out;
}

async function buttons(page, chapter) {
  // The launch and download buttons are visible, and their menus hold the right links.
  const result = {};
  for (const [name, menu] of [["launch", ".dropdown-launch-buttons"], ["download", ".dropdown-download-buttons"]]) {
    const toggle = page.locator(`.article-header-buttons ${menu} > button`).first();
    result[name] = await toggle.isVisible().catch(() => false);
    if (result[name]) await toggle.click();
    for (const key of name === "launch" ? ["colab", "binder"] : ["download"]) {
      const link = page.locator(`${menu} a[href="${chapter[key]}"]`).first();
      result[key] = await link.isVisible().catch(() => false);
    }
    if (result[name]) await page.keyboard.press("Escape");
  }
  return result;
}

async function search(page, base, start, chapter) {
  // Type the term in the theme's search box, as a reader would, and read the results page.
  await page.goto(base + start, { waitUntil: "load" });
  const box = page.locator('#pst-search-dialog input[name="q"]');
  for (let attempt = 0; attempt < 3 && !(await box.isVisible()); attempt++) {
    await page.locator("button.search-button__button:visible").first().click();
    await box.waitFor({ state: "visible", timeout: 5000 }).catch(() => {});
  }
  await box.pressSequentially(chapter.term, { delay: 10 });
  await Promise.all([page.waitForURL(/search\.html/, { timeout: TIMEOUT }), box.press("Enter")]);
  await page.waitForFunction(() => {
    const status = document.querySelector("#search-results .search-summary, #search-results p");
    return status && !/Preparing|Searching/.test(document.querySelector("#search-results h2")?.textContent || "");
  }, null, { timeout: TIMEOUT }).catch(() => {});
  await page.waitForSelector("#search-results ul.search li", { timeout: 10000 }).catch(() => {});
  const hits = await page.$$eval("#search-results ul.search li a", (as) => as.map((a) => a.getAttribute("href")));
  // the results page fetches each hit to show a summary: let those finish before the next search
  await page.waitForLoadState("networkidle", { timeout: 10000 }).catch(() => {});
  return { term: chapter.term, url: page.url(), hits: hits.slice(0, 20), found: hits.some((h) => h.split(/[?#]/)[0].endsWith(chapter.page)) };
}

async function main() {
  const config = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
  const base = config.base.endsWith("/") ? config.base : config.base + "/";
  const host = new URL(base).host;
  const browser = await chromium.launch({ executablePath: config.chromium, args: ARGS, timeout: 60000 });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  context.setDefaultTimeout(TIMEOUT);
  const report = { pages: {}, search: {}, chromium: browser.version() };
  let current = null;
  // Anything not served by our own server is aborted, with or without a network.
  await context.route("**/*", (route) => {
    const url = new URL(route.request().url());
    if (url.host === host) return route.continue();
    if (current) current.external.push(route.request().url());
    return route.abort("blockedbyclient");
  });
  const page = await context.newPage();
  page.on("console", (msg) => { if (current && msg.type() === "error") current.console.push(msg.text().slice(0, 300)); });
  page.on("pageerror", (err) => { if (current) current.console.push(`uncaught: ${String(err).slice(0, 300)}`); });
  page.on("requestfailed", (req) => {
    // ERR_ABORTED is the browser cancelling a request itself (navigating away mid-fetch), not a
    // missing file: a missing file answers 404, which the response handler below records
    const error = req.failure().errorText;
    if (current && new URL(req.url()).host === host && error !== "net::ERR_ABORTED") current.failed.push(`${req.url()} (${error})`);
  });
  page.on("response", (res) => { if (current && res.status() >= 400) current.failed.push(`${res.url()} (HTTP ${res.status()})`); });

  const chapters = Object.fromEntries(config.chapters.map((c) => [c.page, c]));
  for (const rel of config.pages) {
    current = { console: [], failed: [], external: [] };
    const started = Date.now();
    try {
      await page.goto(base + rel, { waitUntil: "load", timeout: TIMEOUT });
      await settle(page);
      Object.assign(current, await page.evaluate(inspect));
      if (config.screenshot && rel === config.screenshot_page) {
        fs.mkdirSync(path.dirname(config.screenshot), { recursive: true });
        await page.screenshot({ path: config.screenshot, fullPage: true });
      }
      if (chapters[rel]) current.buttons = await buttons(page, chapters[rel]);
    } catch (err) {
      current.console.push(`test could not finish the page: ${String(err).split("\n")[0]}`);
    }
    current.seconds = (Date.now() - started) / 1000;
    report.pages[rel] = current;
  }
  for (const chapter of config.chapters) {
    current = { console: [], failed: [], external: [] };
    try {
      report.search[chapter.page] = Object.assign(await search(page, base, config.search_from || "index.html", chapter), current);
    } catch (err) {
      report.search[chapter.page] = Object.assign({ term: chapter.term, found: false, error: String(err).split("\n")[0] }, current);
    }
  }
  current = null;
  await browser.close();
  process.stdout.write(JSON.stringify(report, null, 1));
}

main().catch((err) => { console.error(err); process.exit(2); });
