# okenv — developer entry points. Everything runs from a local .venv.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

DEMO_STAMP := $(VENV)/.demo-installed

.PHONY: demo sandbox test lint typecheck completions bench bench-latency clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

# What the demo and the sandbox need: okenv alone (the fakes use only its dependencies and
# the standard library), not the test toolchain.
$(DEMO_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -e .
	touch $(DEMO_STAMP)

## demo: fake Okta org + STS on loopback; okenv use/exec/login typed into a bash on a pty
demo: $(DEMO_STAMP)
	$(BIN)/python -m tests.fakes.sandbox demo

## sandbox: the same sandbox, with an interactive shell that has okenv configured
sandbox: $(DEMO_STAMP)
	$(BIN)/python -m tests.fakes.sandbox shell

## test: every test (unit, end-to-end, real shells), then lint and type checks
test: $(STAMP)
	$(BIN)/python -m pytest -q
	$(MAKE) lint typecheck

## bench: okenv vs gimme-aws-creds and tokendito on a local HTTPS sandbox (bench/README.md)
bench: $(STAMP)
	$(BIN)/python -m bench

## bench-latency: logins through a latency proxy at RTT 0/50/150 ms (bench/README.md)
bench-latency: $(STAMP)
	$(BIN)/python -m bench --latency --runs 5 --no-profile

lint: $(STAMP)
	$(BIN)/ruff check okenv tests bench tools
	$(BIN)/ruff format --check okenv tests bench tools

typecheck: $(STAMP)
	$(BIN)/mypy

## completions: regenerate completions/ from the command tree (tools/completions.py)
completions: $(STAMP)
	$(BIN)/python -m tools.completions

clean:
	rm -rf $(VENV) .demo .pytest_cache .mypy_cache .ruff_cache
