# Task runner of the study. The two README commands are `make book` and `make test`.
#
#   make install                      create .venv, install torch (CPU) then ic[test]
#   make book                         build the Jupyter Book -> _build/html/index.html
#   make test                         book + ruff + pytest tests/ + nbval over notebooks/ (smoke parameters)
#   make notebooks PROFILE=paper      execute notebooks/*.ipynb with papermill into book/ (parameters cells
#                                     hidden in the book: scripts/tag_parameters.py)
#   make reproduce PROFILE=smoke [BUDGET=2h] [ONLY=lstm] [ARGS="--threads 1 --no-progress"]
#                                     run the missing jobs (python -m ic reproduce --help: profiles per study)
#   make status [PROFILE=paper] [ONLY=cgan]
#   make screenshots                  headless Chromium PNGs of the built book -> _build/screenshots/
#   make clean                        remove _build

SHELL   := /bin/bash
PYTHON  ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
PY      := $(BIN)/python

# PyTorch is installed FIRST, from the CPU wheel index, so that `pip install -e .` never pulls the
# multi-GB CUDA build. On a GPU machine, install the CUDA torch of your choice instead, e.g.
#   make install TORCH_INDEX=https://download.pytorch.org/whl/cu126
# (or install it into .venv yourself before `make install`: an installed torch 2.13.0 is kept).
TORCH_SPEC  ?= torch==2.13.0
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu

# Parameters of the study targets.
PROFILE ?= smoke
BUDGET  ?=
ONLY    ?=
ARGS    ?=
NB      ?= $(wildcard notebooks/*.ipynb)
# RUN_MISSING=False: notebooks show only what the results store holds (no job is computed)
RUN_MISSING ?=

# Dataset root: the offline mirror ../shared/datasets when it exists (made absolute, because notebooks
# run with notebooks/ as working directory); an IC_DATA_DIR from the environment wins.
ifeq ($(origin IC_DATA_DIR),undefined)
  ifneq ($(wildcard ../shared/datasets),)
    IC_DATA_DIR := $(abspath ../shared/datasets)
  endif
endif
ifneq ($(strip $(IC_DATA_DIR)),)
  export IC_DATA_DIR := $(abspath $(IC_DATA_DIR))
endif

# nbval mode: --nbval-lax executes every cell (a failing cell fails the test) and compares only the
# outputs of cells marked `# NBVAL_CHECK_OUTPUT`; use NBVAL=--nbval to compare every stored output.
NBVAL ?= --nbval-lax
PYTEST_ARGS ?=

# Jupyter Book: warnings are errors; --keep-going reports all of them before failing.
JB_FLAGS ?= -W --keep-going

# The install stamp is keyed on the content of pyproject.toml: editing it triggers a reinstall.
PYPROJECT_HASH := $(shell $(PYTHON) -c "import hashlib;print(hashlib.sha256(open('pyproject.toml','rb').read()).hexdigest()[:16])")
STAMP := $(VENV)/.ic-installed-$(PYPROJECT_HASH)

.PHONY: install book test notebooks reproduce status screenshots clean

install: $(STAMP)

# torch alone (--no-deps: only torch is looked up on TORCH_INDEX; its dependencies come with ic below). A torch
# that satisfies TORCH_SPEC is kept without asking any index. TORCH_INDEX is asked first with one short request,
# so that where it cannot be reached pip does not retry it: torch then comes from the default index, with a note.
TORCH_INSTALLED := import importlib.metadata as m, sys; from pip._vendor.packaging.requirements import Requirement as R; \
  r = R(sys.argv[1]); sys.exit(not r.specifier.contains(m.version(r.name).split('+')[0]))
INDEX_REACHABLE := import sys, urllib.request as u; u.urlopen(u.Request(sys.argv[1].rstrip('/') + '/torch/', \
  method='HEAD'), timeout=5)

$(STAMP):
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@if $(PY) -c "$(TORCH_INSTALLED)" '$(TORCH_SPEC)' 2>/dev/null; then \
	  echo "$(TORCH_SPEC): installed, kept"; \
	elif [ -z "$(TORCH_INDEX)" ]; then \
	  $(PY) -m pip install --no-deps '$(TORCH_SPEC)'; \
	elif $(PY) -c "$(INDEX_REACHABLE)" '$(TORCH_INDEX)' 2>/dev/null; then \
	  $(PY) -m pip install --no-deps --extra-index-url $(TORCH_INDEX) '$(TORCH_SPEC)'; \
	else \
	  echo "note: $(TORCH_INDEX) cannot be reached; installing $(TORCH_SPEC) from the default index"; \
	  $(PY) -m pip install --no-deps '$(TORCH_SPEC)'; \
	fi
	$(PY) -m pip install -e '.[test]'
	@rm -f $(VENV)/.ic-installed-*
	@touch $@

book: install
	$(BIN)/jupyter-book build . $(JB_FLAGS)
	@scripts/local_mathjax.sh _build/html
	@echo "Book: file://$(CURDIR)/_build/html/index.html"

# `make test` runs with one torch thread per process (this environment; tests/conftest.py sets the same for
# pytest itself and the notebook kernels nbval starts), so that another busy process cannot slow it down
# manyfold. Results and weights go to a fresh temporary IC_CACHE_DIR per run, removed afterwards
# (tests/conftest.py), so the notebooks under nbval compute their smoke jobs instead of reusing an earlier
# run's, and the user's cache (~/.cache/ic) is never written. An IC_CACHE_DIR set by the caller is used
# as is and kept (e.g. `make test IC_CACHE_DIR=/tmp/ic-cache` to reuse smoke results between runs).
TEST_ENV ?= OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 TQDM_DISABLE=1 MPLBACKEND=Agg

test: install book
	$(PY) -m ruff check ic tests benchmarks
	$(TEST_ENV) $(PY) -m pytest tests/ $(NB) $(NBVAL) --nbval-current-env \
	  --nbval-sanitize-with tests/nbval_sanitize.cfg -p no:cacheprovider $(PYTEST_ARGS)

notebooks: install
	@test -n "$(NB)" || { echo "no notebooks in notebooks/"; exit 1; }
	@mkdir -p book
	@for nb in $(NB); do \
	  echo "papermill $$nb -> book/$$(basename $$nb) (profile=$(PROFILE))"; \
	  TQDM_DISABLE=1 $(BIN)/papermill "$$nb" "book/$$(basename $$nb)" -k python3 --cwd notebooks \
	    -p profile $(PROFILE) $(if $(RUN_MISSING),-p run_missing $(RUN_MISSING)) --no-progress-bar || exit 1; \
	  $(PY) scripts/tag_parameters.py "book/$$(basename $$nb)" || exit 1; \
	done

# ARGS: further options of `python -m ic reproduce`, e.g. ARGS="--threads 1 --no-progress --shard 0/2"
reproduce: install
	$(PY) -m ic reproduce --profile $(PROFILE) $(if $(BUDGET),--budget $(BUDGET)) $(if $(ONLY),--only $(ONLY)) $(ARGS)

# status counts the paper profile unless PROFILE is given (make status PROFILE=cpu ONLY=cgan)
status: install
	$(PY) -m ic status $(if $(filter command line environment,$(origin PROFILE)),--profile $(PROFILE)) \
	  $(if $(ONLY),--only $(ONLY))

screenshots:
	@test -f _build/html/index.html || $(MAKE) book
	scripts/screenshots.sh _build/html _build/screenshots

clean:
	rm -rf _build
