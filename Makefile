# dfo: `make demo` runs dfo on the embedded default; `make test` runs lint and the whole suite.
# Both create the virtualenv on first use. `make test` installs mariadb-server with apt-get when it
# is missing and we run as root (the MariaDB tests need a real server; CI never skips them).

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_HOME ?= $(CURDIR)/.dfo-demo

.PHONY: demo test lint venv mariadb python-venv clean

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

mariadb:
	@if command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing mariadb-server for the MariaDB tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends mariadb-server mariadb-client >/dev/null; \
	else echo "warning: no mariadbd and not root: MariaDB tests will be skipped (and fail with CI=true)"; fi

lint: venv
	$(BIN)/ruff check dfo tests
	$(BIN)/ruff format --check dfo tests
	$(BIN)/mypy
	$(BIN)/lint-imports

test: venv mariadb lint
	$(BIN)/pytest

demo: venv
	DFO_HOME=$(DEMO_HOME) $(BIN)/dfo demo; status=$$?; DFO_HOME=$(DEMO_HOME) $(BIN)/dfo down >/dev/null; exit $$status

clean:
	rm -rf $(VENV) $(DEMO_HOME) .mypy_cache .ruff_cache .pytest_cache
