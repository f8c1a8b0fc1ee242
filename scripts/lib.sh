# Shared set-up for scripts/run, scripts/test and .ci/run: installs the build tools a fresh
# Debian machine lacks (each skipped when already present) and makes sure Postgres and Redis
# answer. Sourced, not run.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PATH="$HOME/.cargo/bin:$ROOT/end2end/node_modules/.bin:$PATH"
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}

CARGO_LEPTOS_VERSION=0.3.10
PG_HOST=127.0.0.1
PG_PORT=5432
REDIS_PORT=6379

say() { printf '==> %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else say "need root for: $*"; return 1
  fi
}

apt_updated=
apt_install() {
  if [ -z "$apt_updated" ]; then
    as_root apt-get update -qq >/dev/null
    apt_updated=1
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# The wasm-bindgen version Cargo.lock pins; the CLI must match it exactly.
wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock"
}

ensure_rust_tools() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    say "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
  if [ "$(cargo leptos --version 2>/dev/null | awk '{print $2}')" != "$CARGO_LEPTOS_VERSION" ]; then
    say "installing cargo-leptos $CARGO_LEPTOS_VERSION (about 12 minutes on 2 cores, once)"
    cargo install cargo-leptos --locked --version "$CARGO_LEPTOS_VERSION"
  fi
  local wbg
  wbg=$(wasm_bindgen_version)
  if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$wbg" ]; then
    say "installing wasm-bindgen-cli $wbg (matches Cargo.lock; about 2 minutes, once)"
    # Not --locked: its own lockfile pins a crate version the registry no longer serves.
    cargo install wasm-bindgen-cli --version "$wbg" --force
  fi
}

# end2end/node_modules holds Playwright and wasm-opt (npm `binaryen`; Debian's breaks hydration).
ensure_node_packages() {
  local stamp="$ROOT/end2end/node_modules/.package-lock.json"
  if [ ! -f "$stamp" ] || ! cmp -s "$ROOT/end2end/package-lock.json" "$ROOT/end2end/node_modules/.binder-lock"; then
    say "installing end2end node packages (npm ci)"
    (cd "$ROOT/end2end" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
    cp "$ROOT/end2end/package-lock.json" "$ROOT/end2end/node_modules/.binder-lock"
  fi
}

ensure_chromium() {
  if ! command -v chromium >/dev/null 2>&1; then
    say "installing Debian's chromium for the browser tests"
    apt_install chromium
  fi
}

ensure_nextest() {
  if ! cargo nextest --version >/dev/null 2>&1; then
    say "installing cargo-nextest"
    cargo install cargo-nextest --locked
  fi
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for_port() {
  local i
  for i in $(seq 1 50); do
    port_open "$1" && return 0
    sleep 0.2
  done
  return 1
}

# Postgres must answer; start a stopped local cluster; explain in one line if none exists.
ensure_postgres() {
  port_open "$PG_PORT" && return 0
  if [ -d /etc/postgresql ] && command -v pg_ctlcluster >/dev/null 2>&1; then
    say "starting the local Postgres cluster"
    as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n 1)" main start || true
    wait_for_port "$PG_PORT" && return 0
  fi
  say "Postgres is not running on $PG_HOST:$PG_PORT. Install it with: sudo apt-get install -y postgresql (or set DATABASE_URL)"
  return 1
}

# Redis is optional for running Binder (it starts degraded) but needed by the tests.
ensure_redis() {
  port_open "$REDIS_PORT" && return 0
  if command -v redis-server >/dev/null 2>&1; then
    say "starting a local Redis"
    redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no >/dev/null
    wait_for_port "$REDIS_PORT" && return 0
  fi
  say "Redis is not running on 127.0.0.1:$REDIS_PORT. Install it with: sudo apt-get install -y redis-server"
  return 1
}

# Builds the release server and the optimised WASM bundle into target/release and target/site.
build_release() {
  say "building Binder (release: server + optimised WASM bundle)"
  (cd "$ROOT" && cargo leptos build --release) && copy_docs_assets
}

# Swagger UI for /docs, from the npm package swagger-ui-dist (end2end's devDependencies) into
# the site root, where the binary serves static files: nothing is downloaded at run time and
# nothing is vendored into git.
copy_docs_assets() {
  local from="$ROOT/end2end/node_modules/swagger-ui-dist" to="$ROOT/target/site/docs"
  if [ ! -f "$from/swagger-ui-bundle.js" ]; then
    say "swagger-ui-dist is not installed (run: cd end2end && npm ci); /docs will say so"
    return 0
  fi
  mkdir -p "$to"
  cp "$from/swagger-ui-bundle.js" "$from/swagger-ui.css" "$from/favicon-32x32.png" "$from/LICENSE" "$to/"
}
