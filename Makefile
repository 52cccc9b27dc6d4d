# Two entry points for a newcomer: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.docstack-installed

.PHONY: demo test lint system-packages bench bench-represent bench-index bench-transit bench-engines clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip

# torch first: a local CPU build; anything that depends on torch then finds it installed
$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install "torch==2.13.0"
	$(BIN)/pip install -e ".[full,torch,jax,tensorflow,test]"
	touch $(STAMP)

demo: $(STAMP) system-packages $(VENV)/.pyvista-data
	$(BIN)/python examples/demo.py

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks tools
	$(BIN)/ruff format --check src tests benchmarks tools

# the full Milvus 2.3 server (PyPI `milvus`) runs from its own environment: it needs an older
# pymilvus, setuptools and marshmallow than docstack's; the tests start and stop it
MILVUS23 := tmp/venv-milvus23
$(MILVUS23)/.installed:
	$(PYTHON) -m venv $(MILVUS23)
	$(MILVUS23)/bin/pip install "milvus==2.3.5" "pymilvus<2.4" "setuptools<81" "marshmallow<4"
	touch $@

# system packages from Debian: Chromium for the web page's browser tests (playwright's own
# browser download does not work here), spoken WAVs and sound clips for the demo's audio
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_PACKAGES := chromium chromium-driver alsa-utils sound-theme-freedesktop
system-packages:
	@if ! command -v chromium >/dev/null || [ ! -d /usr/share/sounds/alsa ]; then \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(APT_PACKAGES) \
		|| { $(SUDO) apt-get update -q && $(SUDO) env DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -q $(APT_PACKAGES); }; \
	fi

# pyvista's wheel ships sample meshes; its own dependencies (vtk) are not needed to read them
$(VENV)/.pyvista-data: $(STAMP)
	$(BIN)/pip install --no-deps "pyvista>=0.43"
	touch $@

test: $(STAMP) $(MILVUS23)/.installed system-packages $(VENV)/.pyvista-data lint
	$(BIN)/python -m pytest -q

# DocArray 0.41 runs in its own environment: its DocVec needs numpy<2
.venv-docarray/bin/python:
	$(PYTHON) -m venv .venv-docarray
	.venv-docarray/bin/pip install "docarray[hnswlib]==0.41.*" "numpy<2" "protobuf<5"

bench: bench-represent bench-index bench-transit bench-engines

bench-represent: $(STAMP) .venv-docarray/bin/python
	$(BIN)/python benchmarks/bench_represent.py

bench-index: $(STAMP) .venv-docarray/bin/python
	$(BIN)/python benchmarks/bench_index.py

bench-transit: $(STAMP) .venv-docarray/bin/python
	$(BIN)/python benchmarks/bench_transit.py

# Milvus Lite and Qdrant local mode, docstack against the raw clients (no DocArray half)
bench-engines: $(STAMP)
	$(BIN)/python benchmarks/bench_engines.py

clean:
	rm -rf $(VENV) .venv-docarray build *.egg-info
