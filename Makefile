# govpost — the two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
STAMP   = $(VENV)/.installed-stamp

.PHONY: demo test lint typecheck pytest fuzz docs bench clean install

install: $(STAMP)

$(STAMP): pyproject.toml Makefile
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "govpost needs Python >= 3.11; run make with PYTHON=python3.11 (or newer)")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,dev,docs]'
	$(PY) -m pip install --quiet --no-deps -e examples/acme_carrier
	touch $(STAMP)

demo: $(STAMP)
	$(PY) examples/quickstart.py
	$(PY) examples/carriers_sandbox.py
	$(PY) examples/settle_a_month.py

test: $(STAMP) lint typecheck pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests examples benchmarks docs
	$(VENV)/bin/ruff format --check src tests examples benchmarks docs

typecheck: $(STAMP)
	$(VENV)/bin/mypy --strict src examples benchmarks tests/typing

pytest: $(STAMP)
	$(VENV)/bin/pytest

# Opt-in deep run: every fuzz suite with 10,000 examples per parser, property tests with 2,000.
fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=deep $(VENV)/bin/pytest tests

docs: $(STAMP)
	$(VENV)/bin/sphinx-build -W --keep-going -b html docs docs/_build/html

bench: $(STAMP)
	$(PY) benchmarks/construct.py
	$(PY) benchmarks/tracking.py
	$(PY) benchmarks/settle.py
	$(PY) benchmarks/settle_store.py --n 50000

clean:
	rm -rf $(VENV) docs/_build .mypy_cache .ruff_cache .pytest_cache .hypothesis
