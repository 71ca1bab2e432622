# Mailroom: `make run` builds and serves the app; `make test` runs every test.
# Both bootstrap the toolchain first (scripts/bootstrap.sh; quick when everything is there).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
export PATH := $(CURDIR)/end2end/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)

SERVER := target/release/mailroom

.PHONY: run test bench attack build bootstrap bootstrap-test frontend server test-rust test-e2e clean

run: build
	$(SERVER)

test: bootstrap-test build test-rust test-e2e

bootstrap:
	scripts/bootstrap.sh

bootstrap-test:
	scripts/bootstrap.sh --test

build: bootstrap frontend server

# The wasm front end, with Trunk (Trunk.toml), into target/site/pkg; then .gz/.br beside each file.
frontend:
	source target/bootstrap.env && trunk build --config Trunk.toml
	node scripts/precompress.mjs target/site/pkg

server:
	cargo build --release -p server --bin mailroom

# app and server together: app's server-side code is compiled with `ssr` only (never `hydrate`).
test-rust:
	cargo test -p app -p server

test-e2e:
	cd end2end && npx playwright test

# Benchmarks print figures (no thresholds): durable save round trip, keystroke to validation message.
bench: bootstrap-test build
	cargo bench -p server --bench save_roundtrip
	cargo bench -p server --bench test_send_vs_swaks
	cd end2end && npx playwright test --config playwright.bench.config.ts

# The hardening issue's attacks at full size against the release binary; prints figures and
# fails if a bound breaks.
attack: bootstrap-test build
	cargo bench -p server --bench attack

clean:
	cargo clean
	rm -rf end2end/node_modules end2end/test-results
