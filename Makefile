# kong-functions: Kong's pre-function/post-function as one proxy-wasm filter.
#   make demo   build everything, run the seed's custom-auth walkthrough through the .wasm
#   make test   build, then run every test (filter unit tests, harness, integration)
#   make bench  the benchmark suite (tests/bench; BENCHMARKS.md records a run), then bench-e2e
#   make bench-e2e  the scenarios over HTTP under wrk: ours, no-op, Rust, nginx, OpenResty
#   make profile SCENARIO=s2  wasmtime's guest profiler on one scenario (target/profile/)
#   make fuzz   the AFL++ fuzz targets (tests/fuzz), FUZZ_SECONDS each, one at a time
#   make oci    the shipped module as an OCI image (target/oci/): Istio, Envoy Gateway
#   make soak   1,000,000 requests and 10,000 reconfigurations through one instance, memory sampled
#   make pdk-conformance KONG=path  Kong's own t/01-pdk tests through the .wasm (a Kong checkout you fetch)
#   make pdk-names KONG=path  regenerate src/pdk/kong_pdk_functions.txt (needs luajit)

WASM_TARGET := wasm32-wasip1
# cargo's module, and the one we ship and test: the same after `wasm-opt $(WASM_OPT_FLAGS)`.
# -Oz rather than -O3: 25.6 KB smaller (issue 15: under 1.5 MiB), S1-S5 per request not
# slower in the benchmark (measured back to back; see the commit that made it -Oz).
WASM_OPT_FLAGS := -Oz
WASM        := target/$(WASM_TARGET)/release/kong_functions.wasm
WASM_OPT    := target/kong_functions.wasm
HARNESS     := cargo run --quiet -p wasm-harness --

.PHONY: ngx-re-reference wasi-clang build wasm harness serve oci pdk-conformance pdk-conformance-check pdk-names test fuzz soak test-native test-wasm test-configs luajit binaryen demo bench bench-inproc bench-e2e bench-filters puc-lua openresty profile clean toolchain

build: wasm harness

# The wasm32-wasip1 target is installed on first use.
toolchain:
	@rustup target list --installed | grep -qx '$(WASM_TARGET)' || rustup target add $(WASM_TARGET)

wasm: toolchain wasi-clang binaryen
	cargo build --release --target $(WASM_TARGET) -p kong-functions -p harness-probe-filter
	wasm-opt $(WASM_OPT_FLAGS) $(WASM) -o $(WASM_OPT)
	@ls -l $(WASM) $(WASM_OPT) | awk '{ print "built " $$9 ": " $$5 " bytes" }'

# ngx.re's PCRE2 (C, compiled by the pcre2-sys crate) and baseline B3 need a C compiler for
# wasm32-wasip1: Debian's clang 14, llvm-ar (package llvm), lld, wasi-libc and the wasm32
# compiler-rt, installed when missing (.cargo/config.toml's [env] points cc at them).
wasi-clang:
	@{ command -v clang && command -v llvm-ar && test -f /usr/include/wasm32-wasi/stdio.h; } >/dev/null || \
	 { apt-get update -qq && apt-get install -y -qq clang llvm lld wasi-libc libclang-rt-14-dev-wasm32 >/dev/null; } || \
	 { echo "wasm32-wasip1 C builds need: apt-get install clang llvm lld wasi-libc libclang-rt-14-dev-wasm32"; exit 1; }

# wasm-opt (binaryen) shrinks the module by about 30%.
binaryen:
	@command -v wasm-opt >/dev/null || { apt-get update -qq && apt-get install -y -qq binaryen >/dev/null; } || \
		{ echo "wasm-opt is needed: apt-get install binaryen"; exit 1; }

harness:
	cargo build -p wasm-harness

test: test-native test-wasm test-configs

# The shipped host configs (envoy/envoy.yaml against Envoy's v3 API types, the Kong filter
# JSON Schemas against kong-wasm/examples, deploy/ against the Istio and Envoy Gateway
# CRDs' schemas): Python venv in target/config-venv.
test-configs:
	bash tests/configs/run.sh

# Unit tests, harness tests, integration tests through the .wasm, and the LuaJIT
# differential suite (tests/lua), natively.
test-native: build luajit
	KONG_FUNCTIONS_WASM=$(CURDIR)/$(WASM_OPT) \
	HARNESS_PROBE_WASM=$(CURDIR)/target/$(WASM_TARGET)/release/harness_probe_filter.wasm \
	cargo test --workspace

# The library's unit tests (Lua runtime, stdlib, PDK) compiled to wasm32-wasip1 and run
# in our wasmtime harness (`wasm-harness wasi-run`, cargo's runner in .cargo/config.toml).
test-wasm: toolchain wasi-clang harness
	cargo test --lib --target $(WASM_TARGET)

# The differential suite compares against OpenResty's LuaJIT, the branch Kong ships
# (Debian's `luajit2`; it replaces Debian's `luajit`, which lacks OpenResty's table.isarray).
luajit:
	@luajit -e 'require "table.isarray"' 2>/dev/null || { apt-get update -qq && apt-get install -y -qq luajit2 >/dev/null; } || \
		{ echo "OpenResty's LuaJIT is needed for the differential suite: apt-get install luajit2"; exit 1; }

# The shipped Envoy config served on loopback by the harness (Ctrl-C stops it); try
#   curl -i localhost:8000/ ; curl -i -H 'x-custom-auth: demo' localhost:8000/
serve: build
	$(HARNESS) serve envoy/envoy.yaml --listen 127.0.0.1:8000

# The shipped module as an OCI image layout directory and its tarball, the image form
# Istio's WasmPlugin and Envoy Gateway's EnvoyExtensionPolicy pull (one tar+gzip layer
# holding plugin.wasm; docs/deploy.md says why this form). No registry push: e.g.
#   skopeo copy oci:target/oci/kong-functions:$(OCI_TAG) docker://REGISTRY/kong-functions:$(OCI_TAG)
OCI_TAG := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
oci: build
	$(HARNESS) oci $(WASM_OPT) --out target/oci/kong-functions --tar target/oci/kong-functions.tar \
		--tag $(OCI_TAG) --annotation org.opencontainers.image.title=kong-functions \
		--annotation org.opencontainers.image.version=$(OCI_TAG)

demo: build
	@echo
	@echo "== The custom-auth walkthrough (Kong's Serverless Functions docs, without a database)"
	@echo "== pre-function config: examples/custom-auth/chain.json; Lua: examples/custom-auth/custom-auth.lua"
	@echo "== 1) no x-custom-auth header: 401, upstream not called, no 'Access' log line"
	@echo "== 2) x-custom-auth: demo: 200, the header stripped before the upstream, 'Access' logged"
	@echo
	@$(HARNESS) run --format text examples/custom-auth/chain.json examples/custom-auth/requests.json

# Scenarios through the shipped module against a no-op filter (B0), hand-written Rust
# (B1) and LuaJIT (B2); the report goes to stdout and target/bench.md. Then the same
# scenarios end to end over HTTP (bench-e2e, about 3 minutes).
bench: bench-inproc bench-e2e

bench-inproc: build luajit bench-filters
	cargo run --quiet -p kong-functions-bench | tee target/bench.md

bench-filters: puc-lua
	cargo build --release --target $(WASM_TARGET) -p bench-noop-filter -p bench-native-filter

# Baseline B3: PUC-Rio Lua 5.1 (the lua-src crate's C sources) compiled with Debian's clang
# for wasm32-wasip1 in a proxy-wasm filter (tests/bench/filters/puc-lua, a workspace of its
# own so that `cargo test --workspace` never needs clang); installs clang, lld, wasi-libc
# and the wasm32 compiler-rt when missing. Output beside the other baselines.
puc-lua: toolchain wasi-clang
	cargo build --release --target $(WASM_TARGET) --manifest-path tests/bench/filters/puc-lua/Cargo.toml --target-dir target

# End to end on 127.0.0.1 under wrk (tests/bench/src/e2e.rs): `wasm-harness serve` with
# our module, the no-op and the Rust filter and B3 (PUC-Rio Lua in Wasm), beside nginx alone and nginx with
# lua-nginx-module running the same chunks (tests/bench/openresty/); the report goes to
# stdout and target/bench-e2e.md. E2E_ARGS, e.g. "--duration 10 --scenarios s1,s2".
E2E_ARGS ?=
bench-e2e: build bench-filters openresty
	cargo build --quiet -p kong-functions-bench
	cargo run --quiet -p kong-functions-bench -- e2e $(E2E_ARGS)

# wrk, nginx, its NDK module, lua-cjson and libpcre3 (which the unpacked lua-nginx-module
# links) from Debian. lua-nginx-module itself is NOT
# installed: Debian's libnginx-mod-http-lua pulls libluajit2-5.1-2 (OpenResty's LuaJIT),
# which conflicts with the `luajit` package the tests use and removes it. Its package,
# OpenResty's LuaJIT and lua-resty-core are unpacked under target/openresty/root instead
# (apt-get download + dpkg -x); nginx loads them from there (LD_LIBRARY_PATH).
OPENRESTY := target/openresty/root
openresty:
	@{ command -v wrk && command -v nginx && test -f /usr/lib/nginx/modules/ndk_http_module.so && \
	   test -f /usr/lib/x86_64-linux-gnu/lua/5.1/cjson.so && test -f /usr/lib/x86_64-linux-gnu/libpcre.so.3; } >/dev/null || \
	 { apt-get update -qq && apt-get install -y -qq --no-install-recommends wrk nginx libnginx-mod-http-ndk lua-cjson libpcre3 >/dev/null; } || \
	 { echo "bench-e2e needs: apt-get install wrk nginx libnginx-mod-http-ndk lua-cjson libpcre3"; exit 1; }
	@test -f $(OPENRESTY)/usr/lib/nginx/modules/ngx_http_lua_module.so || { \
	  rm -rf target/openresty && mkdir -p target/openresty/debs && cd target/openresty/debs && \
	  { apt-get download libnginx-mod-http-lua libluajit2-5.1-2 lua-resty-core lua-resty-lrucache 2>/dev/null || \
	    { apt-get update -qq && apt-get download libnginx-mod-http-lua libluajit2-5.1-2 lua-resty-core lua-resty-lrucache; }; } && \
	  for deb in *.deb; do dpkg -x $$deb ../root; done; } || { echo "cannot unpack lua-nginx-module into $(OPENRESTY)"; exit 1; }

# Regenerates tests/ngx_re/openresty.txt, the expected results of tests/ngx_re/cases.lua,
# by running the cases in lua-nginx-module (nginx on 127.0.0.1, one request).
ngx-re-reference: openresty
	bash tests/ngx_re/openresty.sh

# wasmtime's guest profiler on one scenario (tests/bench/src/profile.rs, harness feature
# `profiling`): target/profile/$(SCENARIO).json (https://profiler.firefox.com/) and .txt
# (top frames). MODULE: `named` (default: the shipped code, `wasm-opt $(WASM_OPT_FLAGS) -g`, with its
# name section), `shipped` (target/kong_functions.wasm: no name section, frames are
# `<wasm function N>`), or a path (e.g. $(WASM), cargo's build before wasm-opt).
# `wasm-opt -g` keeps the names and leaves the code section byte for byte as shipped
# (the summary checks it). PROFILE_ARGS, e.g. "--requests 50000 --interval-us 50".
SCENARIO ?= s2
MODULE ?= named
PROFILE_ARGS ?=
PROFILE_WASM := target/profile/kong_functions.wasm
PROFILE_MODULE = $(if $(filter named,$(MODULE)),$(PROFILE_WASM),$(if $(filter shipped,$(MODULE)),$(WASM_OPT),$(MODULE)))
profile: wasm
	@if [ "$(MODULE)" = named ] && [ ! $(PROFILE_WASM) -nt $(WASM) ]; then \
	  mkdir -p target/profile && echo "wasm-opt $(WASM_OPT_FLAGS) -g $(WASM) -o $(PROFILE_WASM)" && wasm-opt $(WASM_OPT_FLAGS) -g $(WASM) -o $(PROFILE_WASM); fi
	cargo run --quiet -p kong-functions-bench --features profile -- profile $(SCENARIO) --module $(PROFILE_MODULE) $(PROFILE_ARGS)
# Kong's own PDK tests (t/01-pdk of a Kong checkout you fetch: KONG=work tree or bare git
# dir) translated into harness runs through the shipped module (tests/pdk-conformance/run.py,
# Python 3 standard library; docs/harness.md says what the translation does). Prints pass,
# fail and skip per area, every failure and skip with its reason, and writes them to
# PDK_REPORT. Batched, each failure then run alone (--confirm). PDK_PROFILE=envoy|kong; PDK_ARGS, e.g. "--only 08-response --jobs 2 -v".
KONG ?=
PDK_PROFILE ?= envoy
PDK_REPORT ?= tests/pdk-conformance/last-run.md
PDK_ARGS ?=
# The KONG check comes first, so a missing KONG stops before any build.
pdk-conformance: pdk-conformance-check build
	python3 tests/pdk-conformance/run.py --kong "$(KONG)" --harness target/debug/wasm-harness \
		--module $(WASM_OPT) --profile $(PDK_PROFILE) --confirm --report $(PDK_REPORT) $(PDK_ARGS)
pdk-conformance-check:
	@test -n "$(KONG)" || { echo "usage: make pdk-conformance KONG=<Kong work tree or git dir>"; exit 2; }

# The list of Kong's PDK functions the coverage table of docs/pdk.md is checked against
# (src/pdk/kong_pdk_functions.txt): Kong's kong/pdk loaded in LuaJIT, names only.
PDK_NAMES := src/pdk/kong_pdk_functions.txt
pdk-names: pdk-conformance-check
	@tmp=$$(mktemp -d) && \
	if [ -d "$(KONG)/kong/pdk" ]; then cp -r "$(KONG)/kong" $$tmp/; rev=$$(git -C "$(KONG)" rev-parse HEAD); \
	else git --git-dir="$(KONG)" archive HEAD kong/pdk | tar -x -C $$tmp; rev=$$(git --git-dir="$(KONG)" rev-parse HEAD); fi && \
	{ echo "# Kong's PDK functions: every function reachable from the \`kong\` table that"; \
	  echo "# \`require(\"kong.pdk\").new()\` builds, at Kong/kong $$rev"; \
	  echo "# (kong/pdk/**/*.lua). Derived, names only: luajit tests/pdk-conformance/pdk_names.lua KONG_TREE"; \
	  echo "# (make pdk-names KONG=...). docs/pdk.md's coverage table has a row for each (src/pdk/coverage_tests.rs)."; \
	  luajit tests/pdk-conformance/pdk_names.lua $$tmp; } > $(PDK_NAMES).new && mv $(PDK_NAMES).new $(PDK_NAMES); \
	status=$$?; rm -rf $$tmp; exit $$status

# Coverage-guided fuzzing (tests/fuzz, cargo-afl with AFL++; installs cargo-afl when
# missing): each target for FUZZ_SECONDS, one fuzzer process at a time under nice; the
# minimized corpus and any crash input stay under tests/fuzz/, the counts go to
# target/fuzz/report.tsv. FUZZ_TARGETS picks targets (default: all).
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?=
fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) $(if $(FUZZ_TARGETS),FUZZ_TARGETS="$(FUZZ_TARGETS)") bash tests/fuzz/run.sh

# 1,000,000 requests of the walkthrough and of a body-rewriting chain through one
# instance each, and 10,000 reconfigurations of one root context, memory sampled every
# 10,000 requests (tests/bench/src/soak.rs): target/soak/soak.csv and summary.md. Takes
# several minutes, so not part of make test. SOAK_ARGS, e.g. "--requests 100000".
SOAK_ARGS ?=
soak: build
	cargo run --quiet -p kong-functions-bench -- soak $(SOAK_ARGS)

clean:
	cargo clean
