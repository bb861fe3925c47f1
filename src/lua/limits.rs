//! The limits library functions enforce while they run: the plugin instance's
//! [`Limits`], installed for the duration of each chunk invocation.
//!
//! The VM checks the instruction and memory budgets between fuel slices; a single
//! library call (`string.rep`, `..`, `gsub`) could allocate far more than the budget in
//! one go and exhaust the wasm heap, which would trap the whole module. So every call
//! that builds a string asks here first.

use std::cell::Cell;

use piccolo::{Context, Error, Execution};

use crate::lua::error_at;
use crate::vm_config::Limits;

thread_local! {
    static CURRENT: Cell<Limits> = Cell::new(Limits::default());
}

/// Makes `limits` the ones library calls enforce (the running plugin instance's).
pub fn install(limits: Limits) {
    CURRENT.with(|c| c.set(limits));
}

/// The limits in force.
pub fn current() -> Limits {
    CURRENT.with(Cell::get)
}

/// Fails with "resulting string too large" when a string of `size` bytes would exceed
/// the string limit, and with "memory limit exceeded" when the heap, garbage included,
/// would pass twice the memory limit. (The precise memory check runs between fuel
/// slices, after a collection; this one only stops a single slice from running away
/// before the collector gets a chance.)
pub fn check_string_size<'gc>(ctx: Context<'gc>, exec: &Execution<'gc, '_>, size: usize) -> Result<(), Error<'gc>> {
    let limits = current();
    if size > limits.string_bytes {
        return Err(error_at(ctx, exec, "resulting string too large"));
    }
    if ctx.metrics().total_allocation().saturating_add(size) > limits.memory_bytes.saturating_mul(2) {
        return Err(error_at(ctx, exec, "memory limit exceeded"));
    }
    Ok(())
}
