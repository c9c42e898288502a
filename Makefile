# Everything runs inside .venv, created on first use, so a fresh machine needs only Python 3.10+,
# make, and (for the Mermaid parse checks) Node.js with npm.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
MERMAID := tests/mermaid/node_modules/.package-lock.json

.PHONY: help demo site test lint typecheck pytest bench format clean

help:
	@echo "make demo   run the example flows, print their diagrams, build the docs site"
	@echo "make site   build the documentation site (with live diagrams) into site/"
	@echo "make test   lint, type-check and run the whole test suite"
	@echo "make bench  run the benchmarks side by side and save benchmarks/results.json"
	@echo "make format apply ruff's formatting and safe fixes"
	@echo "make clean  remove the virtual environment and build leftovers"

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(INSTALLED)

# Real Mermaid (from npm) parses every diagram the tests generate. Without npm those tests skip
# locally; under CI=true they fail instead, so CI can never pass without them.
$(MERMAID): tests/mermaid/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix tests/mermaid --no-audit --no-fund --loglevel=error; \
	else \
		echo "npm not found: the Mermaid parse tests will be skipped"; \
	fi

demo: $(INSTALLED)
	$(BIN)/python examples/demo.py
	@$(MAKE) --no-print-directory site

# The site's diagrams come live from examples/ through penstock's own MkDocs plugin. A local
# mermaid.js (from npm, when available) makes the built site work offline, even from disk.
site: $(INSTALLED) $(MERMAID)
	@if [ -f tests/mermaid/node_modules/mermaid/dist/mermaid.min.js ]; then \
		mkdir -p docs/javascripts; \
		cp tests/mermaid/node_modules/mermaid/dist/mermaid.min.js docs/javascripts/mermaid.min.js; \
	fi
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet
	@echo ""
	@echo "Documentation site built: open file://$(CURDIR)/site/index.html"
	@echo "(or serve it with: $(BIN)/mkdocs serve)"

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(INSTALLED)
	$(BIN)/mypy

pytest: $(INSTALLED) $(MERMAID)
	$(BIN)/pytest

test: lint typecheck pytest site

bench: $(INSTALLED)
	$(BIN)/python -m benchmarks.run

format: $(INSTALLED)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) build dist site test-artifacts .mypy_cache .pytest_cache .ruff_cache \
		tests/mermaid/node_modules docs/javascripts/mermaid.min.js
