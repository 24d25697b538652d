# annotator — `make run` to use it, `make test` to check it.
.DEFAULT_GOAL := help
.PHONY: help run test lint audit lock format bench clean

VENV := .venv
PY := $(VENV)/bin/python
PYENV_ROOT ?= $(HOME)/.pyenv
# A Python >= 3.12: the first on PATH, then pyenv's installs.
PYTHON_CANDIDATES := python3.14 python3.13 python3.12 python3 python \
	$(wildcard $(PYENV_ROOT)/versions/3.1[2-9]*/bin/python3)

help:
	@echo "make run    set up (first time) and serve annotator on http://127.0.0.1:8000"
	@echo "make test   lint, migration check and the whole test suite, browser tests included"
	@echo "make lint   ruff check and format check"
	@echo "make audit  known vulnerabilities in the locked dependencies (pip-audit)"
	@echo "make lock   rewrite requirements.lock from the installed packages"
	@echo "make bench  the benchmarks under bench/"

$(VENV)/.installed: pyproject.toml requirements.lock
	@if [ ! -x $(PY) ]; then \
	  for candidate in $(PYTHON_CANDIDATES); do \
	    if "$$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then \
	      python="$$candidate"; break; \
	    fi; \
	  done; \
	  if [ -z "$$python" ]; then \
	    echo "annotator needs Python 3.12 or newer; none found on PATH (python3.12, python3.13, python3) or in $(PYENV_ROOT)/versions." >&2; \
	    echo "Install one (for example: pyenv install 3.12) and run make again." >&2; \
	    exit 1; \
	  fi; \
	  echo "Creating $(VENV) with $$("$$python" --version) ($$python)"; \
	  "$$python" -m venv $(VENV); \
	fi
	$(PY) -m pip install --quiet --disable-pip-version-check --constraint requirements.lock -e '.[dev]'
	@touch $@

.data/secret_key: | $(VENV)/.installed
	@mkdir -p .data
	@umask 077 && $(PY) -c 'import secrets; print(secrets.token_urlsafe(50))' > $@
	@echo "Created a local secret key in $@"

run: $(VENV)/.installed .data/secret_key
	ANNOTATOR_DEMO=1 $(PY) manage.py serve

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Known vulnerabilities in the locked versions fail the build (.ci/audit says what it could not audit).
audit: $(VENV)/.installed
	$(PY) .ci/audit $(VENV)/bin/pip-audit

lock: $(VENV)/.installed
	@{ echo "# Every package and version make installs: pip freeze of the dev install. make lock rewrites it."; \
	  $(PY) -m pip freeze --exclude-editable; } > requirements.lock
	@echo "Wrote requirements.lock"

test: lint audit .data/secret_key
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) -m pytest -n auto --maxprocesses 4

bench: $(VENV)/.installed .data/secret_key
	$(PY) -m bench

format: $(VENV)/.installed
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) staticfiles
	@echo "Kept .data/ (your database and secret key); delete it yourself to start over."
