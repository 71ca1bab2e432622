# Mailroom: `make run` builds and serves the app; `make test` runs every test.
# Both bootstrap the toolchain first (scripts/bootstrap.sh; quick when everything is there).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
export PATH := $(CURDIR)/end2end/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)

SERVER := target/release/mailroom

.PHONY: run test bench size twiggy attack build bootstrap bootstrap-test bootstrap-bench frontend server test-rust test-e2e clean

run: build
	$(SERVER)

test: bootstrap-test build test-rust test-e2e

bootstrap:
	scripts/bootstrap.sh

bootstrap-test:
	scripts/bootstrap.sh --test

bootstrap-bench:
	scripts/bootstrap.sh --bench

build: bootstrap frontend server

# The wasm front end, with Trunk (Trunk.toml), into target/site/pkg; then .gz/.br beside each file.
frontend:
	source target/bootstrap.env && trunk build --config Trunk.toml
	node scripts/precompress.mjs target/site/pkg

server:
	cargo build --release -p server --bin mailroom

# app and server together: app's server-side code is compiled with `ssr` only (never `hydrate`).
# Then the store's conformance suite and the whole integration suite again on PostgreSQL
# (each test binary starts a cluster of its own: server/testpg).
# The tests serve pages on their own threads: the same stack as the server's (memory.rs).
test-rust: export RUST_MIN_STACK = 8388608
test-rust:
	cargo test -p domain -p engine -p app -p server -p testpg
	MAILROOM_TEST_STORE=postgres cargo test -p engine --lib
	MAILROOM_TEST_STORE=postgres cargo test -p server --test api

test-e2e:
	cd end2end && npx playwright test

# Benchmarks print figures (no thresholds): durable save round trip, test send beside swaks,
# durable enqueue, the outbox's drain into smtp-sink beside smtp-source, keystroke to
# validation message, and the pages' weight and time to interactive (`size`).
bench: bootstrap-bench build
	cargo bench -p server --bench save_roundtrip
	cargo bench -p server --bench test_send_vs_swaks
	cargo bench -p server --bench outbox_enqueue
	cargo bench -p server --bench outbox_drain
	cargo bench -p server --bench smtp_intake
	cd end2end && npx playwright test --config playwright.bench.config.ts
	$(MAKE) --no-print-directory twiggy

# Each page's bytes on the wire (brotli and gzip, cold cache), time to interactive on an
# emulated slow link, the settings page's length at 1280 × 800, keystroke to message, each
# beside its goal (issue 25); then the twiggy top 20 of the wasm before wasm-opt.
size: bootstrap-bench build
	cd end2end && npx playwright test --config playwright.bench.config.ts bench/pages.bench.ts bench/keystroke.bench.ts
	$(MAKE) --no-print-directory twiggy

# wasm-bindgen's output of the release wasm (names kept, before wasm-opt), ranked by twiggy.
twiggy:
	source target/bootstrap.env && wasm-bindgen --target web --out-dir target/size \
	  target/wasm32-unknown-unknown/wasm-release/frontend.wasm
	@echo "twiggy top 20 of the front end's wasm (after wasm-bindgen, before wasm-opt):"
	twiggy top -n 20 target/size/frontend_bg.wasm

# The hardening issue's attacks at full size against the release binary; prints figures and
# fails if a bound breaks.
attack: bootstrap-test build
	cargo bench -p server --bench attack

clean:
	cargo clean
	rm -rf end2end/node_modules end2end/test-results
