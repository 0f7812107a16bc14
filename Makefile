# geneb — one entry point for install, the pipeline, tests and benchmarks.
#
#   make all        install, then embed -> probe -> analyze -> report on the built-in default,
#                   and the published GENEB leaderboard reproduced (packaged data, offline)
#   make test       install, then run the test suite
#
# torch: TORCH_SPEC picks the wheel. The default takes the CPU build of torch 2.13.0;
# on a GPU box use e.g. `make install TORCH_SPEC=torch` (PyPI's Linux wheels are CUDA
# builds) or point TORCH_INDEX at the CUDA wheel index you use.

PYTHON      ?= python3
VENV        ?= .venv
TORCH_SPEC  ?= torch==2.13.0
TORCH_INDEX ?=
EXTRAS      ?= extract,dist,dev
# The oldest transformers geneb supports; `make test-compat` runs the model-family tests on
# it in a second environment (the newest comes with the main install).
TF_OLDEST   ?= transformers==4.57.6
VENV_OLDEST ?= .venv-tf4
# The models' own code from PyPI, for the family tests (installed with --no-deps).
REALCODE    ?= tests/requirements-realcode.txt
COMPAT_TESTS ?= tests/test_extract_core.py tests/test_extract_families_*.py tests/test_family_*.py tests/test_compat.py

BENCHMARK   ?= geneb-mini
MODELS      ?= default
STORE       ?= stores/default.zarr
RESULTS     ?= analysis/results.parquet
ANALYSIS    ?= analysis/default
REPORT      ?= $(ANALYSIS)/leaderboard.html
PUBLISHED   ?= analysis/published
PUBLISHED_REPORT ?= $(PUBLISHED)/leaderboard.html
DEVICE      ?= auto
PROTOCOL    ?= geneb-v1
# auto = the protocol's own solver: scikit-learn for geneb-v1 on any hardware (BACKEND=torch
# writes the variant protocol geneb-v1+torch, never ranked or exported with geneb-v1)
BACKEND     ?= auto
JOBS        ?= 2
PYTEST_ARGS ?=
DASK        ?=
BENCH_SIZE  ?= default

BIN   := $(VENV)/bin
GENEB := $(BIN)/geneb
STAMP := $(VENV)/.installed

.PHONY: all install install-core install-oldest embed probe analyze report published test test-compat test-all bench lint clean-store help

help:
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s "$$(printf '\t')"

all: $(STAMP) ## install, then embed -> probe -> analyze -> report on the built-in default, and the published leaderboard
	$(MAKE) --no-print-directory embed probe analyze report published
	@echo "Built-in models on the mini suite (not GENEB): $(REPORT)"
	@echo "The published GENEB leaderboard, reproduced:   $(PUBLISHED_REPORT)"

$(STAMP): pyproject.toml $(REALCODE)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q "$(TORCH_SPEC)" $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(BIN)/python -m pip install -q -e ".[$(EXTRAS)]"
	$(if $(findstring dev,$(EXTRAS)),$(BIN)/python -m pip install -q --no-deps --no-warn-conflicts -r $(REALCODE))
	touch $(STAMP)

install: $(STAMP) ## create .venv with geneb, torch (TORCH_SPEC) and the extras (EXTRAS)

install-core: ## the analysis half only (no torch): pip install -e .
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -e .

embed: $(STAMP) ## embed BENCHMARK with MODELS into STORE (resumable)
	$(GENEB) embed --benchmark $(BENCHMARK) --models $(MODELS) --store $(STORE) --device $(DEVICE) $(if $(DASK),--dask $(DASK))

probe: $(STAMP) ## probe every complete (model, task) in STORE under PROTOCOL -> RESULTS (incremental)
	$(GENEB) probe --store $(STORE) --out $(RESULTS) --protocol $(PROTOCOL) --backend $(BACKEND) $(if $(DASK),--dask $(DASK),--jobs $(JOBS))

analyze: $(STAMP) ## all analyses over RESULTS -> ANALYSIS (summary.json, tables, figures)
	$(GENEB) analyze --results $(RESULTS) --protocol $(PROTOCOL) --out $(ANALYSIS)

report: $(STAMP) ## the static HTML leaderboard -> REPORT
	$(GENEB) report --analysis $(ANALYSIS) --out $(REPORT) --title "geneb leaderboard: $(MODELS) models on $(BENCHMARK)"

published: $(STAMP) ## the 40 published GENEB results with the paper's options -> PUBLISHED (paper vs computed)
	$(GENEB) analyze --published --preset paper --out $(PUBLISHED)
	$(GENEB) report --analysis $(PUBLISHED) --out $(PUBLISHED_REPORT) --title "GENEB leaderboard (published results, reproduced)"

test: $(STAMP) ## run the fast test suite (what CI runs)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

$(VENV_OLDEST)/.installed: pyproject.toml $(REALCODE)
	test -x $(VENV_OLDEST)/bin/python || $(PYTHON) -m venv $(VENV_OLDEST)
	$(VENV_OLDEST)/bin/python -m pip install -q --upgrade pip
	$(VENV_OLDEST)/bin/python -m pip install -q "$(TORCH_SPEC)" $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(VENV_OLDEST)/bin/python -m pip install -q -e ".[extract,dev]" "$(TF_OLDEST)"
	$(VENV_OLDEST)/bin/python -m pip install -q --no-deps --no-warn-conflicts -r $(REALCODE)
	touch $(VENV_OLDEST)/.installed

install-oldest: $(VENV_OLDEST)/.installed ## a second venv with the oldest supported transformers (TF_OLDEST)

test-compat: $(VENV_OLDEST)/.installed ## the model-family tests on the oldest supported transformers
	$(VENV_OLDEST)/bin/python -c "import transformers; print('transformers', transformers.__version__)"
	$(VENV_OLDEST)/bin/python -m pytest $(wildcard $(COMPAT_TESTS)) $(PYTEST_ARGS)

test-all: $(STAMP) ## every test, slow ones included
	$(BIN)/python -m pytest -m "" $(PYTEST_ARGS)

bench: $(STAMP) ## run the benchmark suite, append a dated record to benchmarks/RESULTS.md
	$(BIN)/python benchmarks/run_all.py --size $(BENCH_SIZE)

lint: $(STAMP) ## ruff over the package and the tests
	$(BIN)/ruff check geneb tests benchmarks scripts

clean-store: ## delete the default store and analysis outputs
	rm -rf $(STORE) $(STORE).locks $(RESULTS) $(ANALYSIS) $(PUBLISHED)
