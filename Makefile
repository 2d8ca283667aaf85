# `make test` sets everything up on a fresh clone and runs lint, type checks and every test.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The SAM CLI pins its own boto3: it lives in a virtual environment of its own.
SAM_VENV := .venv-sam
SAM := SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/sam
SAM_STAMP := $(SAM_VENV)/.installed
SAM_CLI_VERSION := 1.170.0
# checkov pins an older boto3 still: another virtual environment.
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed
CHECKOV_VERSION := 3.3.30
REGION ?= eu-central-1

.PHONY: test lint unit build bench events openapi run send clean
PORT ?= 3000

$(STAMP): pyproject.toml layers/sla/requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

$(SAM_STAMP):
	test -x $(SAM_VENV)/bin/python || $(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install --quiet "aws-sam-cli==$(SAM_CLI_VERSION)"
	touch $@

$(CHECKOV_STAMP):
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet "checkov==$(CHECKOV_VERSION)"
	touch $@

lint: $(STAMP) $(SAM_STAMP) $(CHECKOV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/cfn-lint template.yaml
	$(SAM) validate --lint --region $(REGION)
	$(CHECKOV_VENV)/bin/checkov -f template.yaml --framework cloudformation --skip-download --compact --quiet
	$(BIN)/python -m local.events --check
	$(BIN)/python -m local.openapi --check

test: lint
	$(BIN)/pytest -q

unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

build: $(SAM_STAMP)
	$(SAM) build --region $(REGION)
	# bytecode for our own modules too (pip compiled the dependencies): Lambda's code directories
	# are read-only, so whatever ships without a .pyc is compiled again at every cold start.
	# unchecked-hash: valid whatever mtimes the zip keeps
	$(PYTHON) -m compileall -q -f --invalidation-mode unchecked-hash .aws-sam/build
	$(PYTHON) .ci/check_build.py .aws-sam/build
	# each built function imports with the built layer alone, as Lambda would load it
	for fn in WebhookFunction TimersFunction NotifierFunction SweeperFunction; do \
		(cd .aws-sam/build/$$fn && env -i PATH="$$PATH" PYTHONPATH=../SlaLayer/python \
			POWERTOOLS_TRACE_DISABLED=1 AWS_DEFAULT_REGION=$(REGION) \
			$(PYTHON) -c "import app; print('$$fn imports:', app.lambda_handler.__name__)") || exit 1; \
	done

bench: $(STAMP)
	$(BIN)/python benchmarks/deadlines.py
	$(BIN)/python -m benchmarks.cold_start
	$(BIN)/python -m benchmarks.local_stack
	$(BIN)/python -m benchmarks.local_clock_jump --tickets 300,1000
	$(BIN)/python -m benchmarks.storage
	$(BIN)/python -m benchmarks.sources
	$(BIN)/python -m benchmarks.metrics
	$(BIN)/python -m benchmarks.report

run: $(STAMP)
	PORT=$(PORT) $(BIN)/python -m local.run

send: $(STAMP)
	@$(BIN)/python -m local.send $(EVENT)

events: $(STAMP)
	$(BIN)/python -m local.events

openapi: $(STAMP)
	$(BIN)/python -m local.openapi

clean:
	rm -rf $(VENV) $(SAM_VENV) $(CHECKOV_VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache .hypothesis
