# Every target documents itself: a "## " comment after the target's name is
# what `make help` prints.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# A toolchain that scripts/setup.sh installed (only when none was usable) comes
# first on PATH.
GO_VERSION := $(shell awk '$$1 == "go" {print $$2; exit}' go.mod)
export PATH := $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/soteai/go-$(GO_VERSION)/bin:$(PATH)

PKGS ?= ./...
TESTFLAGS ?=
STACK ?= test
BENCHFLAGS ?= -benchmem

.PHONY: help setup run test bench lint verify stack stack-stop clean

help: ## show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-11s %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@echo "  variables: PKGS=$(PKGS) TESTFLAGS='$(TESTFLAGS)' STACK=$(STACK) (test), BENCHFLAGS='$(BENCHFLAGS)' (bench)"

setup: ## install what the stack and tests need (apt packages, pgvector, ollama, Go modules); cached
	@scripts/setup.sh

run: setup ## start PostgreSQL + Ollama + the gateway on loopback ports (Ctrl-C stops all)
	@scripts/run.sh

test: setup lint ## run all tests against a real PostgreSQL and Ollama, started and stopped around them
	@PKGS='$(PKGS)' TESTFLAGS='$(TESTFLAGS)' STACK='$(STACK)' scripts/test.sh

bench: setup ## run the benchmarks against the real stack
	@scripts/with-stack.sh bench go test -count=1 -p 1 -run '^$$' -bench . $(BENCHFLAGS) $(PKGS)

lint: ## go vet + gofmt check
	go vet $(PKGS)
	@out=$$(gofmt -l .); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

verify: ## check that go.mod and go.sum are tidy
	go mod tidy -diff

stack: setup ## start the dev stack alone; then: source .local/dev/stack.env
	@scripts/stack.sh start dev
	@echo "source .local/dev/stack.env   # then: go test ./yourpkg/...;  make stack-stop when done"

stack-stop: ## stop the dev stack
	@scripts/stack.sh stop dev

clean: ## stop every local stack and delete .local/
	@for d in .local/*/; do \
	  [ -f "$$d/stack.env" ] || [ -d "$$d/pg" ] || continue; \
	  scripts/stack.sh stop "$$(basename "$$d")"; \
	  if [ -L "$$d/pg" ]; then rm -rf "$$(readlink "$$d/pg")"; fi; \
	done
	rm -rf .local

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
BUILD_DATE ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
DIST_LDFLAGS = -s -w -X github.com/soteai/gateway/cmd/internal/buildinfo.Version=$(VERSION) \
	-X github.com/soteai/gateway/cmd/internal/buildinfo.Commit=$(COMMIT) \
	-X github.com/soteai/gateway/cmd/internal/buildinfo.Date=$(BUILD_DATE)

.PHONY: dist image
dist: ## build versioned static binaries (assistd, assist) and a tarball under dist/
	@scripts/dist.sh "$(VERSION)" '$(DIST_LDFLAGS)'

image: dist ## build the OCI image (no Docker daemon) under dist/ from the static binaries
	@scripts/image.sh "$(VERSION)"
