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
///
/// Envoy runs as `envoy/envoy.yaml` sets it up: 1.35+ with
/// `allow_on_headers_stop_iteration` on the plugins and
/// `envoy_allow_on_headers_stop_iteration` in the VM configuration (`tests/envoy_modes.rs`
/// covers the other Envoy modes).
pub fn chain_with_vm(role: &str, profile: HostProfile, config: Value, vm_config: Value) -> Chain {
    let spec = ChainSpec {
        filters: vec![FilterSpec { name: role.into(), module: module_path(), config, root_id: None }],
        vm_config: shipped_vm_config(profile, vm_config),
        profile,
        envoy: wasm_harness::EnvoyMode::V1_35_HOLD,
        // envoy.yaml's upgrade_configs: [{upgrade_type: websocket}].
        upgrade_types: vec!["websocket".into()],
        ..ChainSpec::default()
    };
    harness().chain(&spec).unwrap_or_else(|e| panic!("{role} under {profile:?}: {e:#}"))
}

/// Runs `request`; a trap or harness error fails the test with its message.
///
/// A stream the host would end at its idle timeout (the filter held it and nothing
/// resumed it) fails the test too: on a real host that request would hang for minutes.
pub fn send(chain: &mut Chain, request: &RequestSpec) -> Outcome {
    let outcome = chain.run(request).unwrap_or_else(|e| panic!("the filter trapped: {e:#}"));
    if let Some(reason) = &outcome.hung {
        panic!("the stream hung under {:?}: {reason}", chain.profile());
    }
    outcome
}

/// `vm_config` with what `envoy/envoy.yaml`'s VM configuration adds on Envoy:
/// `envoy_allow_on_headers_stop_iteration`, matching its plugins' flag.
pub fn shipped_vm_config(profile: HostProfile, vm_config: Value) -> Value {
    if profile != HostProfile::Envoy {
        return vm_config;
    }
    let mut object = match vm_config {
        Value::Object(object) => object,
        _ => serde_json::Map::new(),
    };
    object.entry("envoy_allow_on_headers_stop_iteration").or_insert(Value::Bool(true));
    Value::Object(object)
}

/// `spec` as the shipped host configurations run it: on Envoy, 1.35+ with the plugins'
/// `allow_on_headers_stop_iteration` and the VM configuration's
/// `envoy_allow_on_headers_stop_iteration` (`envoy/envoy.yaml`).
pub fn shipped(mut spec: ChainSpec) -> ChainSpec {
    if spec.profile == HostProfile::Envoy {
        spec.envoy = wasm_harness::EnvoyMode::V1_35_HOLD;
        spec.vm_config = shipped_vm_config(spec.profile, std::mem::take(&mut spec.vm_config));
    }
    spec
}
