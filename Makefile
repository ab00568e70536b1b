# MIMIS — the two commands: `make run` (the whole system) and `make test` (every test).
# Both install what they need into .venv from the pinned requirements.lock.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install browser run test lint typecheck check bench clean k8s-generate k8s-render k8s-validate

install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) not found: MIMIS needs Python 3.11"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)

## browser: Debian's chromium for the web page tests (Playwright drives it; no browser download)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser:
	@command -v chromium >/dev/null || { $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null 2>&1 \
	  || { $(SUDO) apt-get update -q >/dev/null && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null; }; }
	@command -v chromium >/dev/null || { echo "could not install Debian's chromium (apt-get install chromium)"; exit 1; }

## run: broker, database, every service, the gateway and demo data; prints URLs; Ctrl-C stops all
run: install
	$(PY) -m mimis_platform.devstack run

## test: lint, type check and the whole suite against a real local broker and database
test: install browser
	$(PY) -m ruff check .
	$(PY) -m mypy mimis_platform services gateway mimis_cli
	$(PY) -m pytest

lint: install
	$(PY) -m ruff check .

typecheck: install
	$(PY) -m mypy mimis_platform services gateway mimis_cli

## bench: every benchmark under benchmarks/, each printing its ratio to a same-run baseline
bench: install
	$(PY) benchmarks/outbox_relay.py
	$(PY) benchmarks/catalog_search.py
	$(PY) benchmarks/issuance_throughput.py
	$(PY) benchmarks/notifications_delivery.py
	$(PY) benchmarks/gateway_search.py
	$(PY) benchmarks/system_load.py

## k8s-generate: rewrite the generated Kubernetes files (topics, users, workloads, MongoDB) and the image's pins
k8s-generate: install
	$(PY) -m mimis_platform.contracts.k8s --write
	$(PY) deploy/container/runtime_requirements.py > deploy/container/requirements.runtime.txt

## k8s-render: `kubectl kustomize` every overlay into build/k8s/<overlay>.yaml
K8S_OVERLAYS := dev prod
KUBECTL ?= kubectl
k8s-render:
	@command -v $(KUBECTL) >/dev/null || { echo "kubectl not found (these machines ship v1.32; set KUBECTL=...)"; exit 1; }
	@mkdir -p build/k8s
	@for overlay in $(K8S_OVERLAYS); do \
	  $(KUBECTL) kustomize deploy/k8s/overlays/$$overlay > build/k8s/$$overlay.yaml || exit 1; \
	  echo "build/k8s/$$overlay.yaml: $$(grep -c '^kind:' build/k8s/$$overlay.yaml) resources"; \
	done

## k8s-validate: render every overlay and check it (schemas offline, Strimzi and MongoDB resources, ACLs, image recipe)
k8s-validate: install
	$(PY) -m pytest tests/deploy -q

clean:
	rm -rf .stack .pytest_cache .mypy_cache .ruff_cache build
