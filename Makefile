# Quader: `make run` installs what is missing, builds and starts the platform;
# `make test` installs, builds and runs every test suite.
SHELL := /bin/bash
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
DATA ?= ./data
LISTEN ?= 127.0.0.1:8080

WEB_SRC := $(shell find web/src web/index.html web/vite.config.* web/tsconfig*.json -type f 2>/dev/null)

.PHONY: all deps build cpp server web run test test-unit test-browser bench fuzz clean

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

# Only what running needs: the server binary (the tests are built by `make test`).
server: deps $(BUILD_DIR)/CMakeCache.txt
	cmake --build $(BUILD_DIR) -j$(JOBS) --target quader

build: cpp web

# RUNTIME=process runs work as sandboxed local processes even where a
# container engine exists (default: auto). With an engine, the example images
# are built in the background (scripts/run.sh).
RUNTIME ?= auto
run: server web
	@scripts/run.sh $(BUILD_DIR) $(DATA) $(LISTEN) $(RUNTIME)

test: build $(KUBE_VALIDATE)
	@scripts/run-tests.sh $(BUILD_DIR)

bench: build
	bench/api_list_projects.sh $(BUILD_DIR)/quader
	bench/pipeline_dag.sh $(BUILD_DIR)/quader
	bench/cron_precision.sh $(BUILD_DIR)/quader
	bench/hpo_quality.sh $(BUILD_DIR)

# libFuzzer harnesses (fuzz/README.md), not part of CI: clang, ASan and UBSan
# in their own build directory, then each target for FUZZ_SECONDS (one core
# each, one after another) from its seed corpus. New inputs go to
# $(FUZZ_DIR)/corpus/TARGET, failing ones to $(FUZZ_DIR)/crashes/TARGET.
# FUZZ_TARGETS picks some: make fuzz FUZZ_TARGETS="cron render" FUZZ_SECONDS=600
FUZZ_DIR ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= documents apply template_args cron search_space expand resources render http gateway_host docker kubernetes cubestudio
fuzz:
	cmake -S . -B $(FUZZ_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
	  -DQUADER_FUZZ=ON -DQUADER_BUILD_TESTS=OFF
	cmake --build $(FUZZ_DIR) -j$(JOBS) --target $(addprefix fuzz_,$(FUZZ_TARGETS))
	@source fuzz/options.sh; status=0; for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(FUZZ_DIR)/corpus/$$t $(FUZZ_DIR)/crashes/$$t; \
	  echo "== fuzz_$$t for $(FUZZ_SECONDS)s"; \
	  $(FUZZ_DIR)/fuzz/fuzz_$$t $(FUZZ_DIR)/corpus/$$t fuzz/corpus/$$t -max_total_time=$(FUZZ_SECONDS) \
	    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix=$(FUZZ_DIR)/crashes/$$t/ $$(fuzz_options $$t) \
	    > $(FUZZ_DIR)/fuzz_$$t.log 2>&1 || status=1; \
	  grep -E "^#[0-9]+ +(DONE|INITED)|stat::number_of_executed_units|SUMMARY" $(FUZZ_DIR)/fuzz_$$t.log; \
	  ls $(FUZZ_DIR)/crashes/$$t; \
	done; exit $$status

clean:
	rm -rf $(BUILD_DIR) web/dist
