# tenantgate: `make run` to start, `make test` to test, `make bench` to measure.
GO       ?= go
BIN      := bin/tenantgate
CONFIG   := config/tenantgate.yml
KEY      := data/jwt-hmac.key
PKGS     := ./...

.PHONY: all ui build run test test-short bench vet fmt clean

all: build

# The web UI (webui/app, needs Node and npm) builds into webui/dist/build,
# which the binary embeds; without it /app serves a "not built" page.
ui:
	cd webui/app && npm ci --no-audit --no-fund && npm run build

build: ui
	$(GO) build -o $(BIN) ./cmd/tenantgate

$(KEY):
	@mkdir -p data
	@$(BIN) keygen --out $(KEY) >/dev/null

run: build $(KEY)
	@echo "tenantgate on http://127.0.0.1:5601 (data in ./data, config $(CONFIG))"
	@echo "In another shell, mint a token and call the API:"
	@echo '  TOKEN=$$($(BIN) token --config $(CONFIG) --sub alice --roles analyst --ttl 1h)'
	@echo '  curl -s -H "Authorization: Bearer $$TOKEN" -H "securitytenant: analysts" -H "Content-Type: application/json" -X POST "http://127.0.0.1:5601/logs/_doc?refresh=true" -d "{\"msg\":\"hello\"}"'
	@echo '  curl -s -H "Authorization: Bearer $$TOKEN" -H "securitytenant: analysts" "http://127.0.0.1:5601/logs/_search?q=msg:hello"'
	$(BIN) serve --config $(CONFIG)

vet:
	$(GO) vet $(PKGS)

fmt:
	gofmt -l -w $$(git ls-files '*.go')

# The whole suite with the race detector; slow tests skip under -short.
test: vet
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) test -race -count=1 -timeout 9m $(PKGS)

test-short:
	$(GO) test -short -count=1 $(PKGS)

# Benchmarks; results go to BENCHMARKS.md.
bench:
	$(GO) run ./internal/benchreport -out BENCHMARKS.md

clean:
	rm -rf bin
