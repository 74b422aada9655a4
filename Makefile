# The quick start is two commands: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install run test lint format bench clean proto

$(BIN)/.installed: pyproject.toml setup.py
	@echo "Installing lowart and its dependencies into $(VENV) (the first run takes about a minute)..."
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install --progress-bar off -e '.[dev]'
	@echo "Installed: $(BIN)/lowart (or 'source $(BIN)/activate' to put lowart on your PATH)"
	touch $@

install: $(BIN)/.installed

run: install
	$(BIN)/lowart db upgrade
	$(BIN)/lowart serve

test: lint
	$(BIN)/pytest -q

# Style, types (mypy strict on lowart/) and the layering contracts (pyproject.toml).
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

proto: install
	$(BIN)/buf lint
	$(BIN)/python tools/gen_proto.py
	cd clients/typescript && npm ci --no-audit --no-fund && npm run generate

bench: install
	$(BIN)/python bench/overhead.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
