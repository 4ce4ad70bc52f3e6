# Quader: `make run` installs what is missing, builds and starts the platform;
# `make test` installs, builds and runs every test suite.
SHELL := /bin/bash
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
DATA ?= ./data
LISTEN ?= 127.0.0.1:8080

WEB_SRC := $(shell find web/src web/index.html web/vite.config.* web/tsconfig*.json -type f 2>/dev/null)

.PHONY: all deps build cpp web run test test-unit test-browser bench clean

all: build

deps:
	@scripts/install-deps.sh

# The web UI: npm packages from the lock file, then a Vite build into web/dist.
web/node_modules/.package-lock.json: web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund
	@touch $@

web/dist/index.html: web/node_modules/.package-lock.json $(WEB_SRC)
	cd web && npm run build

web: deps web/dist/index.html

# The Kubernetes manifest validator the tests run (kubernetes-models and its
# Istio models, pinned by tests/kube/validate/package-lock.json).
KUBE_VALIDATE := tests/kube/validate/node_modules/.package-lock.json
$(KUBE_VALIDATE): tests/kube/validate/package.json tests/kube/validate/package-lock.json
	cd tests/kube/validate && npm ci --no-audit --no-fund
	@touch $@

$(BUILD_DIR)/CMakeCache.txt: CMakeLists.txt
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo

cpp: deps $(BUILD_DIR)/CMakeCache.txt
	cmake --build $(BUILD_DIR) -j$(JOBS)

build: cpp web

run: build
	$(BUILD_DIR)/quader server --data $(DATA) --listen $(LISTEN) --apply examples

test: build $(KUBE_VALIDATE)
	@scripts/run-tests.sh $(BUILD_DIR)

bench: build
	bench/api_list_projects.sh $(BUILD_DIR)/quader
	bench/pipeline_dag.sh $(BUILD_DIR)/quader
	bench/cron_precision.sh $(BUILD_DIR)/quader
	bench/hpo_quality.sh $(BUILD_DIR)

clean:
	rm -rf $(BUILD_DIR) web/dist
