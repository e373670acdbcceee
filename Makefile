# wbs-engine developer tasks (GNU make >= 4.3).  `make` alone prints the targets.
#
# `make test` on a fresh Debian machine installs everything it needs: the
# Debian packages below (when root), the virtualenv and the Python packages.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
# Prerequisites must run in the order written (system packages, then venv).
.NOTPARALLEL:

PYTHON        ?= python3
VENV          ?= .venv
VENV_PY       := $(VENV)/bin/python
# Re-created (so pip re-runs) whenever pyproject.toml or the lock file is newer than it.
INSTALL_STAMP := $(VENV)/.wbs-install.stamp
# Exact versions with hashes of every runtime and test dependency (`make lock` refreshes it with uv).
LOCK          := requirements/lock.txt
UV_VERSION    ?= 0.13.9
# `make lock LOCK_ARGS=--upgrade` moves every pin to the newest release; without it the current pins stay.
LOCK_ARGS     ?=
PYTEST_ARGS   ?=
# pytest-xdist workers for `make test` (each has its own PostgreSQL server, SMTP sink and template
# databases); 0 runs everything in one process, auto one worker per CPU.
PYTEST_WORKERS ?= 2
RUN_HOST      ?= 127.0.0.1
RUN_PORT      ?= 5000

# Debian packages the test suite needs; `make test` installs the missing ones
# with apt-get when run as root.  To add one:
#     TEST_DEB_PACKAGES += somepackage
#     DEB_CHECK_somepackage := command -v someprogram
# DEB_CHECK_<pkg> is a shell command that succeeds when <pkg> is usable; a
# package without one is checked with dpkg-query ("install ok installed").
TEST_DEB_PACKAGES := python3-venv postgresql chromium poppler-utils
DEB_CHECK_python3-venv := test -x $(VENV_PY) || $(PYTHON) -c 'import ensurepip, venv'
DEB_CHECK_postgresql := ls /usr/lib/postgresql/*/bin/initdb
DEB_CHECK_chromium := command -v chromium
DEB_CHECK_poppler-utils := command -v pdftoppm

deb_check = $(or $(DEB_CHECK_$(1)),dpkg-query -W -f='$${Status}' $(1) | grep -q 'install ok installed')

.PHONY: help install lock system-deps test lint bench run clean distclean messages

help:
	@echo "wbs-engine make targets:"
	@echo "  make install      create $(VENV) (if missing), install $(LOCK) (--require-hashes), then -e . --no-deps"
	@echo "  make lock         refresh $(LOCK) from pyproject.toml (uv pip compile --universal --generate-hashes)"
	@echo "  make system-deps  apt-get install missing Debian packages for the tests: $(TEST_DEB_PACKAGES)"
	@echo "  make test         system-deps + install, then pytest on $(PYTEST_WORKERS) workers (PYTEST_WORKERS=0: one process;"
	@echo "                   extra arguments: PYTEST_ARGS='-k foo -x')"
	@echo "  make lint         ruff check"
	@echo "  make messages     extract every message (babel.cfg) and update the id/en catalogues in $(TRANSLATIONS)"
	@echo "  make bench        run every benchmarks/bench_*.py (< 10 min on 2 cores; BENCH_BIG=100000 for a quick look)"
	@echo "  make run          install, then wbs init-db, wbs seed-demo, wbs run on $(RUN_HOST):$(RUN_PORT)"
	@echo "  make clean        remove caches and build artefacts (keeps $(VENV))"
	@echo "  make distclean    clean, and remove $(VENV) too"

# --- installation -----------------------------------------------------------

# Debian's python3 needs python3-venv for `-m venv`: installed here when root (make run and make test
# both start on a fresh machine), otherwise a clear message.
$(VENV_PY):
	@if ! $(PYTHON) -c 'import ensurepip, venv' >/dev/null 2>&1; then \
	  if [ "$$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing the Debian package python3-venv"; \
	    if [ "$${APT_UPDATED:-}" != 1 ]; then apt-get update; fi; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3-venv; \
	  else \
	    echo "*** '$(PYTHON) -m venv' cannot work here (no ensurepip): install the Debian package python3-venv" >&2; \
	    echo "*** (sudo apt-get install python3-venv), then run make again." >&2; \
	    exit 1; \
	  fi; \
	fi
	$(PYTHON) -m venv $(VENV)

$(INSTALL_STAMP): pyproject.toml $(LOCK) | $(VENV_PY)
	$(VENV_PY) -m pip install --disable-pip-version-check --require-hashes -r $(LOCK)
	$(VENV_PY) -m pip install --disable-pip-version-check --no-deps -e .
	@touch $@

# Re-resolves every dependency of pyproject.toml (with the test extra) for Python 3.11+ on every platform
# (--universal: one file with markers, hashes of every wheel and sdist), from PyPI only.  Run it after
# changing pyproject.toml's dependencies, then `make install`; tests/unit/test_lock.py checks they match.
lock: | $(VENV_PY)
	$(VENV_PY) -m pip install --disable-pip-version-check -q 'uv==$(UV_VERSION)'
	$(VENV)/bin/uv pip compile --quiet --universal --python-version 3.11 --generate-hashes --extra test \
	  --no-header --annotation-style line --index-url https://pypi.org/simple $(LOCK_ARGS) pyproject.toml -o $(LOCK)

# The message catalogues: compiled (.po -> .mo) at install; wbs_engine/i18n.py compiles a missing or older
# .mo in memory, so a checkout works without this step too.
TRANSLATIONS := wbs_engine/translations
PO_FILES     := $(wildcard $(TRANSLATIONS)/*/LC_MESSAGES/messages.po)
MO_FILES     := $(PO_FILES:.po=.mo)
BABEL_EXTRACT = $(VENV)/bin/pybabel -q extract -F babel.cfg -k N_:1,2 --no-location --sort-output --no-wrap \
                --project=wbs-engine -o $(TRANSLATIONS)/messages.pot .

%.mo: %.po | $(INSTALL_STAMP)
	$(VENV)/bin/pybabel -q compile --statistics -i $< -o $@ || (rm -f $@; exit 1)

install: $(INSTALL_STAMP) $(MO_FILES)

# After adding or changing a message in the code: new msgids appear with an empty msgstr in
# $(TRANSLATIONS)/id/LC_MESSAGES/messages.po (fill them in; tests/unit/test_catalogue.py fails until then).
messages: $(INSTALL_STAMP)
	$(BABEL_EXTRACT)
	$(VENV)/bin/pybabel -q update -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) -D messages \
	  --no-fuzzy-matching --ignore-obsolete --no-wrap

# Installs the missing TEST_DEB_PACKAGES.  `apt-get update` runs only when
# something must be installed, and not when APT_UPDATED=1 (.ci/run sets that
# when it already ran it).  Not root: says what is missing and carries on; the
# tests needing it are then skipped (they fail instead when CI=true).
system-deps:
	@missing=""; \
	$(foreach p,$(TEST_DEB_PACKAGES),( $(call deb_check,$(p)) ) >/dev/null 2>&1 || missing="$$missing $(p)";) \
	missing="$${missing# }"; \
	if [ -z "$$missing" ]; then \
	  echo "Debian packages present: $(TEST_DEB_PACKAGES)"; \
	elif [ "$$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then \
	  echo "*** Missing Debian packages: $$missing" >&2; \
	  echo "*** Install them as root with:" >&2; \
	  echo "***     apt-get update && apt-get install -y --no-install-recommends $$missing" >&2; \
	  echo "*** Continuing: the tests that need them will be SKIPPED (and FAIL when CI=true)." >&2; \
	else \
	  echo "Installing missing Debian packages: $$missing"; \
	  if [ "$${APT_UPDATED:-}" != 1 ]; then apt-get update; fi; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$missing; \
	fi

# --- tasks ------------------------------------------------------------------

test: system-deps install
	$(VENV_PY) -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .

# Every benchmarks/bench_*.py, each with its arguments below (BENCH_ARGS_<name>), in under 10 minutes on a
# 2-core machine.  bench_queries and bench_queue share one cache of built databases (BENCH_CACHE: a
# temporary directory removed afterwards unless given; give a kept one to skip the builds next time).
# BENCH_BIG: the large database of the queue, query and sweep benchmarks (the issue's 1,000,000; smaller
# for a quick look, e.g. BENCH_BIG=100000).  BENCH_ONLY='engine audit' runs just those.
BENCH_BIG   ?= 1000000
BENCH_CACHE ?=
BENCH_ONLY  ?=
BENCH_ARGS_bench_engine   ?= --cases 200
BENCH_ARGS_bench_intake   ?= --submissions 600
BENCH_ARGS_bench_audit    ?= --cases 300 --runs 5
BENCH_ARGS_bench_queries  ?= --big $(BENCH_BIG) --runs 20 --no-plans
BENCH_ARGS_bench_queue    ?= --big $(BENCH_BIG) --runs 20
BENCH_ARGS_bench_sweep    ?= --big $(BENCH_BIG)
BENCH_ARGS_bench_startup  ?= --runs 5
BENCH_ARGS_bench_calendar ?=

bench: install
	@shopt -s nullglob; benches=(benchmarks/bench_*.py); \
	if [ -n "$(BENCH_ONLY)" ]; then benches=(); for n in $(BENCH_ONLY); do benches+=(benchmarks/bench_$$n.py); done; fi; \
	cache="$(BENCH_CACHE)"; own=""; \
	if [ -z "$$cache" ]; then cache=$$(mktemp -d /tmp/wbs-bench-XXXXXX); own=1; chmod 755 "$$cache"; fi; \
	trap '[ -n "$$own" ] && rm -rf "$$cache"' EXIT; \
	start=$$SECONDS; \
	for b in "$${benches[@]}"; do \
	  n=$$(basename "$$b" .py); \
	  case "$$n" in \
	    bench_engine) args="$(BENCH_ARGS_bench_engine)";; \
	    bench_intake) args="$(BENCH_ARGS_bench_intake)";; \
	    bench_audit) args="$(BENCH_ARGS_bench_audit)";; \
	    bench_queries) args="$(BENCH_ARGS_bench_queries) --cache $$cache";; \
	    bench_queue) args="$(BENCH_ARGS_bench_queue) --cache $$cache";; \
	    bench_sweep) args="$(BENCH_ARGS_bench_sweep)";; \
	    bench_startup) args="$(BENCH_ARGS_bench_startup)";; \
	    bench_calendar) args="$(BENCH_ARGS_bench_calendar)";; \
	    *) args="";; \
	  esac; \
	  echo "== $$b $$args"; t=$$SECONDS; \
	  $(VENV_PY) "$$b" $$args; \
	  echo "== $$b: $$((SECONDS - t)) s"; \
	done; \
	echo "== make bench: $$((SECONDS - start)) s in all"

run: install
	$(VENV)/bin/wbs init-db
	$(VENV)/bin/wbs seed-demo
	WBS_SCHEDULER=$${WBS_SCHEDULER:-embedded} $(VENV)/bin/wbs run --host $(RUN_HOST) --port $(RUN_PORT)

clean:
	rm -rf .pytest_cache .ruff_cache .hypothesis build dist *.egg-info
	find . -path ./$(VENV) -prune -o -path ./.git -prune -o -name __pycache__ -type d -print0 \
	  | xargs -0 rm -rf

distclean: clean
	rm -rf $(VENV)
