# Two commands on a fresh machine: `make run` serves the API, `make test` runs every check.
# `make run-aws` serves the same API on the AWS backend, against moto's emulator.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.run-installed
TEST_STAMP := $(VENV)/.test-installed
ADAPTERS_STAMP := $(VENV)/.adapters-installed

MOTO_PORT ?= 5000
PORT ?= 8000

.PHONY: run run-aws demo test lint bench lock clean browser screenshots

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(RUN_STAMP): $(BIN)/python pyproject.toml requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e .
	touch $@

$(TEST_STAMP): $(RUN_STAMP) $(ADAPTERS_STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[test]'
	touch $@

run: $(RUN_STAMP)
	$(BIN)/catalog serve --port $(PORT)

# The production code path (DynamoDB, S3, EventBridge, SQS adapters) on this machine: moto's
# server stands in for AWS, `catalog aws bootstrap` creates the table, bucket, bus and jobs
# queue (moto's account is 123456789012), and the API is served with CATALOG_BACKEND=aws.
# `catalog aws relay` runs in the background, relaying the table's stream to the bus with the
# relay Lambda's code; `catalog events` shows what it published (its log starts empty with
# each run, as moto does). `catalog aws jobs` runs the jobs queue's messages with the jobs
# worker Lambda's code. moto keeps everything in
# memory until it stops, which it does when this target ends, with the relay. Needs moto, from
# the test extra (which includes the aws extra).
run-aws: $(TEST_STAMP)
	@set -e; \
	unset AWS_PROFILE AWS_SESSION_TOKEN; \
	export AWS_ENDPOINT_URL=http://127.0.0.1:$(MOTO_PORT) AWS_REGION=us-east-1 \
		AWS_DEFAULT_REGION=us-east-1 AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing \
		CATALOG_BACKEND=aws CATALOG_AUTH=local \
		CATALOG_JOBS_QUEUE_URL=http://127.0.0.1:$(MOTO_PORT)/123456789012/catalog-jobs.fifo \
		CATALOG_CURSOR_SECRET=$${CATALOG_CURSOR_SECRET:-dev-only-cursor-secret-never-in-production}; \
	$(BIN)/moto_server -H 127.0.0.1 -p $(MOTO_PORT) >$(VENV)/moto.log 2>&1 & moto=$$!; relay=; jobs=; \
	trap 'kill $$jobs $$relay $$moto 2>/dev/null || true' EXIT; \
	trap 'exit 130' INT TERM; \
	until $(BIN)/python -c "import urllib.request as r; r.urlopen('$$AWS_ENDPOINT_URL/moto-api/', timeout=1)" 2>/dev/null; do \
		kill -0 $$moto 2>/dev/null || { echo "moto did not start:"; cat $(VENV)/moto.log; exit 1; }; \
		sleep 0.2; \
	done; \
	echo "catalog: moto on $$AWS_ENDPOINT_URL (log in $(VENV)/moto.log)"; \
	$(BIN)/catalog aws bootstrap; \
	rm -f "$${CATALOG_DATA_DIR:-.catalog}/aws/events.jsonl"; \
	$(BIN)/catalog aws relay 2>>$(VENV)/aws-relay.log & relay=$$!; \
	echo "catalog: stream relay running (log in $(VENV)/aws-relay.log); events: CATALOG_BACKEND=aws $(BIN)/catalog events -f"; \
	$(BIN)/catalog aws jobs >>$(VENV)/aws-jobs.log 2>&1 & jobs=$$!; \
	echo "catalog: jobs worker running (log in $(VENV)/aws-jobs.log)"; \
	echo "catalog: get a token in another terminal with: $(BIN)/catalog token --merchant acme"; \
	$(BIN)/catalog serve --port $(PORT)

# The channel adapters (their own package in channel-adapters/, importing nothing from the
# catalog) installed into the same virtualenv.
$(ADAPTERS_STAMP): $(RUN_STAMP) channel-adapters/pyproject.toml
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e channel-adapters
	touch $@

# One product through DRAFT -> READY -> ACTIVE on Mercado Libre and Meta (local fakes of their
# APIs) -> updated -> INACTIVE, with the embedded catalog and both adapters, every event printed
# as it is delivered. Then a shirt with three variants: one ML item with variations, one Meta
# item per variant. Everything runs on random 127.0.0.1 ports and a temporary data folder.
demo: $(ADAPTERS_STAMP)
	$(BIN)/python demo/demo.py

lint: $(TEST_STAMP)
	$(BIN)/ruff check src tests bench channel-adapters demo deploy
	$(BIN)/ruff format --check src tests bench channel-adapters demo deploy
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache  # .importlinter: only the composition root knows adapters
	$(BIN)/mypy deploy/package.py deploy/item_sizes.py deploy/currencies.py
	$(BIN)/mypy --config-file channel-adapters/pyproject.toml
	$(BIN)/mypy --config-file channel-adapters/pyproject.toml demo/demo.py

# lint and the template checks (with the two virtualenvs they install) run side by side, each
# one's output kept together; then the suite on every core.
test: browser
	$(MAKE) --jobs=2 --output-sync=target lint check-template
	$(BIN)/python -m pytest -n auto tests channel-adapters/tests

# The console's browser tests (tests/console) drive Debian's Chromium through Playwright
# (`playwright install` cannot download here). Installed when missing and this is root on Debian.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "installing Chromium for the console's browser tests"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
		else echo "the console's browser tests need Chromium: sudo apt-get install -y chromium"; exit 1; fi; }

# Screenshots of every console page into docs/console/ (the browser tests take them).
screenshots: $(TEST_STAMP) browser
	CATALOG_SCREENSHOTS_DIR=docs/console $(BIN)/python -m pytest -p no:randomly tests/console

bench: $(TEST_STAMP)
	$(BIN)/python bench/get_product.py

# Re-pin every dependency after changing pyproject.toml.
lock: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]' -e channel-adapters
	$(BIN)/python -m pip freeze --exclude-editable > requirements.lock

# The Lambda deployment package (deploy/package.py): the catalog and the dependencies its
# functions import, for the arm64 python3.12 runtime. `sam build` runs build-ApiFunction,
# build-RelayFunction, build-ReevaluateFunction and build-JobsFunction (template.yaml:
# BuildMethod makefile) with
# ARTIFACTS_DIR set; every function ships the same package (the API's with PyJWT). Bytecode is compiled only when LAMBDA_PYTHON is the runtime's
# version (python3.12 on the path, or `sam build --use-container`): a cold start then skips
# compiling every module it imports. `make package` writes build/lambda and build/lambda.zip.
LAMBDA_PYTHON_VERSION ?= 3.12
LAMBDA_PLATFORM ?= manylinux_2_34_aarch64
LAMBDA_PYTHON ?= $(shell python$(LAMBDA_PYTHON_VERSION) -c "" 2>/dev/null && echo python$(LAMBDA_PYTHON_VERSION) || echo $(PYTHON))
PACKAGE_DIR ?= build/lambda
LAMBDA_PACKAGE = $(LAMBDA_PYTHON) deploy/package.py \
	--platform $(LAMBDA_PLATFORM) --python-version $(LAMBDA_PYTHON_VERSION)

.PHONY: package build-ApiFunction build-RelayFunction build-ReevaluateFunction build-JobsFunction

package:
	rm -rf $(PACKAGE_DIR) $(PACKAGE_DIR).zip
	$(LAMBDA_PACKAGE) --target $(PACKAGE_DIR) --zip $(PACKAGE_DIR).zip

# The API's adds PyJWT and cryptography: the console's sessions and its OIDC sign-in (ID
# tokens are RS256/ES256), both loaded on the first /console request only.
build-ApiFunction:
	$(LAMBDA_PACKAGE) --with-jwks --target "$(ARTIFACTS_DIR)"

build-RelayFunction build-ReevaluateFunction build-JobsFunction:
	$(LAMBDA_PACKAGE) --target "$(ARTIFACTS_DIR)"

# template.yaml checked offline: cfn-lint on the template and on its SAM translation (cfn-lint
# alone does not expand the AWS::Serverless resources, so their functions, mappings and routes
# would go unchecked), checkov on the template and on the translation with every optional
# feature on (checkov leaves out resources whose condition is false with the defaults); see
# deploy/expand_template.py. The tools live in their own virtualenv, pinned by
# deploy/requirements-tools.lock: they pin boto3, pydantic and others differently from the app.
TOOLS_VENV ?= .venv-tools
TOOLS_STAMP := $(TOOLS_VENV)/.tools-installed
TEMPLATE_CHECKS ?= build/check-template

.PHONY: check-template lock-tools

$(TOOLS_VENV)/bin/python:
	$(PYTHON) -m venv $(TOOLS_VENV)

$(TOOLS_STAMP): $(TOOLS_VENV)/bin/python deploy/requirements-tools.lock
	$(TOOLS_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r deploy/requirements-tools.lock
	touch $@

check-template: $(TOOLS_STAMP)
	$(TOOLS_VENV)/bin/python deploy/expand_template.py template.yaml $(TEMPLATE_CHECKS)
	$(TOOLS_VENV)/bin/cfn-lint template.yaml $(TEMPLATE_CHECKS)/cfn-defaults.json $(TEMPLATE_CHECKS)/cfn-all-features.json
	$(TOOLS_VENV)/bin/checkov --quiet --compact --skip-download --framework cloudformation \
		-f template.yaml -f $(TEMPLATE_CHECKS)/cfn-all-features.json

# Re-pin the template tools to their latest releases.
lock-tools:
	rm -rf $(TOOLS_VENV)
	$(PYTHON) -m venv $(TOOLS_VENV)
	$(TOOLS_VENV)/bin/python -m pip install --quiet --disable-pip-version-check cfn-lint aws-sam-translator checkov openapi-python-client
	{ sed -n '/^#/p' deploy/requirements-tools.lock; $(TOOLS_VENV)/bin/python -m pip freeze; } > deploy/requirements-tools.lock.new
	mv deploy/requirements-tools.lock.new deploy/requirements-tools.lock
	touch $(TOOLS_STAMP)

clean:
	rm -rf $(VENV) $(TOOLS_VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis

# Regenerate src/catalog/domain/iso4217.json from the pinned iso4217 package (after re-pinning).
currencies: $(TEST_STAMP)
	$(BIN)/python -m deploy.currencies
.PHONY: currencies
