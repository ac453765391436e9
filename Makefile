# Two commands for a newcomer: `make run` and `make test`. Both bootstrap .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-pg test-scale demo protos protolint proto-baseline lock bench reliability validate-k8s clean

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q -r requirements.txt
	cp -r protos/sscard/. gen/sscard/  # the .proto sources ship in the wheel beside their code (not in git)
	$(BIN)/pip install --disable-pip-version-check -q --no-deps -e .
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/sscard up

demo: $(STAMP)
	$(BIN)/sscard demo

# The image's runtime closure with hashes, from pyproject's dependencies (pip-tools in a throwaway venv).
lock:
	$(PYTHON) -m venv var/piptools && var/piptools/bin/pip install -q pip-tools==7.5.2
	var/piptools/bin/pip-compile -q --generate-hashes --strip-extras --allow-unsafe --no-emit-index-url --no-emit-find-links \
		--output-file requirements.lock pyproject.toml

BUF := tools/node_modules/.bin/buf

# buf from npm (pinned with its integrity hashes in tools/package-lock.json).
$(BUF): tools/package.json tools/package-lock.json
	npm install --prefix tools --no-save --no-audit --no-fund --loglevel=error
	touch $(BUF)

# Proto lint (buf STANDARD) and breaking changes against the published API (protos/baseline.binpb).
protolint: $(BUF)
	$(BUF) lint
	$(BUF) breaking protos --against protos/baseline.binpb

# Only when publishing a new API version on purpose: the contract breaking changes are checked against.
proto-baseline: $(BUF)
	$(BUF) build protos -o protos/baseline.binpb

# The web channel's browser tests drive Debian's Chromium (Playwright never downloads a browser
# here), with a CJK font for the pages' screenshots: installed when missing.
CHROMIUM := /usr/bin/chromium
APT_BROWSER := DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium fonts-wqy-zenhei
$(CHROMIUM):
	$(if $(filter 0,$(shell id -u)),,sudo) sh -c '$(APT_BROWSER) || (apt-get update -q && $(APT_BROWSER))'

# Every test on SQLite; again on PostgreSQL when SSCARD_TEST_PG_URL is set.
test: $(STAMP) $(BUF) $(CHROMIUM)
	SSCARD_TEST_PG_URL= $(BIN)/python -m pytest -q
	@if [ -n "$$SSCARD_TEST_PG_URL" ]; then $(MAKE) --no-print-directory test-pg; else echo "PostgreSQL variant skipped: set SSCARD_TEST_PG_URL"; fi

test-pg: $(STAMP) $(CHROMIUM)
	SSCARD_TEST_PG_URL=$${SSCARD_TEST_PG_URL:-postgresql://postgres@127.0.0.1:5432/test} $(BIN)/python -m pytest -q

# The full fault-injection and property suite (a fast subset runs in `make test`).
reliability: $(STAMP)
	SSCARD_RELIABILITY=full $(BIN)/python -m pytest -q -s tests/reliability

# The production topology on this machine: 2 instances of every service on PostgreSQL and a
# 3-node JetStream cluster, instances and a NATS node SIGKILLed under load, and the reliability suite's
# faults injected from outside (a short run is in `make test-pg`).
test-scale: $(STAMP)
	SSCARD_SCALE=full SSCARD_TEST_PG_URL=$${SSCARD_TEST_PG_URL:-postgresql://postgres@127.0.0.1:5432/test} $(BIN)/python -m pytest -q -s tests/scale

# Benchmarks (bench/): ratios against a bare gRPC echo baseline measured in the same run.
bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

protos: $(STAMP)
	$(BIN)/python scripts/gen_protos.py

clean:
	rm -rf var .pytest_cache
