//! Helpers the integration tests share: one harness per test binary, the shipped module,
//! chains per role and host profile.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::OnceLock;

use serde_json::Value;
use wasm_harness::{Chain, ChainSpec, FilterSpec, Harness, HostProfile, Outcome, RequestSpec};

/// The roles a chain can give the module.
pub const ROLES: [&str; 2] = ["pre-function", "post-function"];
/// The host profiles the harness models.
pub const PROFILES: [HostProfile; 2] = [HostProfile::Envoy, HostProfile::Kong];

/// The behaviour of the host `profile` models, as the filter follows it: what a test may
/// expect to differ between hosts comes from here, never from a profile check.
pub fn behaviour(profile: HostProfile) -> kong_functions::stream::HostBehaviour {
    let kind = match profile {
        HostProfile::Envoy => kong_functions::properties::HostKind::Envoy,
        HostProfile::Kong => kong_functions::properties::HostKind::Kong,
    };
    kong_functions::stream::HostBehaviour::of(kind)
}

/// One wasmtime engine for the whole test binary (compiling the module is the slow part).
pub fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(Harness::new)
}

/// The module we ship: `target/kong_functions.wasm` (`make build`), or
/// `KONG_FUNCTIONS_WASM`. A missing module fails the test: nothing passes without it.
pub fn module_path() -> PathBuf {
    let path = std::env::var_os("KONG_FUNCTIONS_WASM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/kong_functions.wasm"));
    assert!(path.is_file(), "{} is missing: run `make build` first", path.display());
    path
}

/// A chain of one filter named `role` with `config`, under `profile`.
pub fn chain(role: &str, profile: HostProfile, config: Value) -> Chain {
    chain_with_vm(role, profile, config, Value::Null)
}

/// [`chain`] with a VM configuration (`untrusted_lua`, limits ...).
pub fn chain_with_vm(role: &str, profile: HostProfile, config: Value, vm_config: Value) -> Chain {
    let spec = ChainSpec {
        filters: vec![FilterSpec { name: role.into(), module: module_path(), config }],
        vm_config,
        profile,
        ..ChainSpec::default()
    };
    harness().chain(&spec).unwrap_or_else(|e| panic!("{role} under {profile:?}: {e:#}"))
}

/// Runs `request`; a trap or harness error fails the test with its message.
pub fn send(chain: &mut Chain, request: &RequestSpec) -> Outcome {
    chain.run(request).unwrap_or_else(|e| panic!("the filter trapped: {e:#}"))
}
