# make test: ruff + pytest.   make demo: grade the bundled example class.
# Both create .venv and install the project (with its dev extra) when needed.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: test demo install sandbox browser lint bench clean constraints

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/python -m pip install --quiet --upgrade 'pip<27'
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	@$(MAKE) --no-print-directory sandbox
	@$(MAKE) --no-print-directory browser
	@touch $(STAMP)

install: $(STAMP)

# bubblewrap adds the sandbox's file-system and network layer; best effort, never fatal.
sandbox:
	@if command -v bwrap >/dev/null 2>&1; then echo "sandbox: bwrap present"; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  (timeout 300 apt-get update -qq && timeout 300 apt-get install -y -qq bubblewrap) >/dev/null 2>&1 \
	    && echo "sandbox: bwrap installed" || echo "sandbox: could not install bwrap; grading runs without its layer (see dlgrade doctor)"; \
	else echo "sandbox: bwrap not available; grading runs without its layer (see dlgrade doctor)"; fi

# Debian's chromium drives the dashboard's browser tests; best effort, never fatal (they skip).
browser:
	@if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then echo "browser: chromium present"; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  (timeout 600 apt-get update -qq && timeout 600 apt-get install -y -qq chromium chromium-driver) >/dev/null 2>&1 \
	    && echo "browser: chromium installed" || echo "browser: could not install chromium; the browser tests will skip"; \
	else echo "browser: no chromium; the browser tests will skip"; fi

lint: $(STAMP)
	$(BIN)/ruff check .

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

demo: $(STAMP)
	$(BIN)/dlgrade demo --out demo-out

bench: $(STAMP)
	@for b in benchmarks/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis demo-out

# Re-resolve every dependency to its newest release within pyproject's bounds, in a
# throw-away venv, and record the result; run `make test` on it before committing.
constraints:
	rm -rf .venv-constraints
	$(PYTHON) -m venv .venv-constraints
	.venv-constraints/bin/python -m pip install --quiet --upgrade 'pip<27'
	.venv-constraints/bin/python -m pip install --quiet -e '.[dev]'
	{ echo "# The versions CI tested: make test / make demo install with '-c constraints.txt'."; \
	  echo "# Refresh: make constraints (a fresh venv resolved without this file), then make test."; \
	  .venv-constraints/bin/python -m pip freeze --exclude-editable | grep -v '^#'; } > constraints.txt
	rm -rf .venv-constraints
