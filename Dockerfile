# syntax=docker/dockerfile:1
#
# Binder image: `cargo leptos build --release` in a Rust builder, then the server binary and
# its site (WASM, JS, CSS, assets) on Debian slim, run as an unprivileged user.
#   docker build -t binder:local .
# Tool versions follow shared/TOOLCHAIN.md; scripts/check-ops checks that
# WASM_BINDGEN_VERSION equals the wasm-bindgen version in Cargo.lock.

# ---- tools: everything cargo-leptos needs, cached apart from the source ----
FROM rust:1.95.0-trixie AS tools

ARG CARGO_LEPTOS_VERSION=0.3.10
ARG WASM_BINDGEN_VERSION=0.2.130

RUN apt-get update \
 && apt-get install -y --no-install-recommends nodejs npm \
 && rm -rf /var/lib/apt/lists/*
RUN rustup target add wasm32-unknown-unknown
RUN cargo install cargo-leptos --locked --version "${CARGO_LEPTOS_VERSION}"
# Without --locked: wasm-bindgen-cli's own lockfile pins a crate version the registry
# does not serve. cargo-leptos would otherwise try to download it from GitHub.
RUN cargo install wasm-bindgen-cli --version "${WASM_BINDGEN_VERSION}"

# ---- build ----
FROM tools AS build
WORKDIR /src

# wasm-opt comes from the npm package `binaryen` (end2end devDependency); Debian's
# binaryen produces a WASM that fails to hydrate. No browser download for Playwright.
COPY end2end/package.json end2end/package-lock.json end2end/
RUN cd end2end \
 && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
ENV PATH="/src/end2end/node_modules/.bin:${PATH}" \
    SQLX_OFFLINE=true

COPY . .
RUN --mount=type=cache,id=binder-cargo-registry,target=/usr/local/cargo/registry \
    --mount=type=cache,id=binder-cargo-git,target=/usr/local/cargo/git \
    --mount=type=cache,id=binder-target,target=/src/target \
    cargo leptos build --release \
 && mkdir -p /out target/site/docs \
 && cp end2end/node_modules/swagger-ui-dist/swagger-ui-bundle.js \
       end2end/node_modules/swagger-ui-dist/swagger-ui.css \
       end2end/node_modules/swagger-ui-dist/favicon-32x32.png \
       end2end/node_modules/swagger-ui-dist/LICENSE target/site/docs/ \
 && cp target/release/binder /out/binder \
 && cp -r target/site /out/site

# ---- runtime ----
FROM debian:13.2-slim AS runtime

RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 binder \
 && useradd --system --uid 10001 --gid binder --home-dir /nonexistent \
      --no-create-home --shell /usr/sbin/nologin binder

WORKDIR /app
COPY --from=build /out/binder /usr/local/bin/binder
COPY --from=build /out/site /app/site

# Leptos reads its site layout from LEPTOS_* at run time (the Cargo.toml metadata is a
# build-time input). Migrations are embedded in the binary.
ENV LEPTOS_OUTPUT_NAME=binder \
    LEPTOS_SITE_ROOT=site \
    LEPTOS_SITE_PKG_DIR=pkg \
    LEPTOS_SITE_ADDR=0.0.0.0:3000 \
    LEPTOS_ENV=PROD \
    BINDER_ADDR=0.0.0.0:3000 \
    BINDER_LOG_FORMAT=json

USER 10001:10001
EXPOSE 3000

# Liveness only: readiness (/readyz, which also needs Postgres) is Compose's healthcheck.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:3000/livez"]

ENTRYPOINT ["binder"]
CMD ["serve"]
