# kong-functions: Kong's pre-function/post-function as one proxy-wasm filter.
#   make demo   build everything, run the seed's custom-auth walkthrough through the .wasm
#   make test   build, then run every test (filter unit tests, harness, integration)

WASM_TARGET := wasm32-wasip1
WASM        := target/$(WASM_TARGET)/release/kong_functions.wasm
HARNESS     := cargo run --quiet -p wasm-harness --

.PHONY: build wasm harness test test-native test-wasm luajit demo clean toolchain

build: wasm harness

# The wasm32-wasip1 target is installed on first use.
toolchain:
	@rustup target list --installed | grep -qx '$(WASM_TARGET)' || rustup target add $(WASM_TARGET)

wasm: toolchain
	cargo build --release --target $(WASM_TARGET)
	@ls -l $(WASM) | awk '{ print "built $(WASM): " $$5 " bytes" }'

harness:
	cargo build -p wasm-harness

test: test-native test-wasm

# Unit tests, harness tests, integration tests through the .wasm, and the LuaJIT
# differential suite (tests/lua), natively.
test-native: build luajit
	cargo test --workspace

# The library's unit tests (Lua runtime, stdlib, PDK) compiled to wasm32-wasip1 and run
# in our wasmtime harness (`wasm-harness wasi-run`, cargo's runner in .cargo/config.toml).
test-wasm: toolchain harness
	cargo test --lib --target $(WASM_TARGET)

# The differential suite compares against Debian's LuaJIT.
luajit:
	@command -v luajit >/dev/null || { apt-get update -qq && apt-get install -y -qq luajit >/dev/null; } || \
		{ echo "luajit is needed for the differential suite: apt-get install luajit"; exit 1; }

demo: build
	@echo
	@echo "== The custom-auth walkthrough (Kong's Serverless Functions docs, without a database)"
	@echo "== pre-function config: examples/custom-auth/chain.json; Lua: examples/custom-auth/custom-auth.lua"
	@echo "== 1) no x-custom-auth header: 401, upstream not called, no 'Access' log line"
	@echo "== 2) x-custom-auth: demo: 200, the header stripped before the upstream, 'Access' logged"
	@echo
	@$(HARNESS) run --format text examples/custom-auth/chain.json examples/custom-auth/requests.json

clean:
	cargo clean
