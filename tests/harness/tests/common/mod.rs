//! Helpers the harness's integration tests share: the probe filter, built on first use,
//! and one harness per test binary.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::OnceLock;

use serde_json::Value;
use wasm_harness::{FilterSpec, Harness};

pub fn probe_module() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        if let Ok(path) = std::env::var("HARNESS_PROBE_WASM") {
            return PathBuf::from(path);
        }
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
        let target = std::env::var("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|_| root.join("target"));
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = std::process::Command::new(cargo)
            .current_dir(&root)
            .args(["build", "--quiet", "--release", "--target", "wasm32-wasip1", "-p", "harness-probe-filter"])
            .status()
            .expect("run cargo build for the probe filter");
        assert!(status.success(), "building the probe filter failed");
        target.join("wasm32-wasip1/release/harness_probe_filter.wasm")
    })
    .clone()
}

pub fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(Harness::new)
}

pub fn probe(name: &str, config: &str) -> FilterSpec {
    FilterSpec { name: name.into(), module: probe_module(), config: Value::String(config.into()) }
}
