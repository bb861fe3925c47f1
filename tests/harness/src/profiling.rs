//! Guest profiling (cargo feature `profiling`; `make profile`): wasmtime's
//! [`GuestProfiler`] sampling the filters of a [`Chain`] while it runs requests, written
//! as a Firefox profiler JSON ("processed profile format", <https://profiler.firefox.com/>).
//!
//! How samples are taken:
//! - the harness comes from [`profiling_harness`]: an engine with epoch interruption, so
//!   compiled code checks the engine's epoch at function entries and loop headers (the
//!   default [`Harness::new`] has no such checks and is not affected by this module);
//! - [`Sampler::start`] runs a timer thread that bumps the epoch every `interval`;
//! - a filter's store, once [`Sampler::attach`]ed, takes a sample at the next epoch check
//!   after a bump (`epoch_deadline_callback`), with the guest stack at that point;
//! - a bump that happens while the guest is inside a host call (a proxy-wasm import) is
//!   sampled when the call returns, with the guest stack that made the call, so time in
//!   host calls is charged to the guest code that asked for it (counted apart in
//!   [`SampleCounts::host_call`]);
//! - bumps while the harness itself runs (between callbacks) are dropped: every entry into
//!   the guest starts a fresh deadline.
//!
//! Frames are named from the module's name section (demangled); a module without one (a
//! `wasm-opt` output without `-g`) gives `<wasm function N>` frames.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use wasmtime::{CallHook, Config, GuestProfiler, Result, UpdateDeadline};

use crate::{Chain, Harness};

/// A harness whose engine has epoch interruption enabled (needed by [`Sampler`]).
pub fn profiling_harness() -> Result<Harness> {
    let mut config = Config::new();
    config.epoch_interruption(true);
    Harness::with_config(&config)
}

/// How many samples were taken, and where.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SampleCounts {
    /// Samples taken while guest code ran.
    pub guest: u64,
    /// Samples taken when a host call returned (charged to the caller's guest stack).
    pub host_call: u64,
    /// Epoch ticks the timer thread produced in all.
    pub ticks: u64,
}

#[derive(Default)]
struct Counters {
    guest: AtomicU64,
    host_call: AtomicU64,
}

/// Samples every attached filter into one profile (one thread in the Firefox profiler).
pub struct Sampler {
    profiler: Arc<Mutex<Option<GuestProfiler>>>,
    engine: wasmtime::Engine,
    interval: Duration,
    ticks: Arc<AtomicU64>,
    counters: Arc<Counters>,
    stop: Arc<AtomicBool>,
    ticker: Option<JoinHandle<()>>,
}

impl Sampler {
    /// A profiler named `name` for the modules at `modules` (compiled by `harness`, which
    /// must come from [`profiling_harness`]); frames of other modules are left out.
    ///
    /// Errors: a module that cannot be loaded.
    pub fn new(harness: &Harness, name: &str, interval: Duration, modules: &[&Path]) -> Result<Sampler> {
        let mut list = Vec::new();
        for path in modules {
            let module = harness.module(path)?;
            let label = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "module".into());
            list.push((label, module));
        }
        let profiler = GuestProfiler::new(harness.engine(), name, interval, list)?;
        Ok(Sampler {
            profiler: Arc::new(Mutex::new(Some(profiler))),
            engine: harness.engine().clone(),
            interval,
            ticks: Arc::new(AtomicU64::new(0)),
            counters: Arc::default(),
            stop: Arc::new(AtomicBool::new(false)),
            ticker: None,
        })
    }

    /// Installs the sampling hooks in every filter of `chain`. A filter re-created after
    /// a trap is not sampled.
    pub fn attach(&self, chain: &mut Chain) {
        for filter in chain.filters_mut() {
            filter.with_store(|store| self.hook(store));
        }
    }

    fn hook(&self, store: &mut wasmtime::Store<crate::abi::HostState>) {
        {
            let profiler = self.profiler.clone();
            let counters = self.counters.clone();
            store.epoch_deadline_callback(move |store| {
                if let Some(p) = profiler.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
                    p.sample(&store, Duration::ZERO);
                    counters.guest.fetch_add(1, Ordering::Relaxed);
                }
                Ok(UpdateDeadline::Continue(1))
            });
            let profiler = self.profiler.clone();
            let counters = self.counters.clone();
            let ticks = self.ticks.clone();
            let mut at_call = 0u64;
            store.call_hook(move |mut store, kind| {
                match kind {
                    CallHook::CallingWasm => store.set_epoch_deadline(1),
                    CallHook::CallingHost => at_call = ticks.load(Ordering::Relaxed),
                    CallHook::ReturningFromHost => {
                        let missed = ticks.load(Ordering::Relaxed).wrapping_sub(at_call).min(1_000);
                        if missed > 0 {
                            if let Some(p) = profiler.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
                                for _ in 0..missed {
                                    p.sample(&store, Duration::ZERO);
                                }
                                counters.host_call.fetch_add(missed, Ordering::Relaxed);
                            }
                        }
                        store.set_epoch_deadline(1);
                    }
                    CallHook::ReturningFromWasm => {}
                }
                Ok(())
            });
            store.set_epoch_deadline(1);
        }
    }

    /// Starts the timer thread (bumps the engine's epoch every interval).
    pub fn start(&mut self) {
        if self.ticker.is_some() {
            return;
        }
        self.stop.store(false, Ordering::Relaxed);
        let (engine, interval, ticks, stop) = (self.engine.clone(), self.interval, self.ticks.clone(), self.stop.clone());
        self.ticker = Some(std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(interval);
                ticks.fetch_add(1, Ordering::Relaxed);
                engine.increment_epoch();
            }
        }));
    }

    /// Stops the timer thread; no sample is taken after this.
    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(ticker) = self.ticker.take() {
            let _ = ticker.join();
        }
    }

    /// The samples so far.
    pub fn counts(&self) -> SampleCounts {
        SampleCounts {
            guest: self.counters.guest.load(Ordering::Relaxed),
            host_call: self.counters.host_call.load(Ordering::Relaxed),
            ticks: self.ticks.load(Ordering::Relaxed),
        }
    }

    /// Stops sampling and writes the profile (Firefox processed profile JSON) to `output`.
    ///
    /// Errors: the profile cannot be written.
    pub fn finish(mut self, output: impl std::io::Write) -> Result<SampleCounts> {
        self.stop();
        let counts = self.counts();
        let profiler = self.profiler.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(profiler) = profiler {
            profiler.finish(output)?;
        }
        Ok(counts)
    }
}

impl Drop for Sampler {
    fn drop(&mut self) {
        self.stop();
    }
}
