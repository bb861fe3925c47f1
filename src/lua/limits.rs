//! The limits library functions enforce while they run: the plugin instance's
//! [`Limits`], installed for the duration of each chunk invocation.
//!
//! The VM checks the instruction and memory budgets between fuel slices; a single
//! library call (`string.rep`, `..`, `gsub`) could allocate far more than the budget in
//! one go and exhaust the wasm heap, which would trap the whole module. So every call
//! that builds a string asks here first.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use piccolo::{Context, Error, Execution};

use crate::host::Host;
use crate::lua::error_at;
use crate::stream::HostView;
use crate::vm_config::Limits;

thread_local! {
    static CURRENT: Cell<Limits> = Cell::new(Limits::default());
    /// When the running phase's clock started, in nanoseconds of the host's clock: at
    /// its first check, so a phase that never outlives a fuel slice reads no clock.
    static PHASE_STARTED: Cell<Option<u64>> = const { Cell::new(None) };
    /// The host whose clock times the running phase.
    static CLOCK: RefCell<Option<Rc<HostView>>> = const { RefCell::new(None) };
    /// Whether a check found the running phase past its time (a library call that
    /// stopped on it, such as an `ngx.re` match, returned to the chunk, which then ended).
    static PHASE_SPENT: Cell<bool> = const { Cell::new(false) };
}

/// Makes `view`'s host the clock [`check_phase_time`] reads (the running instance's).
pub fn install_clock(view: &Rc<HostView>) {
    CLOCK.with(|c| {
        if let Ok(mut clock) = c.try_borrow_mut() {
            if !clock.as_ref().is_some_and(|installed| Rc::ptr_eq(installed, view)) {
                *clock = Some(view.clone());
            }
        }
    });
}

/// Starts a new phase run (or a resumed one: time waiting on the host is not its own):
/// its clock starts at the next [`check_phase_time`].
pub fn reset_phase_clock() {
    PHASE_STARTED.with(|c| c.set(None));
    PHASE_SPENT.with(|c| c.set(false));
}

/// The error of [`check_phase_time`] if a check during the running phase found its time
/// spent, even when the chunk went on to finish: the phase fails as one past its time.
pub fn phase_time_spent() -> Result<(), String> {
    if PHASE_SPENT.with(Cell::get) {
        return Err(format!("time limit exceeded ({} ms per phase)", current().phase_time_ms));
    }
    Ok(())
}

/// `Err("time limit exceeded (N ms per phase)")` once the running phase has used more
/// than [`Limits::phase_time_ms`] of the host's wall-clock time, counted from its first
/// check. Checked between fuel slices and, inside a long `ngx.re` match, between start
/// positions (`crate::pdk::ngx::pcre`), so time in host calls and in PCRE2 counts.
pub fn check_phase_time() -> Result<(), String> {
    let now = CLOCK.with(|c| c.try_borrow().ok().and_then(|clock| clock.as_ref().map(|view| view.now_nanos())));
    let Some(now) = now else { return Ok(()) };
    let started = PHASE_STARTED.with(|c| {
        let started = c.get().unwrap_or(now);
        c.set(Some(started));
        started
    });
    let limit = current().phase_time_ms;
    if now.saturating_sub(started) / 1_000_000 > limit {
        PHASE_SPENT.with(|c| c.set(true));
        return Err(format!("time limit exceeded ({limit} ms per phase)"));
    }
    Ok(())
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
