# edr — developer entry points. CI runs .ci/run, which calls `make ci`.
GO        ?= go
FUZZTIME  ?= 10s
# `make test` runs every package under the race detector (measured well
# inside CI's budget on 2 cores; see README "Development").
TEST_PKGS ?= ./...
DEMO_DIR  ?= demo-out
DEMO_EVENTS ?= 200000

.PHONY: all deps build test test-short demo lint vet-windows fuzz-smoke bench ci clean

all: build

# System packages (libyara-dev, pkg-config, a C compiler), installed only
# when missing; checks that Go is 1.26.
deps:
	./scripts/deps.sh

build: deps
	$(GO) build -o bin/edr ./cmd/edr

# The main job on shipped defaults: a synthetic recording with embedded
# attacks, then its summary.
demo: build
	rm -rf $(DEMO_DIR)
	./bin/edr generate --out $(DEMO_DIR)/recording --events $(DEMO_EVENTS) --seed 1
	./bin/edr inspect $(DEMO_DIR)/recording
	./bin/edr replay --alerts $(DEMO_DIR)/alerts.json --print $(DEMO_DIR)/recording

test: deps
	$(GO) test -race -timeout 60m $(TEST_PKGS)

test-short:
	$(GO) test -short ./...

lint:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

vet-windows:
	GOOS=windows $(GO) vet ./...
	GOOS=windows CGO_ENABLED=0 $(GO) build -o /dev/null ./cmd/edr
	GOOS=windows CGO_ENABLED=0 $(GO) build -tags noyara -o /dev/null ./cmd/edr

# Every fuzz target, briefly: scripts/fuzz-smoke.sh lists them with go test -list.
fuzz-smoke:
	FUZZTIME=$(FUZZTIME) ./scripts/fuzz-smoke.sh

bench:
	$(GO) test -run XXX -bench . -benchmem -count 5 ./...

ci: lint vet-windows test fuzz-smoke demo

clean:
	rm -rf bin $(DEMO_DIR)
