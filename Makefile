# creditgate: `make run` starts the gateway with demo data; `make test` runs
# every check CI runs.

GO ?= go
PKGS := ./...

.PHONY: run build docker-binary test vet generate check-generated check-client-types client-types test-go fuzz audit bench bench-export verify clean web screenshots

## run: build and start the gateway on SQLite with demo data, printing tokens
## and the portal and dashboard URLs
run:
	DEMO=1 WEBHOOK_ALLOW_PRIVATE=true $(GO) run ./server

## build: the gateway binary in bin/
build:
	$(GO) build -o bin/creditgate ./server

## docker-binary: the container's binary without Docker, with the Dockerfile's
## flags (static: CGO_ENABLED=0, -trimpath, version stamps); server/docker_test.go
## checks that the two agree and builds it
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
DATE ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
DOCKER_BINARY ?= bin/creditgate-static
docker-binary:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT) -X main.date=$(DATE)" -o $(DOCKER_BINARY) ./server

## test: vet, generated-code drift (Go and the TypeScript clients), unit and
## database tests on PostgreSQL and SQLite, a short fuzz
test: vet check-generated check-client-types test-go fuzz

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { echo "gofmt would change:"; gofmt -l .; exit 1; }
	$(GO) vet $(PKGS)

generate:
	$(GO) generate $(PKGS)

check-generated:
	./scripts/check-generated.sh

## client-types: extract the portal's and dashboard's GraphQL documents from
## web/assets/js/*.js into web/graphql/ and generate their typed operations
## (TypeScript, graphql-codegen) into clients/typescript/src/; needs Node 20+
## (npm ci from clients/typescript/package-lock.json the first time). Commit
## the result.
client-types:
	./scripts/client-types.sh

## check-client-types: fail when the committed typed clients drift (skipped
## without Node unless CI is set)
check-client-types:
	./scripts/check-client-types.sh

## test-go: every package under -race on PostgreSQL and SQLite; ./server (browser
## tests, the static binary) takes 6-9 of go test's default 10 minutes on a
## loaded 2-core machine, hence the longer timeout
test-go:
	./scripts/with-postgres.sh $(GO) test -race -count=1 -timeout 15m $(PKGS)

## fuzz: a short run of each fuzz target (longer: make fuzz FUZZTIME=5m)
FUZZTIME ?= 10s
fuzz:
	$(GO) test ./money -run '^$$' -fuzz FuzzParseFormat -fuzztime $(FUZZTIME)
	$(GO) test ./money -run '^$$' -fuzz FuzzFormatParse -fuzztime $(FUZZTIME)
	$(GO) test ./anyjson -run '^$$' -fuzz FuzzValue -fuzztime $(FUZZTIME)
	$(GO) test ./server -run '^$$' -fuzz FuzzGraphQLHandler -fuzztime $(FUZZTIME)

## audit: GraphQL-over-HTTP conformance (graphql-http's audit, Node) against a throwaway gateway on SQLite
audit:
	GO=$(GO) ./scripts/audit/run.sh

## bench: the load generator against a fresh PostgreSQL database, each
## scenario alternated with its pgbench ceiling; writes bench/results/latest.md
## (BENCH_ARGS, e.g. "-scenarios pay-hot -clients 32 -rounds 3")
bench:
	@command -v pgbench >/dev/null || { apt-get install -y -qq postgresql-contrib >/dev/null 2>&1 || { echo "pgbench is missing: apt-get install postgresql-contrib"; exit 1; }; }
	$(GO) run ./bench $(BENCH_ARGS)

## bench-export: the CSV export of 1,000,000 rows through the gateway on
## PostgreSQL; fails if the gateway's peak heap reaches 50 MiB
bench-export:
	./scripts/with-postgres.sh $(GO) test ./server -run '^$$' -bench BenchmarkHistoryExportCSV -benchtime 1x

## verify: check the ledger invariants of the configured database
verify:
	$(GO) run ./server verify

## web: rebuild the one third-party file the portal and dashboard load (the
## graphql-ws client, bundled by esbuild) from web/package-lock.json; needs
## Node and npm. Commit the result: `go build` embeds it and needs no Node.
web:
	cd web && npm ci --no-audit --no-fund && npm run build

## screenshots: run the browser tests (headless Chromium) and copy the
## portal's (with its payment settings) and the dashboard's screenshots to docs/
screenshots:
	UPDATE_SCREENSHOTS=1 ./scripts/with-postgres.sh $(GO) test ./server -run '^TestBrowser(Settings)?$$' -count=1 -v

clean:
	rm -rf bin data
