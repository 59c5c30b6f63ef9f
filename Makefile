# Tenure: `make demo` and `make test` each set up everything they need on a fresh machine.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_HOME ?= .tenure-demo
DEMO_ACCOUNTS ?= 2000
DEMO_MONTHS ?= 18
DEMO_SEED ?= 42
DEMO_LOCALE ?= zh
DEMO_LOGIN ?= admin@tenure.demo
DEMO_PASSWORD ?= tenure-demo-2026
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: demo test lint format bench clean install

$(BIN)/tenure: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	@touch $(BIN)/tenure

install: $(BIN)/tenure

## Build the demo data set (2,000 accounts, 18 months), install the shipped playbooks,
## backfill 18 months of weekly scores (the newest date triggers playbooks), run the playbook
## engine once, summarise the portfolio, create the demo admin login and serve on PORT.
demo: install
	$(BIN)/tenure demo-data --home $(DEMO_HOME) --accounts $(DEMO_ACCOUNTS) \
		--months $(DEMO_MONTHS) --seed $(DEMO_SEED) --locale $(DEMO_LOCALE) --force
	$(BIN)/tenure playbooks install-shipped --home $(DEMO_HOME)
	$(BIN)/tenure backfill --home $(DEMO_HOME) --every week \
		--from $$($(BIN)/python -c "import datetime as d; print(d.date.today() - d.timedelta(days=7 * 78))") \
		--to $$($(BIN)/python -c "import datetime as d; print(d.date.today())")
	$(BIN)/tenure playbooks tick --home $(DEMO_HOME)
	$(BIN)/tenure portfolio --home $(DEMO_HOME)
	printf '%s\n' '$(DEMO_PASSWORD)' | $(BIN)/tenure users create $(DEMO_LOGIN) \
		--name "Demo Admin" --role admin --password-stdin --home $(DEMO_HOME)
	@echo ""
	@echo "Dashboard: http://127.0.0.1:$(PORT)  login: $(DEMO_LOGIN)  password: $(DEMO_PASSWORD)"
	@echo ""
	$(BIN)/tenure serve --home $(DEMO_HOME) --host 127.0.0.1 --port $(PORT)

## Install what the tests need (system services too, when run as root) and run lint + tests.
test: install
	bash scripts/install-system-deps.sh
	bash scripts/ensure-services.sh
	$(MAKE) lint
	$(BIN)/pytest -n 2 -q $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install
	$(BIN)/python bench/features.py
	$(BIN)/python bench/score.py

clean:
	rm -rf $(VENV) $(DEMO_HOME) .pytest_cache .mypy_cache .ruff_cache
