#!/usr/bin/env bash
# Installs every tool Mailroom's build and tests need, from the package registries and rustup
# only. Idempotent: each step checks first, so a second run takes a second or two.
#
#   scripts/bootstrap.sh          what `make run` needs (wasm target, wasm-bindgen, trunk, npm deps)
#   scripts/bootstrap.sh --test   also what `make test` needs (chromium, the SMTP test server)
#   scripts/bootstrap.sh --bench  also what `make bench` / `make size` need (twiggy, postfix's
#                                 smtp-sink and smtp-source)
#
# Writes target/bootstrap.env, sourced by the Makefile before the front-end build (and only
# there): the wasm's standard library rebuilt for size with panics that abort at once (README,
# "The front end's size"), and on the fallback route the Debian rustc-web settings.
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
want_bench=0
[ "${1:-}" = "--test" ] && want_test=1
[ "${1:-}" = "--bench" ] && want_test=1 && want_bench=1

TRUNK_VERSION=0.21.14
TWIGGY_VERSION=0.8.0
log() { printf '[bootstrap] %s\n' "$*"; }
have() { command -v "$1" >/dev/null 2>&1; }

apt_updated=0
apt_install() {
  if [ "$(id -u)" -ne 0 ]; then
    log "need Debian packages: $*; run as root or install them, then re-run"; exit 1
  fi
  if [ $apt_updated -eq 0 ]; then apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

mkdir -p target
env_file=target/bootstrap.env
: > "$env_file.tmp"

# The front end's standard library, rebuilt with it (-Zbuild-std): panics abort at once, without
# the formatting machinery a panic message needs (about 15 KB brotli of the wasm). Nightly flags
# on the stable compiler (RUSTC_BOOTSTRAP), for the wasm build alone.
build_std_env() {
  cat <<'ENV'
export RUSTC_BOOTSTRAP=1
export CARGO_UNSTABLE_BUILD_STD=std,panic_abort
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort"
ENV
}

# 1. The wasm32 target: rustup first, Debian's rustc-web as the fallback.
if rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown \
  || { have rustup && rustup target add wasm32-unknown-unknown && log "added the wasm32-unknown-unknown target"; }; then
  # The standard library's sources, for -Zbuild-std; without them the wasm is built as it
  # comes (larger, the same behaviour).
  if rustup component list --installed 2>/dev/null | grep -q '^rust-src' \
    || { rustup component add rust-src && log "added the rust-src component"; }; then
    build_std_env > "$env_file.tmp"
  else
    log "rustup cannot add rust-src: the wasm is built without -Zbuild-std (about 15 KB larger)"
  fi
else
  log "rustup cannot add wasm32-unknown-unknown: using Debian's rustc-web with build-std"
  dpkg -s rustc-web cargo-web rust-web-src lld-22 >/dev/null 2>&1 || apt_install rustc-web cargo-web rust-web-src lld-22
  cat > "$env_file.tmp" <<'ENV'
export PATH=/usr/bin:$PATH
export RUSTC=/usr/bin/rustc
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER=/usr/lib/llvm-22/bin/wasm-ld
ENV
  build_std_env >> "$env_file.tmp"
fi
mv "$env_file.tmp" "$env_file"
# The standard library's own dependencies, fetched once (Trunk builds offline).
if grep -q CARGO_UNSTABLE_BUILD_STD "$env_file"; then
  (source "$env_file" && cargo fetch --target wasm32-unknown-unknown --manifest-path frontend/Cargo.toml >/dev/null 2>&1) \
    || log "cargo could not fetch the standard library's dependencies; the front-end build will say which"
fi

# 2. wasm-bindgen-cli at exactly the version Cargo.lock resolves.
wb_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$wb_version" ]; then
  log "installing wasm-bindgen-cli $wb_version (a few minutes, once)"
  # Not --locked: its lock file pins a webpki-roots version the registry mirror lacks.
  cargo install wasm-bindgen-cli --version "=$wb_version"
fi
if ! grep -q "wasm_bindgen = \"$wb_version\"" Trunk.toml; then
  log "Trunk.toml's [tools] wasm_bindgen differs from Cargo.lock's wasm-bindgen $wb_version: update Trunk.toml"; exit 1
fi

# 3. Trunk (0.21.x builds with rustc 1.95; 0.22 needs 1.96.1).
if [ "$(trunk --version 2>/dev/null | awk '{print $2}')" != "$TRUNK_VERSION" ]; then
  log "installing trunk $TRUNK_VERSION (a few minutes, once)"
  cargo install trunk --version "$TRUNK_VERSION" --locked
fi

# 4. Node.js packages: binaryen's wasm-opt for Trunk, Playwright for the browser tests.
if ! have npm; then apt_install nodejs npm; fi
if [ ! -f end2end/node_modules/.package-lock.json ] || [ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]; then
  log "npm ci in end2end/"
  (cd end2end && npm ci --no-audit --no-fund --loglevel=error)
fi

if [ $want_test -eq 1 ]; then
  # 5. Debian's Chromium for Playwright (npx playwright install would download a browser).
  if [ ! -x /usr/bin/chromium ]; then
    log "installing Debian chromium"
    apt_install chromium
  fi
  # swaks: the reference SMTP client the test-send benchmark compares with.
  have swaks || apt_install swaks
  # Prometheus Alertmanager: the webhook tests start one that notifies the test app.
  have prometheus-alertmanager || apt_install prometheus-alertmanager
  # Prometheus and promtool: the metrics test scrapes the real binary and checks the format.
  have promtool || apt_install prometheus
  # curl: the Zabbix media type's test runs its script with curl as Zabbix's HttpRequest.
  have curl || apt_install curl
  # PostgreSQL's server programs (initdb, pg_ctl): the tests start clusters of their own
  # (server/testpg); no cluster of the package's is used.
  if ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
    log "installing Debian postgresql"
    apt_install postgresql
  fi
  # 6. Python environments, each pinned by its requirements file and rebuilt when that changes:
  #    target/smtp-venv (aiosmtpd, cryptography) for the SMTP test server, and
  #    target/schemathesis-venv for the HTTP API's contract test.
  python_env() {
    local venv=$1 requirements=$2 what=$3
    if [ ! -x "$venv/bin/python" ] || ! cmp -s "$requirements" "$venv/.requirements"; then
      log "creating $venv for $what"
      rm -rf "$venv"
      python3 -m venv "$venv" 2>/dev/null || { apt_install python3-venv; python3 -m venv "$venv"; }
      "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
      cp "$requirements" "$venv/.requirements"
    fi
  }
  python_env target/smtp-venv scripts/requirements-test.txt "the SMTP test server"
  python_env target/schemathesis-venv scripts/requirements-contract.txt "the HTTP API's contract test"
fi
if { [ $want_bench -eq 1 ] || [ $want_test -eq 1 ]; } && ! have smtp-sink; then
  # 8. Postfix's smtp-sink and smtp-source: the benchmarks' sink and reference, and a client of
  #    the SMTP listener's tests.
  #    Installed unconfigured, so no mail system is set up on this machine.
  log "installing postfix (smtp-sink, smtp-source) without configuration"
  if [ "$(id -u)" -eq 0 ]; then
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  fi
  apt_install postfix
fi
if [ $want_bench -eq 1 ] && [ "$(twiggy --version 2>/dev/null | awk '{print $2}')" != "$TWIGGY_VERSION" ]; then
  # 7. twiggy: what the wasm's bytes are made of (`make size`).
  log "installing twiggy $TWIGGY_VERSION (a few minutes, once)"
  cargo install twiggy --version "$TWIGGY_VERSION" --locked
fi
log "ready"
