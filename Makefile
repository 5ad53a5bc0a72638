# The two set-up commands of the README. Each works on a fresh machine: it creates .venv,
# installs the project, and runs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install demo test bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/journey demo $(DEMO_ARGS)

# The suite runs in TEST_WORKERS processes (0: in this one). Each takes a whole test file at a time,
# so a module's fixtures stay in one process; every database, Redis key prefix, port and folder
# a test uses is its own. Files go out in the order collected: the long command-line and
# crash-safety files early, not left for one worker at the end.
TEST_WORKERS ?= 2

test: install
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder $(PYTEST_ARGS)

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
