# The README's two commands: `make run` and `make test`. Both install what is missing first.
GO      ?= go
BIN     := bin/eventmanager
VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/eventmanager/eventmanager/internal/cli.Version=$(VERSION)
PORT    ?= 3000

.PHONY: run test build deps lint clean

deps:
	@./scripts/ensure-deps.sh

build: deps
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/eventmanager

## run: the server on a private PostgreSQL in ./var/postgres, with demo data and a ready curl line.
run: build
	PORT=$(PORT) exec ./$(BIN) serve --demo

## test: what CI runs.
test: deps
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 20m ./...

lint:
	gofmt -l . | tee /dev/stderr | (! read)
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@latest ./...

clean:
	rm -rf bin
