#!/usr/bin/env bash
# Set-up for the site (called by the Makefile):
#   setup_web.sh assets   npm ci in web/: MathJax, require.js, the ipywidgets manager, Font Awesome
#                         and playwright-core, at the versions of web/package-lock.json
#   setup_web.sh browser  headless Chromium for the browser test: Debian's chromium, installed
#                         with apt-get when we are root (or CI with sudo); otherwise the browser
#                         test skips with a message, except under CI=true, where this fails
#   setup_web.sh qemu     qemu-x86_64 (Debian's qemu-user) for the cross-CPU test, which runs chapters
#                         on an emulated CPU of another vendor and generation; same rules as browser
#   setup_web.sh java     a Java runtime 17 or newer for the Part 7 chapters' Spark (pyspark 4 needs it):
#                         Debian's openjdk-17-jre-headless (or the newest headless JRE apt has) when
#                         we are root; otherwise a clear message, and under CI=true a failure
set -euo pipefail
cd "$(dirname "$0")/.."

is_ci() { case "${CI:-}" in 1|true|TRUE|True|yes) return 0 ;; *) return 1 ;; esac; }

can_apt() {  # root, or CI with password-less sudo, on a machine with apt-get
  command -v apt-get >/dev/null 2>&1 || return 1
  if [ "$(id -u)" = 0 ]; then SUDO=""; return 0; fi
  if is_ci && sudo -n true 2>/dev/null; then SUDO="sudo -n"; return 0; fi
  return 1
}

apt_install() {
  echo "Installing Debian's $* with apt-get ..."
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}

case "${1:-}" in
  assets)
    if ! command -v npm >/dev/null 2>&1; then
      if can_apt; then apt_install nodejs npm; else
        echo "Node.js (18 or newer) with npm is needed for the site's offline assets: install it and rerun." >&2
        exit 1
      fi
    fi
    (cd web && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
    ;;
  browser)
    # a CJK font too: the chapters' Source-post lines are Chinese (else the screenshot shows boxes)
    cjk_font() {
      if command -v fc-list >/dev/null 2>&1 && [ -z "$(fc-list :lang=zh 2>/dev/null)" ] && can_apt; then
        apt_install fonts-wqy-zenhei || true
      fi
    }
    for name in "${CHROMIUM:-}" chromium chromium-browser google-chrome google-chrome-stable; do
      if [ -n "$name" ] && command -v "$name" >/dev/null 2>&1; then cjk_font; exit 0; fi
    done
    if can_apt && apt_install chromium && command -v chromium >/dev/null 2>&1; then cjk_font; exit 0; fi
    echo "No Chromium here and none installable (apt-get as root): the browser test will be skipped." >&2
    echo "Install Chromium or Chrome, or set CHROMIUM=/path/to/chrome, to run it." >&2
    if is_ci; then echo "Under CI the browser test must run." >&2; exit 1; fi
    ;;
  qemu)
    if command -v qemu-x86_64 >/dev/null 2>&1; then exit 0; fi
    if [ "$(uname -m)" != x86_64 ]; then exit 0; fi  # the cross-CPU test is for x86-64 machines
    if can_apt && apt_install qemu-user && command -v qemu-x86_64 >/dev/null 2>&1; then exit 0; fi
    echo "No qemu-x86_64 here and none installable (apt-get as root): the cross-CPU test will be skipped." >&2
    if is_ci; then echo "Under CI the cross-CPU test must run." >&2; exit 1; fi
    ;;
  java)
    java_17() {  # java on PATH, major version 17 or newer
      command -v java >/dev/null 2>&1 || return 1
      [ "$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1)" -ge 17 ] 2>/dev/null
    }
    if java_17; then exit 0; fi
    if can_apt; then
      for pkg in openjdk-17-jre-headless openjdk-21-jre-headless default-jre-headless; do
        if apt-cache show "$pkg" >/dev/null 2>&1; then apt_install "$pkg" && break; fi
      done
      if java_17; then exit 0; fi
    fi
    echo "Spark (the Part 7 chapters) needs Java 17 or newer, and none is here or installable" >&2
    echo "(apt-get as root). Install a JRE 17+ (e.g. openjdk-17-jre-headless) and put java on PATH." >&2
    if is_ci; then echo "Under CI the Spark chapters must run." >&2; exit 1; fi
    ;;
  *)
    echo "usage: $0 assets|browser|qemu|java" >&2
    exit 2
    ;;
esac
