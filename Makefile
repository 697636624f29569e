# rotor's build. `make demo` and `make test` are the two commands a fresh
# Debian machine with Go needs; both install missing system packages when run
# as root with apt, and print the exact command otherwise.

GO        ?= go
ARCH      ?= arm64
DIST      := dist
# Test timeout for the whole suite; CI's budget is 15 minutes on 2 cores.
TEST_TIMEOUT ?= 12m
# The packages with files built only with the failpoints tag (database
# fault injection, docs/reliability.md), and the tests that need it.
FAILPOINT_PKGS  := ./internal/failpoint/ ./strategies/postgres/ ./strategies/mariadb/ ./rotation/
FAILPOINT_TESTS := TestFaultAtEveryStatementConverges
# Fuzzing time per target: `make fuzz` (FUZZTIME) and the short run in
# `make test` (FUZZTIME_SHORT).
FUZZTIME       ?= 60s
FUZZTIME_SHORT ?= 3s
# Every fuzz target, as package:Target (see docs/reliability.md).
FUZZ_TARGETS := ./events:FuzzSecretDocument ./events:FuzzRotationEvent \
	./events:FuzzRotateNowRequest ./internal/local/awslocal:FuzzRequestDecoder

.PHONY: all build release docs demo test lint secrets fmt deps clean bench fuzz fuzz-short

all: build

## build: each functions/<name> -> dist/<name>.zip with a static bootstrap
## (linux/$(ARCH); ARCH=amd64 to run it here under the emulator)
build:
	$(GO) run ./internal/tools/release build -arch $(ARCH) -out $(DIST)

## release: VERSION=vX.Y.Z -> dist/release/VERSION/: every function for
## arm64 and amd64, the CLI for linux/darwin x amd64/arm64, a CycloneDX SBOM
## per artifact and SHA256SUMS; the same bytes on every build of a tree
release:
	$(GO) run ./internal/tools/release release -version "$(VERSION)" -out $(DIST)/release/$(VERSION)

## deps: system packages the tests and the demo need
deps:
	@bash scripts/ensure-deps.sh postgres mariadb awscli

## demo: rotate a PostgreSQL credential both ways against a throwaway
## PostgreSQL and the local Secrets Manager
demo:
	@bash scripts/ensure-deps.sh postgres
	$(GO) run ./cmd/rotor demo

## test: everything CI runs
test: deps secrets
	gofmt -l . | (! grep .) || (echo "gofmt would change the files above" && exit 1)
	$(GO) vet ./...
	$(GO) vet -tags failpoints $(FAILPOINT_PKGS)
	$(GO) tool staticcheck ./...
	$(GO) test -count=1 -timeout $(TEST_TIMEOUT) ./...
	$(GO) test -count=1 -timeout $(TEST_TIMEOUT) -tags failpoints -run '$(FAILPOINT_TESTS)' ./rotation/
	@$(MAKE) --no-print-directory fuzz-short

## fuzz: run each fuzz target for FUZZTIME (default 60s), one after another
## (go test fuzzes one target per run); a failing input is written to
## <package>/testdata/fuzz/<Target>/ and becomes a regression test
fuzz:
	@for t in $(FUZZ_TARGETS); do \
		echo "fuzz $${t#*:} ($(FUZZTIME))"; \
		$(GO) test -run '^$$' -fuzz "^$${t#*:}$$" -fuzztime $(FUZZTIME) "$${t%%:*}" || exit 1; \
	done

## fuzz-short: each fuzz target for FUZZTIME_SHORT (part of `make test`)
fuzz-short:
	@$(MAKE) --no-print-directory fuzz FUZZTIME=$(FUZZTIME_SHORT)

## lint: go vet and staticcheck (pinned in go.mod as a tool), also over the
## files built only with the failpoints tag (staticcheck with the tag
## analyses every dependency again, so make test leaves it to lint)
lint:
	$(GO) vet ./...
	$(GO) vet -tags failpoints $(FAILPOINT_PKGS)
	$(GO) tool staticcheck ./...
	$(GO) tool staticcheck -tags failpoints $(FAILPOINT_PKGS)

## secrets: fail on a secret committed to this repository, in the tree or
## its history (gitleaks, pinned in go.mod as a tool; allow-list of the
## test fixtures' fake values in .gitleaks.toml)
secrets:
	@GO=$(GO) sh scripts/scan-secrets.sh

## docs: regenerate the input/output tables of the Terraform READMEs
## (CI fails when they are out of date: terraform/readme_test.go)
docs:
	$(GO) run ./internal/tools/tfdocs terraform/modules/* terraform/examples/*

fmt:
	gofmt -w $$(git ls-files '*.go')
	terraform fmt -recursive terraform

## bench: the figures in docs/performance.md and docs/scale.md: a table on
## stdout and bench/results.json (internal/tools/bench; flags via BENCH_FLAGS,
## e.g. BENCH_FLAGS="-rotations 50 -fleet 200"); then the Go micro-benchmarks
bench: deps
	$(GO) run ./internal/tools/bench $(BENCH_FLAGS)
	$(GO) test -run '^$$' -bench 'Scram' ./strategies/postgres/

clean:
	rm -rf $(DIST)
