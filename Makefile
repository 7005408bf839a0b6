# dfo: `make demo` runs dfo on the embedded default; `make test` runs lint and the whole suite;
# `make bench` runs the benchmark suite.
# Both create the virtualenv on first use. `make test` installs mariadb-server and tmux with
# apt-get when they are missing and we run as root (CI never skips those tests).

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_HOME ?= $(CURDIR)/.dfo-demo

.PHONY: demo test lint bench venv services python-venv clean

venv: $(BIN)/.installed

$(BIN)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "dfo needs Python 3.11 or newer (found: $$($(PYTHON) --version))"; exit 1; }
	@$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || $(MAKE) --no-print-directory python-venv
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

# Debian's python3 has no ensurepip until python3-venv is installed.
python-venv:
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null; \
	else echo "install python3-venv first (sudo apt-get install python3-venv)"; exit 1; fi

# What the tests need from Debian: a MariaDB server (started by the fixtures) and tmux (the
# dashboard's end-to-end test).
services:
	@missing=""; \
	command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ] || missing="mariadb-server mariadb-client"; \
	command -v tmux >/dev/null 2>&1 || missing="$$missing tmux"; \
	if [ -z "$$missing" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing $$missing for the tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends $$missing >/dev/null; \
	else echo "warning: missing $$missing and not root: those tests will be skipped (and fail with CI=true)"; fi

lint: venv
	$(BIN)/ruff check dfo tests bench
	$(BIN)/ruff format --check dfo tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

test: venv services lint
	$(BIN)/pytest

# The benchmark suite (bench/README.md): every scenario at full size, ~15 minutes; the table
# is printed and the results written to bench/results/latest.json. Not part of `make test`.
bench: venv services
	$(BIN)/python -m bench

demo: venv
	DFO_HOME=$(DEMO_HOME) $(BIN)/dfo demo; status=$$?; DFO_HOME=$(DEMO_HOME) $(BIN)/dfo down >/dev/null; exit $$status

clean:
	rm -rf $(VENV) $(DEMO_HOME) .mypy_cache .ruff_cache .pytest_cache
