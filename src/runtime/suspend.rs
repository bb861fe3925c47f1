//! Running a phase that may suspend: a chunk's Lua thread yields inside a native that
//! waits on the host (an outbound call, `crate::pdk::callout`), the phase hands back a
//! [`SuspendedPhase`], and [`Runtime::resume_phase`] continues it, with the answer as the
//! native's results, where it stopped: the rest of that chunk, then the phase's
//! remaining chunks.
//!
//! piccolo is stackless, so a yield from the outermost Lua frame of the executor leaves
//! the whole call stack (Lua frames, `pcall`s, sequences) in the executor's main thread.
//! A suspended phase keeps that executor; the runtime takes a fresh one, so other
//! requests of the instance run while this one waits.

use piccolo::{Executor, ExecutorMode, StashedExecutor, StashedFunction, StashedTable, Value, Variadic};

use super::{check_header_names, check_phase_budget, finish, step_slice, PhaseOutcome, RequestState, Runtime};
use crate::lua;
use crate::pdk::callout::{self, Answer, Wait};
use crate::phase::Phase;

/// What running (or resuming) a phase came to.
#[derive(Debug)]
pub enum PhaseRun {
    /// The phase ran to its end (or stopped at an exit or an error).
    Done(PhaseOutcome),
    /// A chunk waits on the host; resume it with [`Runtime::resume_phase`].
    Suspended(SuspendedPhase),
}

/// Where a chunk invocation stands under Kong's first-run rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// The chunk's first run: a function it returns becomes its handler.
    First,
    /// A later run (or the handler's first call).
    Later,
}

/// What a suspended Lua thread runs for.
#[derive(Debug, Clone, Copy)]
enum Owner {
    /// A chunk of a phase.
    Chunk { phase_index: usize, chunk_index: usize, stage: Stage },
    /// An `ngx.timer` callback (run from the root context).
    Timer,
}

/// A phase stopped inside a chunk (or a timer callback) that waits on the host.
pub struct SuspendedPhase {
    /// The phase.
    pub phase: Phase,
    /// What the chunk waits on.
    pub wait: Wait,
    owner: Owner,
    executor: StashedExecutor,
    /// Instructions the chunk invocation used before it stopped (the `instructions`
    /// limit holds for the whole invocation).
    spent: i64,
}

impl std::fmt::Debug for SuspendedPhase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SuspendedPhase").field("phase", &self.phase).field("wait", &self.wait).field("owner", &self.owner).finish()
    }
}

/// What one chunk invocation came to.
enum ChunkRun {
    Done(Result<(), String>),
    Yielded(Stage),
}

/// What driving the executor came to.
enum Drive {
    Finished(Result<Option<StashedFunction>, String>),
    Yielded,
}

impl Runtime {
    /// [`Runtime::run_phase`] for phases whose chunks may wait on the host (`rewrite`,
    /// `access`): a chunk that makes an outbound call suspends the phase; the request
    /// state is handed back in `request` either way.
    pub fn run_phase_suspendable(&mut self, phase: Phase, request: &mut RequestState) -> PhaseRun {
        self.bind_host();
        if self.disabled.is_some() {
            return PhaseRun::Done(PhaseOutcome::Failed);
        }
        let Some(index) = self.phases.iter().position(|(p, _)| *p == phase) else {
            return PhaseRun::Done(PhaseOutcome::Continue);
        };
        self.pdk.enter(phase, std::mem::take(request));
        lua::limits::reset_phase_clock();
        self.continue_phase(phase, index, 0, None, request)
    }

    /// Continues `suspended` with `answer` as the results of the native it waits in,
    /// for the request whose state is `request`; the phase may suspend again.
    pub fn resume_phase(&mut self, suspended: SuspendedPhase, answer: Answer, request: &mut RequestState) -> PhaseRun {
        let SuspendedPhase { phase, owner, executor, spent, .. } = suspended;
        let Owner::Chunk { phase_index, chunk_index, stage } = owner else {
            // A timer's wait: not a request's.
            return PhaseRun::Done(PhaseOutcome::Failed);
        };
        self.pdk.enter(phase, std::mem::take(request));
        // The time spent waiting on the host is not the phase's own (`phase_time_ms`).
        lua::limits::reset_phase_clock();
        self.executor = executor;
        self.last_instructions = spent;
        let resumed = self.lua.enter(|ctx| {
            let exec = ctx.fetch(&self.executor);
            exec.resume(ctx, Variadic(answer.into_values(ctx))).is_ok()
        });
        if !resumed {
            // Not a suspended executor: nothing can continue the chunk.
            let name = self.phases[phase_index].1[chunk_index].name.clone();
            self.log_chunk_error(&name, "the suspended chunk could not be resumed");
            self.fresh_executor();
            *request = self.pdk.leave();
            return PhaseRun::Done(PhaseOutcome::Failed);
        }
        self.continue_phase(phase, phase_index, chunk_index, Some(stage), request)
    }

    /// Drops a suspended phase that will not be resumed (its Lua thread is collected).
    pub fn abandon(&mut self, suspended: SuspendedPhase) {
        drop(suspended);
    }

    fn fresh_executor(&mut self) {
        self.executor = self.lua.enter(|ctx| ctx.stash(Executor::new(ctx)));
    }

    /// Runs the chunks of phase `index` from `chunk` on (resuming it first when `resume`
    /// gives its stage), with the PDK entered for the request.
    fn continue_phase(&mut self, phase: Phase, index: usize, chunk: usize, mut resume: Option<Stage>, request: &mut RequestState) -> PhaseRun {
        let mut outcome = PhaseOutcome::Continue;
        for i in chunk..self.phases[index].1.len() {
            let run = match resume.take() {
                Some(stage) => self.drive_chunk(index, i, stage, None),
                None => self.start_chunk(index, i),
            };
            match run {
                ChunkRun::Yielded(stage) => {
                    let wait = self.pdk.scope_mut().request.wait.take();
                    *request = self.pdk.leave();
                    let Some(wait) = wait else {
                        // `drive` reports a yield only with a wait recorded.
                        self.fresh_executor();
                        return PhaseRun::Done(PhaseOutcome::Failed);
                    };
                    let executor = std::mem::replace(&mut self.executor, self.lua.enter(|ctx| ctx.stash(Executor::new(ctx))));
                    let spent = self.last_instructions;
                    let owner = Owner::Chunk { phase_index: index, chunk_index: i, stage };
                    return PhaseRun::Suspended(SuspendedPhase { phase, wait, owner, executor, spent });
                }
                ChunkRun::Done(Ok(())) if self.pdk.scope().request.exit.is_some() => {
                    outcome = PhaseOutcome::Exited;
                    break;
                }
                // Kong's drop_frame/close: the handlers after this one are skipped.
                ChunkRun::Done(Ok(())) if self.pdk.scope().request.ws_frame.as_ref().is_some_and(|f| f.drop) => break,
                ChunkRun::Done(Ok(())) => {}
                ChunkRun::Done(Err(message)) => {
                    let name = self.phases[index].1[i].name.clone();
                    self.log_chunk_error(&name, &message);
                    outcome = PhaseOutcome::Failed;
                    break;
                }
            }
        }
        *request = self.pdk.leave();
        PhaseRun::Done(outcome)
    }

    /// Starts one chunk under Kong's first-run rule.
    fn start_chunk(&mut self, phase_index: usize, chunk_index: usize) -> ChunkRun {
        let chunk = &mut self.phases[phase_index].1[chunk_index];
        let function = chunk.function.clone();
        let stage = if chunk.first_run_done { Stage::Later } else { Stage::First };
        chunk.first_run_done = true;
        self.drive_chunk(phase_index, chunk_index, stage, Some(function))
    }

    /// Runs (`start` given) or continues a chunk invocation; on a first run that returns
    /// a function, that function replaces the chunk and is called right away.
    fn drive_chunk(&mut self, phase_index: usize, chunk_index: usize, mut stage: Stage, mut start: Option<StashedFunction>) -> ChunkRun {
        loop {
            match self.drive(start.take().as_ref(), None, stage == Stage::First) {
                Drive::Yielded => return ChunkRun::Yielded(stage),
                Drive::Finished(Err(e)) => return ChunkRun::Done(Err(e)),
                Drive::Finished(Ok(Some(handler))) if stage == Stage::First && self.pdk.scope().request.exit.is_none() => {
                    self.phases[phase_index].1[chunk_index].function = handler.clone();
                    stage = Stage::Later;
                    start = Some(handler);
                }
                Drive::Finished(Ok(_)) => return ChunkRun::Done(Ok(())),
            }
        }
    }

    /// Starts `start` with no arguments on the instance's executor (or, with `None`,
    /// continues the executor where it was resumed), within the instruction and memory
    /// budgets, until it finishes or yields waiting on the host.
    fn drive(&mut self, start: Option<&StashedFunction>, args: Option<&StashedTable>, want_function: bool) -> Drive {
        lua::limits::install(self.limits);
        lua::limits::install_clock(&self.pdk.scope().view);
        let executor = &self.executor;
        let pdk = &self.pdk;
        let mut spent: i64 = if start.is_some() { 0 } else { self.last_instructions };
        // Most chunks finish within one fuel slice: start, run and collect the result in
        // one `Lua::enter` (each enter has a fixed cost; garbage is collected after it).
        let (mut done, used, mut result) = self.lua.enter(|ctx| {
            let exec = ctx.fetch(executor);
            callout::set_chunk_executor(gc_arena::Gc::as_ptr(exec.into_inner()) as usize);
            if let Some(function) = start {
                let mut values = Vec::new();
                if let Some(args) = args {
                    let args = ctx.fetch(args);
                    let n = args.get(ctx, "n").to_integer().unwrap_or(0);
                    values.extend((1..=n).map(|i| args.get(ctx, i)));
                }
                exec.restart(ctx, ctx.fetch(function), Variadic(values));
            }
            let (done, used) = step_slice(ctx, exec);
            (done, used, done.then(|| settle(ctx, exec, want_function, pdk)))
        });
        spent += used;
        self.last_instructions = spent;
        while !done {
            if spent > self.limits.instructions {
                self.lua.enter(|ctx| ctx.fetch(executor).stop(&ctx));
                return Drive::Finished(Err("instruction limit exceeded".into()));
            }
            if let Err(message) = check_phase_budget(pdk, &self.limits) {
                self.lua.enter(|ctx| ctx.fetch(executor).stop(&ctx));
                return Drive::Finished(Err(message));
            }
            if self.lua.total_memory() > self.limits.memory_bytes {
                // Garbage may be all that is over the budget: collect before judging.
                self.lua.gc_collect();
                if self.lua.total_memory() > self.limits.memory_bytes {
                    self.lua.enter(|ctx| ctx.fetch(executor).stop(&ctx));
                    self.lua.gc_collect();
                    return Drive::Finished(Err("memory limit exceeded".into()));
                }
            }
            let (finished, used, settled) = self.lua.enter(|ctx| {
                let exec = ctx.fetch(executor);
                let (done, used) = step_slice(ctx, exec);
                (done, used, done.then(|| settle(ctx, exec, want_function, pdk)))
            });
            spent += used;
            self.last_instructions = spent;
            done = finished;
            result = settled;
        }
        match result {
            Some(Drive::Finished(Ok(value))) => match check_header_names(pdk, &self.limits).and_then(|()| lua::limits::phase_time_spent()) {
                Ok(()) => Drive::Finished(Ok(value)),
                Err(message) => Drive::Finished(Err(message)),
            },
            Some(drive) => drive,
            None => Drive::Finished(Err("the chunk did not finish".into())),
        }
    }
}

impl Runtime {
    /// Runs the `ngx.timer` callbacks due now (from the root context's tick), each as a
    /// chunk invocation with no request; `every` timers are queued again. Returns the
    /// callbacks that wait on the host (outbound calls), to resume with
    /// [`Runtime::resume_timer`]. An error in a callback is logged, as nginx logs a
    /// timer's error.
    pub fn run_due_timers(&mut self) -> Vec<SuspendedPhase> {
        let now = self.setup.host.now_nanos();
        let due: Vec<crate::pdk::ngx::timer::Timer> = {
            let mut scope = self.pdk.scope_mut();
            let pending = std::mem::take(&mut scope.timers.pending);
            let (due, later): (Vec<_>, Vec<_>) = pending.into_iter().partition(|t| t.due_ns <= now);
            scope.timers.pending = later;
            due
        };
        let mut waiting = Vec::new();
        for timer in due {
            if let Some(every) = timer.every_ns {
                let again = crate::pdk::ngx::timer::Timer { due_ns: now + every, every_ns: timer.every_ns, function: timer.function.clone(), args: timer.args.clone() };
                self.pdk.scope_mut().timers.pending.push(again);
            }
            self.enter_timer(true);
            let drive = self.drive(Some(&timer.function), Some(&timer.args), false);
            if let Some(suspended) = self.settle_timer(drive) {
                waiting.push(suspended);
            }
        }
        waiting
    }

    /// Continues a timer callback that waited on the host with `answer`; `Some` when it
    /// waits again.
    pub fn resume_timer(&mut self, suspended: SuspendedPhase, answer: Answer) -> Option<SuspendedPhase> {
        self.enter_timer(false);
        self.executor = suspended.executor;
        self.last_instructions = suspended.spent;
        let resumed = self.lua.enter(|ctx| ctx.fetch(&self.executor).resume(ctx, Variadic(answer.into_values(ctx))).is_ok());
        let drive = if resumed { self.drive(None, None, false) } else { Drive::Finished(Err("the suspended timer could not be resumed".into())) };
        self.settle_timer(drive)
    }

    /// Enters a timer callback's run (`starting`: a new run, counted as running until
    /// it ends).
    fn enter_timer(&mut self, starting: bool) {
        self.pdk.enter(Phase::Log, RequestState::default());
        lua::limits::reset_phase_clock();
        let mut scope = self.pdk.scope_mut();
        scope.timers.in_timer = true;
        if starting {
            scope.timers.running += 1;
        }
    }

    /// Ends a timer callback's run: suspended (its executor kept, the runtime given a
    /// fresh one), or done (an error logged).
    fn settle_timer(&mut self, drive: Drive) -> Option<SuspendedPhase> {
        let wait = self.pdk.scope_mut().request.wait.take();
        let result = match (drive, wait) {
            (Drive::Yielded, Some(wait)) => {
                let executor = std::mem::replace(&mut self.executor, self.lua.enter(|ctx| ctx.stash(Executor::new(ctx))));
                Some(SuspendedPhase { phase: Phase::Log, wait, owner: Owner::Timer, executor, spent: self.last_instructions })
            }
            (Drive::Finished(Err(message)), _) => {
                let role = self.pdk.scope().role.name();
                self.setup.host.log(crate::host::LogLevel::Error, &format!("[{role}] timer: {message}"));
                None
            }
            _ => None,
        };
        let mut scope = self.pdk.scope_mut();
        scope.timers.in_timer = false;
        if result.is_none() {
            scope.timers.running = scope.timers.running.saturating_sub(1);
        }
        drop(scope);
        self.pdk.leave();
        result
    }
}

/// A stopped executor: yielded waiting on the host (a wait recorded, the main thread
/// left suspended), or finished (its result taken, as [`finish`] does).
fn settle<'gc>(ctx: piccolo::Context<'gc>, exec: Executor<'gc>, want_function: bool, pdk: &crate::pdk::Pdk) -> Drive {
    if pdk.scope().request.wait.is_some() && exec.mode() == ExecutorMode::Result {
        // Taking the yielded values leaves the main thread suspended.
        let _ = exec.take_result::<Variadic<Vec<Value<'gc>>>>(ctx);
        return Drive::Yielded;
    }
    Drive::Finished(finish(ctx, exec, want_function))
}
