# Store & Reply — every command a developer, CI and CodeBuild run.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3.13
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
REGION ?= us-east-1
export AWS_DEFAULT_REGION ?= $(REGION)
export SAM_CLI_TELEMETRY := 0

LOCK_FLAGS := --python-version 3.13 --generate-hashes --no-header --quiet

.PHONY: help
help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# The environment is rebuilt whenever a lock file changes.
$(VENV)/.synced: requirements/bootstrap.txt requirements/dev.txt pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements/bootstrap.txt
	$(UV) pip sync --quiet --compile-bytecode --python $(BIN)/python requirements/dev.txt
	$(UV) pip install --quiet --python $(BIN)/python --no-deps --editable .
	touch $@

.PHONY: venv
venv: $(VENV)/.synced ## Create the virtual environment from the lock files

.PHONY: lock
lock: | $(BIN)/python ## Re-resolve the pinned dependencies (after editing pyproject.toml)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv
	$(UV) pip compile pyproject.toml --group dev $(LOCK_FLAGS) -o requirements/dev.txt
	sed -n '/^uv==/,/^[a-z]/p' requirements/dev.txt | sed '$$d' > requirements/bootstrap.txt
	$(UV) pip compile requirements/bench.in $(LOCK_FLAGS) -o requirements/bench.txt
	$(UV) pip compile requirements/checkov.in $(LOCK_FLAGS) -o requirements/checkov.txt
	$(UV) pip compile pyproject.toml --python-version 3.13 --python-platform aarch64-manylinux2014 \
		--no-header --quiet -o layers/shared/requirements.txt

.PHONY: format
format: venv ## Format the code
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

.PHONY: lint
lint: venv ## ruff, mypy, import-linter (the developer kit's layers), cfn-lint (templates as written and expanded), sam validate
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python -m devkit.lint

CHECKOV := .venv-checkov/bin/checkov

$(CHECKOV): requirements/checkov.txt | $(VENV)/.synced
	$(PYTHON) -m venv .venv-checkov
	$(UV) pip sync --quiet --compile-bytecode --python .venv-checkov/bin/python requirements/checkov.txt
	touch $@

.PHONY: security
security: $(CHECKOV) ## checkov on the application template (as written and expanded) and the pipeline
	mkdir -p dist
	$(BIN)/python -m devkit.template dist/expanded.json
	$(CHECKOV) --config-file .checkov.yaml -f template.yaml -f dist/expanded.json -f pipeline/pipeline.yaml -f pipeline/stage.yaml

# The fast run: the application's and the developer kit's units, the handlers, the templates and the
# pipeline (no stack is started). The local stack's and the rehearsal's suites have their own targets;
# they measure no coverage: the application's code runs there in the functions' worker processes.
UNIT_TESTS := tests/unit tests/devkit tests/handlers tests/template tests/pipeline tests/bench

.PHONY: unit
unit: venv ## The fast tests: application and developer-kit units, handlers, templates, pipeline (JUnit, coverage)
	$(BIN)/pytest $(UNIT_TESTS) --junitxml=reports/junit-unit.xml --cov --cov-report=xml:reports/coverage.xml --cov-report=term

.PHONY: stack-tests
stack-tests: venv ## The local stack end to end, as its users and developers call it (tests/local)
	$(BIN)/pytest tests/local --junitxml=reports/junit-stack.xml

.PHONY: rehearsal-tests
rehearsal-tests: venv ## Releases rehearsed end to end: canaries, hooks, alarms (tests/rehearsal)
	$(BIN)/pytest tests/rehearsal --junitxml=reports/junit-rehearsal.xml

.PHONY: docs
docs: venv ## The guides in docs/ as a site in site/ (strict: a broken link or anchor fails)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

.PHONY: test
test: lint security docs unit stack-tests rehearsal-tests ## Everything CI runs

FUZZ_SECONDS ?= 300

.PHONY: fuzz
fuzz: venv ## schemathesis against the local stack from its /openapi.json, for FUZZ_SECONDS (300)
	FUZZ_SECONDS=$(FUZZ_SECONDS) $(BIN)/pytest tests/local/test_contract.py -p no:cacheprovider -s

.PHONY: openapi
openapi: venv ## Write the API's OpenAPI document, for clients, to dist/openapi.json
	mkdir -p dist
	$(BIN)/python -m store_reply_api.openapi dist/openapi.json

.PHONY: integration
integration: venv ## Tests against a deployed stack: STACK_NAME=... AWS_REGION=... make integration
	$(BIN)/pytest tests/integration --junitxml=reports/integration.xml

ARTIFACT_BUCKET ?=
ARTIFACT_KMS_KEY ?=

.PHONY: package
package: venv ## sam build once, sam package once to ARTIFACT_BUCKET; dist/ holds the template and per-environment configs
	@test -n "$(ARTIFACT_BUCKET)" || { echo "make package: set ARTIFACT_BUCKET"; exit 2; }
	rm -rf dist/packaged.yaml dist/config
	mkdir -p dist
	$(BIN)/sam build
	$(BIN)/sam package --s3-bucket "$(ARTIFACT_BUCKET)" --s3-prefix store-and-reply \
		$(if $(ARTIFACT_KMS_KEY),--kms-key-id "$(ARTIFACT_KMS_KEY)") --output-template-file dist/packaged.yaml
	$(BIN)/python -m devkit.release.pins dist/packaged.yaml
	$(BIN)/python -m devkit.release.package dist/config dist/packaged.yaml
	$(BIN)/python -m store_reply_api.openapi dist/openapi.json

PORT ?= 3000
AWS_PORT ?= 3001

.PHONY: start
start: venv ## Run the whole application on 127.0.0.1 (API on PORT, AWS endpoint on AWS_PORT)
	$(BIN)/python -m devkit.local start --port $(PORT) --aws-port $(AWS_PORT) $(if $(SPEED),--speed $(SPEED))

BASE ?= HEAD
CANDIDATE ?= worktree
ENV ?= prod
FAULTS ?=

.PHONY: rehearse
rehearse: venv ## Release CANDIDATE (default: the working tree) over BASE (HEAD) locally, as CodeDeploy would (ENV, FAULTS, BASE_FAULTS, SPEED)
	$(BIN)/python -m devkit.rehearsal --base '$(BASE)' --candidate '$(CANDIDATE)' --env $(ENV) --faults '$(FAULTS)' $(if $(SPEED),--speed $(SPEED)) \
		$(if $(BASE_FAULTS),--base-faults '$(BASE_FAULTS)' --released-minutes 3)

APP_STACK_PREFIX ?= store-and-reply

.PHONY: recover-stack
recover-stack: venv ## A stack whose first release failed (ROLLBACK_COMPLETE): STACK=<name>, CONFIRM=yes deletes it
	@test -n "$(STACK)" || { echo "make recover-stack: set STACK"; exit 2; }
	$(BIN)/python -m devkit.release.recover '$(STACK)' $(if $(filter yes,$(CONFIRM)),--confirm)

.PHONY: release-gate
release-gate: venv ## The build's gate: rehearse HEAD over the commit last released to prod (recorded in SSM)
	$(BIN)/python -m devkit.rehearsal --base-parameter /store-and-reply/$(APP_STACK_PREFIX)-prod/released-commit \
		--candidate HEAD --env prod

.PHONY: alarms
alarms: venv ## The running stack's alarms: state, since when, and the datapoints that decided it
	$(BIN)/python -m devkit.local alarms --aws-port $(AWS_PORT)

# Who make token signs in: AS=<user>. Not USER, which every shell sets (USER=<user> on the command
# line is still taken).
AS = alice
TOKEN_USER = $(if $(filter command line,$(origin USER)),$(USER),$(AS))

.PHONY: token
token: venv ## Print an ID token for AS (default alice; signed up first) from the running stack's user pool
	@$(BIN)/python -m devkit.local token --aws-port $(AWS_PORT) '$(TOKEN_USER)'

.PHONY: send
send: venv ## Send MESSAGE='{"user": ..., "message": ...}' to the running stack's queue
	$(BIN)/python -m devkit.local send --aws-port $(AWS_PORT) '$(MESSAGE)'

.PHONY: reset
reset: ## Delete the local stack's data (.local/)
	rm -rf .local
	@echo "Cleared .local"

.PHONY: build
build: venv ## sam build: the functions and the layer for Lambda (arm64)
	$(BIN)/sam build

.PHONY: clean
clean: ## Remove build output and the virtual environment
	rm -rf .aws-sam $(VENV) .venv-checkov .pytest_cache .mypy_cache .ruff_cache .coverage dist reports site
