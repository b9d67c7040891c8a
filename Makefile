# edr — developer entry points. CI runs .ci/run, which calls `make ci`.
GO        ?= go
PKGS      ?= ./...
# The core packages run under the race detector in `make test`.
FUZZTIME  ?= 10s

.PHONY: all build test test-short demo lint vet-windows fuzz-smoke bench ci clean

all: build

build:
	$(GO) build -o bin/edr ./cmd/edr

test:
	$(GO) test -race -timeout 45m $(PKGS)

test-short:
	$(GO) test -short $(PKGS)

lint:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

vet-windows:
	GOOS=windows $(GO) vet $(PKGS)
	GOOS=windows CGO_ENABLED=0 $(GO) build -o /dev/null ./cmd/edr

# Every fuzz target, briefly: scripts/fuzz-smoke.sh lists them with go test -list.
fuzz-smoke:
	FUZZTIME=$(FUZZTIME) ./scripts/fuzz-smoke.sh

bench:
	$(GO) test -run XXX -bench . -benchmem -count 5 $(PKGS)

ci: lint vet-windows test fuzz-smoke

clean:
	rm -rf bin demo-out
