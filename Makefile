# The README's two commands: `make run` and `make test`. Both install what is missing first.
GO      ?= go
BIN     := bin/eventmanager
VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/eventmanager/eventmanager/internal/cli.Version=$(VERSION)
PORT    ?= 3000

.PHONY: run test build deps test-deps lint clean bench-queries bench

deps:
	@./scripts/ensure-deps.sh

test-deps:
	@./scripts/ensure-deps.sh --test

build: deps
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/eventmanager

## run: the server on a private PostgreSQL in ./var/postgres, with demo data and a ready curl line.
run: build
	PORT=$(PORT) exec ./$(BIN) serve --demo

## test: what CI runs.
test: test-deps
	$(GO) vet ./...
	REDISTEST_REQUIRED=1 $(GO) test -race -count=1 -timeout 20m ./...

## bench-queries: median latency of each hot query with and without the index migration (docs/indexes.md).
## Seeds medium in a throwaway database (about 30 s); BENCH_LARGE=1 adds large (seeding about 3 min).
## BENCH_MEDIUM_DATA_DIR / BENCH_LARGE_DATA_DIR reuse a folder seeded with `eventmanager seed` instead.
BENCH_TIME ?= 200x
bench-queries: deps
	BENCH_SCALE=medium BENCH_PG_DATA_DIR=$(BENCH_MEDIUM_DATA_DIR) BENCH_OUT=$(CURDIR)/bin/bench-medium.md \
		$(GO) test -run '^$$' -bench '^BenchmarkHotQueries$$' -benchtime $(BENCH_TIME) -timeout 30m ./internal/seed/
	@if [ "$(BENCH_LARGE)" = 1 ]; then \
		BENCH_SCALE=large BENCH_PG_DATA_DIR=$(BENCH_LARGE_DATA_DIR) BENCH_OUT=$(CURDIR)/bin/bench-large.md \
		$(GO) test -run '^$$' -bench '^BenchmarkHotQueries$$' -benchtime $(BENCH_TIME) -timeout 60m ./internal/seed/; \
	fi

## bench: the API under load (docs/performance.md): runbook, read sweep, mixed and ceilings on a private
## PostgreSQL of its own (var/bench-postgres, not make run's) seeded at medium, about 11 minutes; results in
## bin/bench. It installs wrk if missing (the read sweep's load generator; vegeta drives the rest).
## BENCH_FLAGS adds flags, e.g. BENCH_FLAGS="--scenario overload", "--rounds 3", "--driver vegeta" or
## "--target http://host:3000 --pid N" (see eventmanager bench --help).
BENCH_PG_DATA_DIR ?= var/bench-postgres
bench: build
	@./scripts/ensure-deps.sh --bench
	./$(BIN) bench --data-dir $(BENCH_PG_DATA_DIR) --out bin/bench $(BENCH_FLAGS)

lint:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@latest ./...

clean:
	rm -rf bin
