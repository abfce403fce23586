# Sportello: `make run` sets up and serves the portal; `make test` sets up and runs every test.
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
SPORTELLO = $(VENV)/bin/sportello
export HF_HUB_OFFLINE = 1
export TRANSFORMERS_OFFLINE = 1
# PyPI's torch for Linux is a CUDA build (several GB); PyTorch's own index has the CPU build.
TORCH = torch==2.13.0
TORCH_CPU_INDEX ?= https://download.pytorch.org/whl/cpu

.PHONY: run setup system-deps test test-sqlite test-postgres bench quality

$(VENV)/.installed: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# torch first, so that sentence-transformers does not pull another build: the CPU build from
	# PyTorch's index when it answers within 5 s, else (offline mirror, firewall) the default index.
	@if $(PY) -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=5)' \
	      '$(TORCH_CPU_INDEX)/torch/' >/dev/null 2>&1 \
	    && $(PY) -m pip install --quiet --index-url '$(TORCH_CPU_INDEX)' '$(TORCH)'; then \
	  echo "torch: CPU build from $(TORCH_CPU_INDEX)"; \
	else \
	  echo "torch: $(TORCH_CPU_INDEX) not reachable, torch from the default index"; \
	  $(PY) -m pip install --quiet '$(TORCH)'; \
	fi
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

setup: $(VENV)/.installed

run: setup
	$(SPORTELLO) init
	$(SPORTELLO) import articles
	$(SPORTELLO) serve --host 127.0.0.1 --port 5000

# PostgreSQL (for the PostgreSQL run) and Chromium (for the browser tests) from Debian.
system-deps:
	@need=""; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need="$$need postgresql"; \
	command -v chromium >/dev/null 2>&1 || need="$$need chromium"; \
	if [ -n "$$need" ]; then \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO="sudo"; \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q $$need; \
	fi

test-sqlite: setup system-deps
	$(PY) -m pytest -q -p no:cacheprovider

test-postgres: setup system-deps
	$(PY) -m pytest -q -p no:cacheprovider --postgres -m "not model"

test: test-sqlite test-postgres

quality: setup
	$(PY) bench/quality.py

bench: setup
	$(PY) bench/speed.py
