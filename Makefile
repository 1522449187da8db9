# tenantgate: `make run` to start, `make test` to test, `make bench` to measure.
GO       ?= go
BIN      := bin/tenantgate
CONFIG   := config/tenantgate.yml
KEY      := data/jwt-hmac.key
SECRETS  := data/secrets.key
PKGS     := ./...

.PHONY: all ui build run test test-short bench vet fmt clean

all: build

# The web UI (webui/app, needs Node and npm) builds into webui/dist/build,
# which the binary embeds; without it /app serves a "not built" page.
# `npm install` rather than `npm ci`: the registry mirror here lacks rollup's
# native packages for other platforms, and npm ci then refuses the lock file
# (npm/cli#4828, #9846); npm install keeps the locked versions.
ui:
	cd webui/app && npm install --no-audit --no-fund && npm run build

build: ui
	$(GO) build -o $(BIN) ./cmd/tenantgate

$(KEY):
	@mkdir -p data
	@$(BIN) keygen --out $(KEY) >/dev/null

# The key that encrypts namespace secrets (secrets.encryption_key).
$(SECRETS):
	@mkdir -p data
	@$(BIN) keygen --out $(SECRETS) >/dev/null

run: build $(KEY) $(SECRETS)
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

# The whole suite with the race detector, the web UI built first so the
# browser tests run against it (TENANTGATE_REQUIRE_UI makes a missing build
# fail rather than skip); slow tests skip under -short.
test: ui vet
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	cd webui/app && npm test
	TENANTGATE_REQUIRE_UI=1 $(GO) test -race -count=1 -timeout 9m $(PKGS)

test-short:
	$(GO) test -short -count=1 $(PKGS)

# Benchmarks; results go to BENCHMARKS.md.
bench:
	$(GO) run ./internal/benchreport -out BENCHMARKS.md

clean:
	rm -rf bin
