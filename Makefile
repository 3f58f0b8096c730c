# Two commands on a fresh machine:  `make run` (the assistant, offline)  and  `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test setup browser-deps index eval bench lint

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	# CPU torch that lies on this disk first: an unpinned torch would pull a multi-GB CUDA build.
	$(PY) -m pip install --disable-pip-version-check -q torch==2.13.0
	$(PY) -m pip install --disable-pip-version-check -q -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

run: setup
	$(PY) app.py

# Debian's chromium and CJK fonts for the browser tests (installed when running as root).
browser-deps:
	@if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi "noto sans cjk"; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	  else echo "note: install chromium and fonts-noto-cjk (apt) to run the browser tests"; fi; \
	fi

test: setup browser-deps
	$(PY) -m pytest

index: setup
	$(PY) -m assistant index

eval: setup
	$(PY) -m assistant eval

bench: setup
	$(PY) benchmarks/run_all.py

lint: setup
	$(VENV)/bin/ruff check assistant tests app.py benchmarks fitting
