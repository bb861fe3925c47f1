//! Running a plain WASI preview1 command (`_start`), with stdio inherited: how the
//! filter's unit tests run compiled to wasm32-wasip1, under the same engine as the filter.

use std::path::Path;

use wasmtime::{Engine, Linker, Module, Store};
use wasmtime_wasi::p1::{self, WasiP1Ctx};
use wasmtime_wasi::WasiCtxBuilder;

/// Runs `module`'s `_start`; imports other than WASI's trap when called.
/// with `args` (after the program name) and returns its exit code.
///
/// Errors: the module cannot be loaded or linked, or it trapped.
pub fn run_command(module: &Path, args: &[String]) -> wasmtime::Result<i32> {
    let engine = Engine::default();
    let module = Module::from_file(&engine, module)?;
    let mut linker: Linker<WasiP1Ctx> = Linker::new(&engine);
    p1::add_to_linker_sync(&mut linker, |ctx| ctx)?;
    // A test binary of the filter library still imports the proxy-wasm host calls its
    // glue references; unit tests never call them, so any call is a trap.
    linker.define_unknown_imports_as_traps(&module)?;
    let mut builder = WasiCtxBuilder::new();
    builder.inherit_stdio().inherit_env().arg("main.wasm");
    for arg in args {
        builder.arg(arg);
    }
    let mut store = Store::new(&engine, builder.build_p1());
    let instance = linker.instantiate(&mut store, &module)?;
    let start = instance.get_typed_func::<(), ()>(&mut store, "_start")?;
    match start.call(&mut store, ()) {
        Ok(()) => Ok(0),
        Err(e) => match e.downcast_ref::<wasmtime_wasi::I32Exit>() {
            Some(exit) => Ok(exit.0),
            None => Err(e),
        },
    }
}
