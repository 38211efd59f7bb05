# vitrine: `make run` starts the server on 127.0.0.1:8000 with data in ./data,
# `make test` runs every test. Both install libvips first when it is missing
# (Debian/Ubuntu, as root or with sudo).

GO     ?= go
BIN    := bin/vitrine
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# glibc's per-thread malloc arenas make a libvips process's RSS creep; two
# arenas keep it flat (see docs and ../shared/bench/FINDINGS.md).
export MALLOC_ARENA_MAX := 2

.PHONY: all deps build run test test-e2e test-race vet clean

all: build

# deps installs what cgo needs to build the libvips binding.
deps:
	@if ! pkg-config --exists vips 2>/dev/null || ! command -v gcc >/dev/null; then \
		echo "installing libvips-dev (and pkg-config, gcc) with apt-get"; \
		$(SUDO) apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends libvips-dev pkg-config gcc libc6-dev; \
	fi

build: deps
	$(GO) build -o $(BIN) ./cmd/vitrine

run: build
	./$(BIN) migrate --data-dir data
	./$(BIN) serve --addr 127.0.0.1:8000 --data-dir data

vet: deps
	$(GO) vet ./...
	@test -z "$$(gofmt -l .)" || (echo "gofmt needed:"; gofmt -l .; exit 1)

# test runs every test against real servers: SQLite, local files and an S3
# server on loopback always; PostgreSQL too when VITRINE_TEST_POSTGRES_URL
# is set (see scripts/test.sh).
test: deps vet
	./scripts/test.sh
	@if [ -x /usr/bin/chromium ]; then $(MAKE) --no-print-directory test-e2e; \
	else echo "test: /usr/bin/chromium is missing: the browser tests (make test-e2e) were skipped; apt-get install chromium"; fi

# test-e2e runs the browser tests in e2e/: the admin page and the design
# note's frontend code (examples/) in Debian's Chromium, driven by
# playwright-core, against a real bin/vitrine. It needs Node and npm (the
# packages come from the npm registry, pinned by the lock files) and
# /usr/bin/chromium. Each test saves screenshots to e2e/out/. After one
# make test-e2e, `npm run screenshots` in e2e/ runs them again and refreshes
# the README's pictures in docs/screenshots/ (shrunk with pngquant and
# optipng when they are installed).
test-e2e: build
	@command -v npm >/dev/null || { echo "test-e2e: node and npm are missing: apt-get install nodejs npm"; exit 1; }
	@test -x /usr/bin/chromium || { echo "test-e2e: /usr/bin/chromium is missing: apt-get install chromium"; exit 1; }
	cd examples && npm ci --no-audit --no-fund && npm run --silent build
	cd e2e && npm ci --no-audit --no-fund && node --test --test-timeout=180000 --test-reporter=spec *.test.js

test-race: deps
	$(GO) test -race -count=1 ./...

# test-chaos kills vitrine serve with SIGKILL 25 times under uploads and
# deletes and checks that nothing was lost or leaked: on SQLite and local
# files, and on PostgreSQL and S3 when VITRINE_TEST_POSTGRES_URL is set
# (see scripts/chaos.sh). About a minute per shape. make test runs it too.
.PHONY: test-chaos
test-chaos: deps
	./scripts/chaos.sh

# test-fuzz runs every fuzz target (the parsers of client input: prices,
# slugs, file names, formats, image headers, metadata, multipart and JSON
# bodies, query strings) for FUZZTIME each, 20s by default, one after
# another, and fails if one finds a crash; see scripts/fuzz.sh. About five
# and a half minutes on two cores.
.PHONY: test-fuzz
test-fuzz: deps
	./scripts/fuzz.sh

clean:
	rm -rf bin

# bench compares the renderer with the design note's Pillow code: speed on one
# core, bytes, SSIM, memory and the server end to end (15-20 minutes; the
# report goes to stdout and bench/out/report.md). A quick run:
# make bench BENCH_ROUNDS=1 BENCH_FILES=3 BENCH_SOAK=100 BENCH_E2E_ROUNDS=1
.PHONY: bench
bench: build
	./bench/run.sh

# load drives a vitrine it starts on loopback for 60 s: 16 clients uploading
# 12 MP JPEGs and 200 readers of product pages and media, then waits for
# every upload to be rendered and checks none was lost. The Markdown report
# (latency per route, errors, uploads/s, peak RSS, PASS/FAIL per target)
# goes to stdout and bench/out/load.md; see bench/load/main.go.
# test-load is its short mode for CI: 10 s, 4 uploaders, 50 readers; there a
# missed read p99 is reported but does not fail the run (-short).
.PHONY: load test-load
load: build
	@mkdir -p bench/out
	$(GO) run ./bench/load -build=false -vitrine $(BIN) -out bench/out/load.md -command "make load"

test-load: build
	@mkdir -p bench/out
	$(GO) run ./bench/load -build=false -vitrine $(BIN) -short -duration 10s -uploaders 4 -readers 50 -drain-timeout 5m \
		-out bench/out/load-short.md -command "make test-load"

# load-nodes measures uploads per second on two vitrine nodes against one,
# on PostgreSQL and S3: the load script twice with the same flags, -nodes 1
# then -nodes 2 (30 s, 8 uploaders, no readers; LOAD_NODES_ARGS adds or
# overrides flags, e.g. LOAD_NODES_ARGS="-duration 60s"), each on a fresh
# database of the PostgreSQL of VITRINE_TEST_POSTGRES_URL (default
# postgres://postgres@127.0.0.1:5432/postgres) and a fresh prefix of a
# private bucket on a loopback S3 server. Reports in bench/out/nodes-1.md
# and bench/out/nodes-2.md, one line comparing the rates (accepted, and
# end to end until rendered) on stdout; see bench/nodes.sh.
.PHONY: load-nodes
load-nodes: deps
	./bench/nodes.sh $(LOAD_NODES_ARGS)
