//! wasm-harness: a proxy-wasm (ABI 0.2.1) host on wasmtime that drives HTTP streams
//! through a chain of filters, with a built-in echo upstream.
//!
//! The request path runs filters first to last, the response path last to first, as
//! Envoy does; a local response from filter `i` on the request path travels back through
//! filters `i` down to `0`. Every filter's log lines are captured with its name.
//!
//! Library entry points: [`Harness`] (engine and compiled-module cache),
//! [`Chain`] (filters instantiated and configured), [`Chain::run`] (one request).
//!
//! Host surface (ABI 0.2.1, [`abi`]): header maps with pseudo-headers, body buffers,
//! pause/resume (`proxy_continue_stream`, and 0.1.0's `proxy_continue_request`/
//! `proxy_continue_response`), `proxy_send_local_response` from every callback, shared
//! data with CAS (one VM id per chain), properties per profile ([`props`]),
//! `proxy_set_property` (filter state per stream, readable by every filter of it),
//! metrics (counter/gauge/histogram, one namespace per chain: [`Chain::metric`]), ticks
//! ([`Chain::tick`], and back to back while a paused filter waits), `proxy_http_call`
//! ([`dispatch`]: the echo upstream for any cluster name, a real server for
//! `127.0.0.1:PORT`), `proxy_get_log_level` (`ChainSpec.log_level`), the clock. Shared
//! queues on `envoy` as proxy-wasm-cpp-host's (`abi::SharedQueues`,
//! [`Chain::deliver_queue_ready`]); on `kong` they trap (no `shm_queue` zone).
//! `proxy_grpc_call` on `envoy`: ParseFailure for an unknown cluster, else
//! `Unimplemented` (no call is made); other gRPC calls and foreign functions answer
//! `Unimplemented`.
//!
//! WebSocket streams ([`ws`], [`Chain::run_websocket`], [`Chain::ws_open`]): the
//! handshake, RFC 6455 frames both ways as each host delivers them (Envoy: body
//! callbacks; Kong: nginx's tunnel, past the filters), what each side received decoded.
//! Connections ([`connection`], [`Chain::connect`], [`Chain::run_connection`]): several
//! streams on one downstream connection with its TLS facts as host properties.
//!
//! Host profiles (`ChainSpec.profile`, [`HostProfile`]): `envoy` and `kong`; the
//! differences are listed in [`chain`] and [`props`], and in `docs/hosts.md` with their
//! sources.

pub mod abi;
pub mod chain;
pub mod codec;
pub mod connection;
pub mod dispatch;
pub mod filter;
pub mod hosts;
pub mod oci;
#[cfg(feature = "profiling")]
pub mod profiling;
pub mod props;
pub mod spec;
pub mod upstream;
pub mod wasi;
pub mod ws;

pub use chain::Chain;
pub use spec::{escape_bytes, Bytes, EnvoyMode, HostProfile, ChainSpec, FilterSpec, HeadersSpec, LogEntry, Outcome, RequestSpec, RouteSpec, UpstreamRequest, UpstreamSpec, ENVOY_BUFFER_LIMIT_BYTES};

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use wasmtime::error::Context as _;
use wasmtime::{Engine, Module};

/// A wasmtime engine plus every module compiled so far, keyed by path: compiling a
/// filter takes about a second, instantiating it a millisecond.
///
/// With the environment variable [`MODULE_CACHE_ENV`] naming a directory, compiled
/// modules are also kept there across processes (the conformance runner starts hundreds
/// of harness processes on one module).
pub struct Harness {
    engine: Engine,
    modules: Mutex<HashMap<PathBuf, Module>>,
}

/// `WASM_HARNESS_MODULE_CACHE=DIR`: keep compiled modules in `DIR` across processes
/// (see [`Harness::module`]). Unset or empty: compile in each process.
pub const MODULE_CACHE_ENV: &str = "WASM_HARNESS_MODULE_CACHE";

impl Default for Harness {
    fn default() -> Self {
        Harness::new()
    }
}

impl Harness {
    /// A harness with wasmtime's default configuration (Cranelift).
    pub fn new() -> Harness {
        Harness { engine: Engine::default(), modules: Mutex::new(HashMap::new()) }
    }

    /// A harness on an engine built from `config`, e.g. with epoch interruption for the
    /// guest profiler ([`profiling`], feature `profiling`).
    ///
    /// Errors: a configuration wasmtime rejects.
    pub fn with_config(config: &wasmtime::Config) -> wasmtime::Result<Harness> {
        Ok(Harness { engine: Engine::new(config)?, modules: Mutex::new(HashMap::new()) })
    }

    /// The wasmtime engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The compiled module at `path`, compiling it on first use.
    ///
    /// Errors: the file cannot be read or is not a valid wasm module.
    pub fn module(&self, path: &Path) -> wasmtime::Result<Module> {
        let key = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        let mut modules = self.modules.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(module) = modules.get(&key) {
            return Ok(module.clone());
        }
        let module = match std::env::var_os(MODULE_CACHE_ENV) {
            Some(dir) if !dir.is_empty() => self.cached_module(&key, Path::new(&dir))?,
            _ => Module::from_file(&self.engine, &key).with_context(|| format!("cannot load wasm module {}", path.display()))?,
        };
        modules.insert(key, module.clone());
        Ok(module)
    }

    /// The module at `path`, compiled once per content and engine into `dir` (see
    /// [`MODULE_CACHE_ENV`]): a file named by the SHA-1 of the module's bytes and of the
    /// engine's compatibility hash, written by [`Module::serialize`] and read back by
    /// [`Module::deserialize_file`], which checks it against the engine (a stale or
    /// foreign file is compiled again and rewritten).
    fn cached_module(&self, path: &Path, dir: &Path) -> wasmtime::Result<Module> {
        use sha1::Digest;
        use std::hash::{Hash, Hasher};
        let bytes = std::fs::read(path).with_context(|| format!("cannot load wasm module {}", path.display()))?;
        let mut engine_hash = std::collections::hash_map::DefaultHasher::new();
        self.engine.precompile_compatibility_hash().hash(&mut engine_hash);
        let mut digest = sha1::Sha1::new();
        digest.update(&bytes);
        digest.update(engine_hash.finish().to_le_bytes());
        let name: String = digest.finalize().iter().map(|b| format!("{b:02x}")).collect();
        let file = dir.join(format!("{name}.cwasm"));
        if file.is_file() {
            // SAFETY: wasmtime requires the file to be one `Module::serialize` wrote for a
            // compatible engine; only this function writes `*.cwasm` files named by the
            // module's hash there, and `deserialize_file` checks the engine's settings.
            if let Ok(module) = unsafe { Module::deserialize_file(&self.engine, &file) } {
                return Ok(module);
            }
        }
        let module = Module::new(&self.engine, &bytes).with_context(|| format!("cannot load wasm module {}", path.display()))?;
        // Best effort: an unwritable cache only costs the next run a compilation. Written
        // aside and renamed, so a concurrent reader never sees half a file.
        if std::fs::create_dir_all(dir).is_ok() {
            if let Ok(serialized) = module.serialize() {
                let partial = dir.join(format!("{name}.{}.partial", std::process::id()));
                if std::fs::write(&partial, serialized).is_ok() {
                    let _ = std::fs::rename(&partial, &file);
                }
            }
        }
        Ok(module)
    }

    /// Instantiates and configures every filter of `spec`.
    ///
    /// Errors: a module that cannot be loaded, a trap, or a configuration a filter
    /// rejected (`proxy_on_vm_start`/`proxy_on_configure` returned false); the message
    /// includes the filter's critical and error log lines.
    pub fn chain(&self, spec: &ChainSpec) -> wasmtime::Result<Chain> {
        Chain::new(self, spec)
    }
}
