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
    FilterSpec { name: name.into(), module: probe_module(), config: Value::String(config.into()), root_id: None }
}

/// A minimal proxy-wasm module that reads the host's log level: it imports
/// `env.proxy_get_log_level` with `params` i32 parameters (1: the ABI's form; 2: Kong's
/// engine's) and `env.proxy_log`; its `proxy_on_configure` calls the former with a
/// pointer to address 0 (and a 0), then logs the digit `'0' + level` at critical level (never dropped) and
/// answers true. Written to a temporary file whose path is returned.
pub fn log_level_module(params: usize) -> PathBuf {
    use wasm_encoder::{
        CodeSection, EntityType, ExportKind, ExportSection, Function, FunctionSection, ImportSection, Instruction, MemArg,
        MemorySection, MemoryType, Module, TypeSection, ValType,
    };
    let mut types = TypeSection::new();
    types.ty().function(vec![ValType::I32; params], [ValType::I32]); // 0: proxy_get_log_level
    types.ty().function([ValType::I32; 3], [ValType::I32]); // 1: proxy_log
    types.ty().function([ValType::I32; 2], []); // 2: proxy_on_context_create
    types.ty().function([ValType::I32; 2], [ValType::I32]); // 3: on_vm_start, on_configure
    let mut imports = ImportSection::new();
    imports.import("env", "proxy_get_log_level", EntityType::Function(0));
    imports.import("env", "proxy_log", EntityType::Function(1));
    let mut functions = FunctionSection::new();
    functions.function(2).function(3).function(3);
    let mut memories = MemorySection::new();
    memories.memory(MemoryType { minimum: 1, maximum: None, memory64: false, shared: false, page_size_log2: None });
    let mut exports = ExportSection::new();
    exports
        .export("memory", ExportKind::Memory, 0)
        .export("proxy_on_context_create", ExportKind::Func, 2)
        .export("proxy_on_vm_start", ExportKind::Func, 3)
        .export("proxy_on_configure", ExportKind::Func, 4);
    let mut code = CodeSection::new();
    let mut create = Function::new([]);
    create.instruction(&Instruction::End);
    let mut start = Function::new([]);
    start.instruction(&Instruction::I32Const(1)).instruction(&Instruction::End);
    let mut configure = Function::new([]);
    for _ in 0..params {
        configure.instruction(&Instruction::I32Const(0));
    }
    let word = MemArg { offset: 0, align: 2, memory_index: 0 };
    let byte = MemArg { offset: 0, align: 0, memory_index: 0 };
    for i in [
        Instruction::Call(0),
        Instruction::Drop,
        Instruction::I32Const(8),
        Instruction::I32Const(0),
        Instruction::I32Load(word),
        Instruction::I32Const(48),
        Instruction::I32Add,
        Instruction::I32Store8(byte),
        Instruction::I32Const(5),
        Instruction::I32Const(8),
        Instruction::I32Const(1),
        Instruction::Call(1),
        Instruction::Drop,
        Instruction::I32Const(1),
        Instruction::End,
    ] {
        configure.instruction(&i);
    }
    code.function(&create).function(&start).function(&configure);
    let mut module = Module::new();
    module.section(&types).section(&imports).section(&functions).section(&memories).section(&exports).section(&code);
    let path = std::env::temp_dir().join(format!("wasm-harness-log-level-{params}-{}.wasm", std::process::id()));
    std::fs::write(&path, module.finish()).expect("write the generated module");
    path
}
