# `make demo`, `make test` and `make bench` each create .venv when it is missing.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test bench venv clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m solutions demo

# One pytest worker per core, each test file on one worker (its module fixtures are fitted once).
test: $(STAMP)
	$(PY) -m pytest -q -n auto --dist loadfile

# One domain alone: make bench BENCH=image_classification
bench: $(STAMP)
	$(PY) benchmarks/run.py $(BENCH)

clean:
	rm -rf runs .pytest_cache
