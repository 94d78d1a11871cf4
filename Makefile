# Derive, then Run — every command sets itself up: a fresh clone needs only `make book`
# (build the site) or `make test` (run every test). Python 3.11 and `python3 -m venv`, Node.js
# with npm (the site's assets), Chromium for the browser test, Java 17+ for Spark in Part 7 (all
# via apt-get when root).
SHELL := /bin/bash
PYTHON ?= python3
# Use the active virtual environment if there is one; otherwise create .venv here.
VENV ?= $(if $(VIRTUAL_ENV),$(VIRTUAL_ENV),.venv)
PY := $(VENV)/bin/python
STAMP := $(VENV)/.derive-then-run-requirements
# The site's front-end assets (MathJax, widget manager, ...) and the browser-test driver, from
# npm at the versions of web/package-lock.json: the site loads nothing from a CDN.
WEB_STAMP := web/node_modules/.derive-then-run-lock
# Colab's package versions (tests/requirements-colab.txt), a second environment that only runs
# the chapters as a Colab reader would (tests/test_colab.py).
COLAB_VENV := .venv-colab
COLAB_STAMP := $(COLAB_VENV)/.derive-then-run-colab
NB ?=
# Single-threaded BLAS/OpenMP everywhere: results must not depend on the core count.
export OMP_NUM_THREADS := 1
export MKL_NUM_THREADS := 1
export OPENBLAS_NUM_THREADS := 1
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.PHONY: book test execute seeds tolerances serve clean freeze browser qemu java

$(STAMP): requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

$(COLAB_STAMP): tests/requirements-colab.txt
	@test -x $(COLAB_VENV)/bin/python || $(PYTHON) -m venv $(COLAB_VENV)
	$(COLAB_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r tests/requirements-colab.txt
	$(COLAB_VENV)/bin/python -m ipykernel install --prefix $(COLAB_VENV) --name dtr-colab --display-name "Python (Colab versions)" > /dev/null
	@touch $@

$(WEB_STAMP): web/package.json web/package-lock.json
	bash scripts/setup_web.sh assets
	@touch $@

## browser: headless Chromium for the browser test (Debian's chromium via apt-get when root)
browser:
	@bash scripts/setup_web.sh browser

## qemu: qemu-x86_64 for the cross-CPU test (Debian's qemu-user via apt-get when root)
qemu:
	@bash scripts/setup_web.sh qemu

## java: a Java runtime 17+ for Spark in the Part 7 chapters (Debian's OpenJDK via apt-get when root)
java:
	@bash scripts/setup_web.sh java

## book: build the static site into _build/html (warnings are errors)
book: $(STAMP) $(WEB_STAMP)
	$(PY) scripts/build_book.py
	@echo "Built: open _build/html/index.html in a browser, or run 'make serve'."

## test: run every test (strict nbval, cross-CPU, Colab versions, notebook policy, the site, links, TeX, the browser)
test: $(STAMP) $(WEB_STAMP) $(COLAB_STAMP) browser qemu java
	$(PY) -m pytest

## execute: re-execute chapters in place, the only way stored outputs are made (NB=path ...)
execute: $(STAMP) java
	$(PY) scripts/execute.py $(NB)

## seeds: robustness report, every chapter with SEED=1 and SEED=2, nothing stored (NB=path ...)
seeds: $(STAMP) java
	$(PY) scripts/seeds.py $(NB)

## tolerances: measure which printed figures move on another numeric code path; rewrite tests/tolerances.yml
tolerances: $(STAMP)
	$(PY) scripts/tolerances.py $(NB)

## serve: preview the built site on http://127.0.0.1:8000
serve: book
	$(PY) -m http.server --bind 127.0.0.1 --directory _build/html 8000

## freeze: rewrite requirements.txt from the current environment
freeze: $(STAMP)
	{ head -n 2 requirements.txt; $(PY) -m pip freeze --exclude-editable | sed 's/^torch==\([0-9.]*\)+cpu/torch==\1/'; } > requirements.tmp && mv requirements.tmp requirements.txt

clean:
	rm -rf _build
