# Two commands on a fresh machine: `make run` serves the API, `make test` runs every check.
# `make run-aws` serves the same API on the AWS backend, against moto's emulator.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.run-installed
TEST_STAMP := $(VENV)/.test-installed
ADAPTERS_STAMP := $(VENV)/.adapters-installed

MOTO_PORT ?= 5000

.PHONY: run run-aws demo test lint bench lock clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(RUN_STAMP): $(BIN)/python pyproject.toml requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e .
	touch $@

$(TEST_STAMP): $(RUN_STAMP) $(ADAPTERS_STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[test]'
	touch $@

run: $(RUN_STAMP)
	$(BIN)/catalog serve

# The production code path (DynamoDB, S3, EventBridge adapters) on this machine: moto's server
# stands in for AWS, `catalog aws bootstrap` creates the table, bucket and bus, and the API is
# served with CATALOG_BACKEND=aws. moto keeps everything in memory until it stops, which it
# does when this target ends. Needs moto, from the test extra (which includes the aws extra).
run-aws: $(TEST_STAMP)
	@set -e; \
	unset AWS_PROFILE AWS_SESSION_TOKEN; \
	export AWS_ENDPOINT_URL=http://127.0.0.1:$(MOTO_PORT) AWS_REGION=us-east-1 \
		AWS_DEFAULT_REGION=us-east-1 AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing \
		CATALOG_BACKEND=aws CATALOG_AUTH=local \
		CATALOG_CURSOR_SECRET=$${CATALOG_CURSOR_SECRET:-dev-only-cursor-secret-never-in-production}; \
	$(BIN)/moto_server -H 127.0.0.1 -p $(MOTO_PORT) >$(VENV)/moto.log 2>&1 & moto=$$!; \
	trap 'kill $$moto 2>/dev/null || true' EXIT; \
	trap 'exit 130' INT TERM; \
	until $(BIN)/python -c "import urllib.request as r; r.urlopen('$$AWS_ENDPOINT_URL/moto-api/', timeout=1)" 2>/dev/null; do \
		kill -0 $$moto 2>/dev/null || { echo "moto did not start:"; cat $(VENV)/moto.log; exit 1; }; \
		sleep 0.2; \
	done; \
	echo "catalog: moto on $$AWS_ENDPOINT_URL (log in $(VENV)/moto.log)"; \
	$(BIN)/catalog aws bootstrap; \
	echo "catalog: get a token in another terminal with: $(BIN)/catalog token --merchant acme"; \
	$(BIN)/catalog serve

# The channel adapters (their own package in channel-adapters/, importing nothing from the
# catalog) installed into the same virtualenv.
$(ADAPTERS_STAMP): $(RUN_STAMP) channel-adapters/pyproject.toml
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e channel-adapters
	touch $@

# One product through DRAFT -> READY -> ACTIVE on Mercado Libre and Meta (local fakes of their
# APIs) -> updated -> INACTIVE, with the embedded catalog and both adapters, every event printed
# as it is delivered. Everything runs on random 127.0.0.1 ports and a temporary data folder.
demo: $(ADAPTERS_STAMP)
	$(BIN)/python demo/demo.py

lint: $(TEST_STAMP)
	$(BIN)/ruff check src tests bench channel-adapters demo
	$(BIN)/ruff format --check src tests bench channel-adapters demo
	$(BIN)/mypy
	$(BIN)/mypy --config-file channel-adapters/pyproject.toml
	$(BIN)/mypy --config-file channel-adapters/pyproject.toml demo/demo.py

test: lint
	$(BIN)/python -m pytest tests channel-adapters/tests

bench: $(TEST_STAMP)
	$(BIN)/python bench/get_product.py

# Re-pin every dependency after changing pyproject.toml.
lock: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]' -e channel-adapters
	$(BIN)/python -m pip freeze --exclude-editable > requirements.lock

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
