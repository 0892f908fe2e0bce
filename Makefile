# creditgate: `make run` starts the gateway with demo data; `make test` runs
# every check CI runs.

GO ?= go
PKGS := ./...

.PHONY: run build test vet generate check-generated test-go fuzz verify clean

## run: build and start the gateway on SQLite with demo data, printing tokens
run:
	DEMO=1 $(GO) run ./server

## build: the gateway binary in bin/
build:
	$(GO) build -o bin/creditgate ./server

## test: vet, generated-code drift, unit and database tests on PostgreSQL and SQLite, a short fuzz
test: vet check-generated test-go fuzz

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { echo "gofmt would change:"; gofmt -l .; exit 1; }
	$(GO) vet $(PKGS)

generate:
	$(GO) generate $(PKGS)

check-generated:
	./scripts/check-generated.sh

test-go:
	./scripts/with-postgres.sh $(GO) test -race -count=1 $(PKGS)

## fuzz: a short run of each fuzz target (longer: make fuzz FUZZTIME=5m)
FUZZTIME ?= 10s
fuzz:
	$(GO) test ./money -run '^$$' -fuzz FuzzParseFormat -fuzztime $(FUZZTIME)
	$(GO) test ./money -run '^$$' -fuzz FuzzFormatParse -fuzztime $(FUZZTIME)

## verify: check the ledger invariants of the configured database
verify:
	$(GO) run ./server verify

clean:
	rm -rf bin data
