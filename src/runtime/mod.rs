//! One Lua state per plugin instance (proxy-wasm root context): chunks compiled once at
//! configure time, Kong's first-run rule, and running a phase for one request.
//!
//! Kong's rule (`kong/plugins/pre-function/_handler.lua`): the first time a chunk runs, if
//! it returns a function, that function is called right away and replaces the chunk for
//! every later request (its upvalues keep state); otherwise the chunk itself runs each
//! time. A first run that exits early or fails still counts as the first run.

mod request;
mod suspend;

use std::fmt;
use std::rc::Rc;

use gc_arena::metrics::Pacing;
use piccolo::{Context, Executor, Fuel, Lua, StashedExecutor, StashedFunction, Value};

pub use suspend::{PhaseRun, SuspendedPhase};
pub use request::{BodyChunk, HeaderOp, LocalResponse, RequestState, SerializeValue, WsClose, WsFrame};

use crate::config::{PluginConfig, Role};
use crate::host::{Host, LogLevel};
use crate::lua;
use crate::pdk::{self, Pdk, Scope};
use crate::phase::Phase;
use crate::properties::HostKind;
use crate::sandbox::{self, Mode, SandboxSettings};
use crate::stream::HostView;
use crate::vm_config::{Limits, VmConfig};

/// Fuel handed to the VM per `Lua::enter`; garbage is collected between slices.
const FUEL_PER_SLICE: i32 = 16 * 1024;

/// A chunk that failed to compile: where, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileError {
    /// The phase whose array holds the chunk.
    pub phase: Phase,
    /// 1-based index in that array, as Kong's config shows it.
    pub index: usize,
    /// LuaJIT's name for the chunk, as Kong's schema loads it without one:
    /// `[string "<first line>"]` ([`crate::lua::syntax::source_name`]).
    pub source_name: String,
    /// 1-based line of the error inside the chunk.
    pub line: u64,
    /// The parser's or compiler's reason.
    pub reason: String,
}

impl fmt::Display for CompileError {
    /// `<source name>:<line>: <reason>` as LuaJIT words it, e.g.
    /// `[string "print("]:1: unexpected symbol near '<eof>'` (what Kong's schema reports).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.source_name, self.line, self.reason)
    }
}

impl std::error::Error for CompileError {}

/// Why a plugin configuration was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigureError {
    /// `untrusted_lua = off` and the configuration has Lua code (Kong's message).
    Disabled,
    /// A chunk failed to compile.
    Compile(CompileError),
    /// The configuration is larger than the VM configuration's `limits.chunks` or
    /// `limits.source_bytes` allow: what, how much, and the limit.
    TooLarge(&'static str, usize, usize),
}

impl fmt::Display for ConfigureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigureError::Disabled => f.write_str(sandbox::OFF_MESSAGE),
            ConfigureError::TooLarge(what, size, limit) => write!(f, "too many {what} ({size}, limit {limit})"),
            ConfigureError::Compile(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for ConfigureError {}

impl From<CompileError> for ConfigureError {
    fn from(e: CompileError) -> Self {
        ConfigureError::Compile(e)
    }
}

/// What running a phase's chunks came to for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhaseOutcome {
    /// Every chunk ran to its end.
    Continue,
    /// A chunk called `kong.response.exit`: the response is in `RequestState::exit`, and
    /// the phase's remaining chunks were skipped.
    Exited,
    /// A chunk raised a Lua error (already logged); the remaining chunks were skipped.
    Failed,
}

struct Chunk {
    /// `<phase>[<index>]`: the chunk name Lua error positions carry.
    name: String,
    function: StashedFunction,
    first_run_done: bool,
}

/// The Lua side of one plugin instance.
pub struct Runtime {
    lua: Lua,
    pdk: Pdk,
    phases: Vec<(Phase, Vec<Chunk>)>,
    executor: StashedExecutor,
    limits: Limits,
    /// Fuel the last chunk invocation used.
    last_instructions: i64,
    /// Some `rewrite`/`access` chunk reads or replaces the request body.
    uses_request_body: bool,
    /// Some chunk names `ngx.ctx` or an nginx `upstream_*` variable: the stream then keeps
    /// the times Kong's runloop fields of `ngx.ctx` (and `$upstream_*_time`) are made of.
    uses_ngx_ctx: bool,
    /// See [`Runtime::uses_service_response`].
    uses_service_response: bool,
    /// Some chunk names `sleep` or `timer` (`ngx.sleep`, `ngx.timer.*`): the instance
    /// then needs ticks.
    uses_ticks: bool,
    /// What the instance was configured with, to bind it to the host on the first request.
    setup: Setup,
    /// Why every request fails, when binding to the host found the configuration
    /// unusable there (Kong's node says `untrusted_lua = off`).
    disabled: Option<String>,
    /// Downstream connections `certificate` ran for, with whether it succeeded: a ring of
    /// at most [`MAX_CONNECTIONS`], `next_connection` the slot the next one takes.
    connections: Vec<(Vec<u8>, bool)>,
    next_connection: usize,
    /// The host gave no connection identity and that was logged.
    no_connection_id_logged: bool,
}

/// Connections remembered for the `certificate` phase. A connection forgotten (4096 newer
/// ones came since) would run `certificate` again on its next request.
pub const MAX_CONNECTIONS: usize = 4096;

/// The configuration a runtime was built from.
#[derive(Clone)]
struct Setup {
    config: PluginConfig,
    vm: VmConfig,
    /// The role, when the configuration or the host named it at configure.
    role: Option<Role>,
    host: Rc<dyn Host>,
    /// Set once the first request detected the host.
    bound: bool,
}

/// PDK and ngx functions that read or replace the request body: a `rewrite`/`access`
/// chunk naming one makes the filter buffer the request body before running those phases.
/// `get_client_body_reader` is lua-resty-http's reader of the downstream body (read here
/// from the buffered body, as it reads `ngx.req.socket()` on nginx).
const REQUEST_BODY_FUNCTIONS: [&str; 11] = [
    "get_raw_body",
    "get_body",
    "read_body",
    "get_body_data",
    "get_post_args",
    "set_raw_body",
    "set_body",
    "set_body_data",
    "init_body",
    "append_body",
    "get_client_body_reader",
];

/// Bytes a new Lua state allocates before its first collection cycle starts: more than a
/// start-up allocates (natively, 97 KB for the seed walkthrough, 222 KB for 50 copies of
/// its chunk), so configure runs no collector work; far under the `memory_bytes` limit.
const STARTUP_SLEEP_BYTES: usize = 256 * 1024;

/// How far the heap grows past what the last collection kept before the next cycle
/// starts (gc-arena's `pause_factor`, default 0.5). A request's garbage dies with it while
/// the state's own tables (PDK, libraries, chunks) live on, so every cycle marks the
/// whole retained heap for a few requests' garbage: a longer pause runs the cycles that
/// much less often (issue 28's "GC pacing for request-sized heaps"). The heap then peaks
/// at about `1 + REQUEST_PAUSE_FACTOR` times the retained size (under 2 MB for the
/// scenarios), far under `memory_bytes`.
const REQUEST_PAUSE_FACTOR: f64 = 2.0;

/// The collector pacing used once a state is built.
fn request_pacing() -> Pacing {
    Pacing::default().with_pause_factor(REQUEST_PAUSE_FACTOR)
}

impl Runtime {
    /// Builds the Lua state, installs the PDK and compiles every chunk of `config`, with
    /// the default VM configuration (`sandbox` mode, default [`Limits`]).
    ///
    /// Errors: the first chunk that fails to compile, in phase then array order; nothing
    /// of the configuration is kept in that case.
    pub fn new(config: &PluginConfig, role: Role, host: Rc<dyn Host>) -> Result<Runtime, ConfigureError> {
        Runtime::with_vm_config(config, role, host, &VmConfig::default())
    }

    /// [`Runtime::new`] with the VM configuration's sandbox settings and limits.
    ///
    /// Errors: [`ConfigureError::Disabled`] when `untrusted_lua` is `off` and `config`
    /// has any Lua code; otherwise the first chunk that fails to compile.
    pub fn with_vm_config(config: &PluginConfig, role: Role, host: Rc<dyn Host>, vm: &VmConfig) -> Result<Runtime, ConfigureError> {
        let setup = Setup { config: config.clone(), vm: vm.clone(), role: Some(role), host, bound: false };
        Runtime::build(setup, HostKind::Generic)
    }

    /// [`Runtime::with_vm_config`] as `proxy_on_configure` calls it: the configuration's
    /// `role` wins over `role` (the one the host named at configure, if any); with
    /// neither, the first request takes it from the host's `plugin_name` (see
    /// [`Runtime::bind_host`]). Nothing is asked of the host here.
    pub fn configure(config: &PluginConfig, role: Option<Role>, host: Rc<dyn Host>, vm: &VmConfig) -> Result<Runtime, ConfigureError> {
        let role = config.role.or(role);
        let setup = Setup { config: config.clone(), vm: vm.clone(), role, host, bound: false };
        Runtime::build(setup, HostKind::Generic)
    }

    fn build(setup: Setup, kind: HostKind) -> Result<Runtime, ConfigureError> {
        let (config, vm) = (&setup.config, &setup.vm);
        let settings = vm.sandbox();
        let has_code = config.phases.iter().any(|(_, sources)| !sources.is_empty());
        if settings.mode == Mode::Off && has_code {
            return Err(ConfigureError::Disabled);
        }
        let limits = vm.limits;
        let sources = || config.phases.iter().flat_map(|(_, sources)| sources);
        let (chunks, bytes) = (sources().count(), sources().map(String::len).sum::<usize>());
        if chunks > limits.chunks {
            return Err(ConfigureError::TooLarge("chunks", chunks, limits.chunks));
        }
        if bytes > limits.source_bytes {
            return Err(ConfigureError::TooLarge("bytes of Lua source", bytes, limits.source_bytes));
        }
        let zone = config.shared_data_zone.clone().or_else(|| vm.shared_data_zone.clone());
        let view = Rc::new(HostView::new(setup.host.clone(), zone));
        view.set_envoy_hold(vm.envoy_allow_on_headers_stop_iteration);
        view.bind(kind);
        let mut scope = Scope::new(view, setup.role.unwrap_or(Role::PreFunction));
        scope.host_kind = kind;
        // `parse` checked the dictionaries; a VmConfig built in code falls back to Kong's.
        scope.shared_dicts = Rc::new(vm.dictionaries().unwrap_or_else(|_| crate::pdk::ngx::shared::dictionaries(&Default::default())));
        let pdk = Pdk::new(scope);
        lua::limits::install(limits);
        crate::pdk::callout::set_upstreams(vm.upstreams.clone());
        // One arena entry for the whole build, and no collection cycle started during it:
        // piccolo runs its collector when `enter` returns with allocation debt, and the
        // first cycle starts after 4 KiB; at start-up everything allocated is live, so a
        // cycle would only mark the tables being built. The first cycle now starts once
        // `STARTUP_SLEEP_BYTES` are allocated; later cycles use gc-arena's default pacing.
        let mut lua = lua::core_state();
        lua.gc_metrics().set_pacing(Pacing::default().with_min_sleep(STARTUP_SLEEP_BYTES));
        // The sleep in force was set when the arena was made: a cycle over the few core
        // globals starts a sleep with the new pacing.
        lua.gc_collect();
        lua.gc_metrics().set_pacing(request_pacing());
        let (phases, executor) = lua.enter(|ctx| {
            lua::load_libraries(ctx);
            // Only the default sandbox's chunks reach `ngx` through copies made on first use
            // (see `crate::sandbox`); the other modes copy or walk it at configure.
            if sandbox::ngx_made_on_first_use(&settings) {
                pdk::install_with_lazy_ngx(ctx, &pdk);
            } else {
                pdk::install(ctx, &pdk);
            }
            let mut phases = Vec::new();
            for (phase, sources) in &config.phases {
                let mut chunks = Vec::with_capacity(sources.len());
                for (i, source) in sources.iter().enumerate() {
                    chunks.push(compile_chunk(ctx, &settings, *phase, i + 1, source)?);
                }
                phases.push((*phase, chunks));
            }
            Ok::<_, ConfigureError>((phases, ctx.stash(Executor::new(ctx))))
        })?;
        let uses_request_body = config
            .phases
            .iter()
            .filter(|(phase, _)| matches!(phase, Phase::Rewrite | Phase::Access))
            .flat_map(|(_, sources)| sources)
            .any(|source| REQUEST_BODY_FUNCTIONS.iter().any(|f| source.contains(f)));
        let uses_ngx_ctx = sources().any(|source| source.contains("ngx.ctx") || source.contains("upstream_"));
        let uses_ticks = sources().any(|source| source.contains("sleep") || source.contains("timer"));
        let uses_service_response = sources().any(|source| source.contains("service.response"));
        Ok(Runtime { lua, pdk, phases, executor, limits, last_instructions: 0, uses_request_body, uses_ngx_ctx, uses_service_response, uses_ticks, setup, disabled: None, connections: Vec::new(), next_connection: 0, no_connection_id_logged: false })
    }

    /// Binds the instance to its host on the first request (later calls do nothing):
    /// detects the host ([`HostKind::detect`]), takes the role from the host's
    /// `plugin_name` when configure could not name it, and on Kong applies the node's
    /// `kong.configuration.untrusted_lua*` and `kong.version`, rebuilding the Lua state
    /// when they change what the chunks see. Kong's engine answers none of these outside
    /// a request, which is why they are not read at configure.
    ///
    /// A node whose `untrusted_lua` is `off` disables the instance: every request then
    /// fails (see [`Runtime::disabled`]), with Kong's message logged once here.
    pub fn bind_host(&mut self) {
        if self.setup.bound {
            return;
        }
        let mut setup = self.setup.clone();
        setup.bound = true;
        let host = setup.host.clone();
        let kind = HostKind::detect(host.as_ref());
        if setup.role.is_none() {
            let name = host.property(&["plugin_name"]).unwrap_or_default();
            setup.role = Some(Role::from_host_name(&String::from_utf8_lossy(&name)));
        }
        if kind == HostKind::Kong {
            setup.vm = node_sandbox_settings(host.as_ref(), setup.vm.clone());
        }
        log_phases_the_host_cannot_run(host.as_ref(), &setup.config, kind);
        // Chunk environments copy `kong.version` and the sandbox's lists when built.
        let rebuild = setup.vm != self.setup.vm || kind == HostKind::Kong;
        if !rebuild {
            let mut scope = self.pdk.scope_mut();
            scope.view.bind(kind);
            scope.host_kind = kind;
            scope.role = setup.role.unwrap_or(scope.role);
            drop(scope);
            self.setup = setup;
            return;
        }
        match Runtime::build(setup.clone(), kind) {
            Ok(runtime) => *self = runtime,
            Err(e) => {
                let message = format!("invalid {} configuration: {e}", setup.role.unwrap_or(Role::PreFunction).name());
                host.log(LogLevel::Critical, &message);
                self.disabled = Some(message);
                self.setup = setup;
            }
        }
    }

    /// Whether `certificate` already ran for connection `id`: `Some(ok)` with its outcome,
    /// `None` for a connection not seen (or forgotten).
    pub fn connection_seen(&self, id: &[u8]) -> Option<bool> {
        self.connections.iter().find(|(seen, _)| seen == id).map(|(_, ok)| *ok)
    }

    /// Records that `certificate` ran for connection `id` with outcome `ok`, forgetting
    /// the oldest connection past [`MAX_CONNECTIONS`].
    pub fn record_connection(&mut self, id: Vec<u8>, ok: bool) {
        if self.connections.len() < MAX_CONNECTIONS {
            self.connections.push((id, ok));
        } else {
            self.connections[self.next_connection] = (id, ok);
        }
        self.next_connection = (self.next_connection + 1) % MAX_CONNECTIONS;
    }

    /// Logs, once per instance, that the host names no connection, so `certificate`
    /// runs on every request.
    pub fn note_no_connection_id(&mut self) {
        if !std::mem::replace(&mut self.no_connection_id_logged, true) {
            let message = "kong-functions: the host gives no connection.id: the certificate phase runs on every request";
            self.setup.host.log(LogLevel::Warn, message);
        }
    }

    /// Why this instance fails every request, if it does (see [`Runtime::bind_host`]).
    pub fn disabled(&self) -> Option<&str> {
        self.disabled.as_deref()
    }

    /// The host view the PDK talks through (the host's behaviour applied).
    pub fn view(&self) -> Rc<HostView> {
        self.pdk.scope().view.clone()
    }

    /// Instructions (piccolo fuel) the most recent chunk invocation used: what the
    /// `instructions` limit is measured against.
    pub fn last_instructions(&self) -> i64 {
        self.last_instructions
    }

    /// Bytes the instance's Lua heap holds now (what the `memory_bytes` limit measures).
    pub fn heap_bytes(&self) -> usize {
        self.lua.total_memory()
    }

    /// The plugin's role (sets the `[pre-function] ` / `[post-function] ` log prefix).
    pub fn role(&self) -> Role {
        self.pdk.scope().role
    }

    /// Whether a `rewrite`/`access` chunk names a function that reads or replaces the
    /// request body (`kong.request.get_raw_body`, `ngx.req.read_body`,
    /// `kong.service.request.set_body` ...): the glue then buffers the whole request body
    /// before running those phases. Chunks that never mention one buffer nothing.
    pub fn uses_request_body(&self) -> bool {
        self.uses_request_body
    }

    /// Whether a chunk names `ngx.ctx` (see [`crate::pdk::kong::ctx::ngx_ctx`]) or an nginx
    /// `upstream_*` variable: only then does the stream note when the request went
    /// upstream, when the response came and its status.
    pub fn uses_ngx_ctx(&self) -> bool {
        self.uses_ngx_ctx
    }

    /// Whether a chunk names `service.response`: only then does the stream note the
    /// header names the upstream's response came with (`RequestState::upstream_header_names`).
    pub fn uses_service_response(&self) -> bool {
        self.uses_service_response
    }

    /// Whether a chunk names `sleep` or `timer`: the root context then asks for ticks
    /// (`proxy_set_tick_period_milliseconds`), which wake sleeping chunks and run due
    /// `ngx.timer` callbacks.
    pub fn uses_ticks(&self) -> bool {
        self.uses_ticks
    }

    /// The host this instance runs in ([`HostKind::Generic`] until the first request).
    pub fn host_kind(&self) -> HostKind {
        self.pdk.scope().host_kind
    }

    /// Whether `phase` has any chunk to run.
    pub fn has_phase(&self, phase: Phase) -> bool {
        self.phases.iter().any(|(p, c)| *p == phase && !c.is_empty())
    }

    /// Runs the chunks of `phase` in array order for the request whose state is `request`.
    ///
    /// Stops at the first chunk that exits (`kong.response.exit`) or raises an error; an
    /// error is logged as `[<role>] <phase>[<index>]:<line>: <message>` at error level.
    /// The first run binds the instance to its host ([`Runtime::bind_host`]): a phase
    /// only ever runs inside a request.
    pub fn run_phase(&mut self, phase: Phase, request: &mut RequestState) -> PhaseOutcome {
        match self.run_phase_suspendable(phase, request) {
            PhaseRun::Done(outcome) => outcome,
            // Only rewrite/access chunks can suspend (`crate::pdk::callout`), and the
            // stream runs those with `run_phase_suspendable`.
            PhaseRun::Suspended(suspended) => {
                let name = self.phases.iter().find(|(p, _)| *p == phase).map(|(p, _)| p.name()).unwrap_or_default();
                let message = format!("[{}] {name}: a chunk waited on the host where the request cannot be held", self.role().name());
                self.setup.host.log(LogLevel::Error, &message);
                self.abandon(suspended);
                PhaseOutcome::Failed
            }
        }
    }

    fn log_chunk_error(&self, chunk_name: &str, message: &str) {
        let scope = self.pdk.scope();
        let positioned = message.starts_with(chunk_name) && message[chunk_name.len()..].starts_with(':');
        let text = if positioned {
            format!("[{}] {}", scope.role.name(), message)
        } else {
            format!("[{}] {}: {}", scope.role.name(), chunk_name, message)
        };
        pdk::log_line(&scope, LogLevel::Error, text);
    }

}

/// The budgets the instruction limit cannot see, checked between fuel slices: the
/// phase's wall-clock time (`Limits::phase_time_ms`; time in host calls counts) and the
/// request's header names (`Limits::header_names`). The clock is read only once a chunk
/// outlives its first slice, so a phase is timed from then: short chunks make no host
/// call for it.
fn check_phase_budget(pdk: &Pdk, limits: &crate::vm_config::Limits) -> Result<(), String> {
    check_header_names(pdk, limits)?;
    lua::limits::check_phase_time()
}

fn check_header_names(pdk: &Pdk, limits: &crate::vm_config::Limits) -> Result<(), String> {
    if pdk.scope().view.header_names_exceeded() {
        return Err(format!("header name limit exceeded ({} per request)", limits.header_names));
    }
    Ok(())
}

/// Runs the executor for one fuel slice: whether it finished, and the fuel it used.
fn step_slice<'gc>(ctx: piccolo::Context<'gc>, executor: Executor<'gc>) -> (bool, i64) {
    let mut fuel = Fuel::with(FUEL_PER_SLICE);
    let done = executor.step(ctx, &mut fuel);
    (done, i64::from(FUEL_PER_SLICE - fuel.remaining()))
}

/// The finished executor's result (the function the chunk returned, when wanted), and
/// the executor stopped for its next use.
fn finish<'gc>(ctx: piccolo::Context<'gc>, executor: Executor<'gc>, want_function: bool) -> Result<Option<StashedFunction>, String> {
    let result = match executor.take_result::<Value>(ctx) {
        Ok(Ok(Value::Function(f))) if want_function => Ok(Some(ctx.stash(f))),
        Ok(Ok(_)) => Ok(None),
        Ok(Err(e)) => Err(error_text(e)),
        Err(e) => Err(e.to_string()),
    };
    executor.stop(&ctx);
    result
}

/// The message of a Lua error as Lua prints it: strings and numbers as is, other values
/// as `(error object is a <type> value)`.
fn error_text(error: piccolo::Error<'_>) -> String {
    match error {
        piccolo::Error::Lua(e) => match e.0 {
            Value::String(s) => s.to_str_lossy().into_owned(),
            v @ (Value::Integer(_) | Value::Number(_)) => lua::format::number(v),
            v => format!("(error object is a {} value)", v.type_name()),
        },
        piccolo::Error::Runtime(e) => lua::runtime_error_text(&e),
    }
}

/// Logs one line when the configuration has WebSocket frame phases and the host cannot
/// carry upgraded streams to filters (see `HostBehaviour::carries_upgraded_streams`).
fn log_phases_the_host_cannot_run(host: &dyn Host, config: &PluginConfig, kind: HostKind) {
    if crate::stream::HostBehaviour::of(kind).carries_upgraded_streams {
        return;
    }
    let mut phases = String::new();
    for (phase, _) in config.phases.iter().filter(|(p, _)| p.is_frame_phase()) {
        if !phases.is_empty() {
            phases.push_str(", ");
        }
        phases.push_str(phase.name());
    }
    if phases.is_empty() {
        return;
    }
    let message = format!(
        "kong-functions: {phases} will not run on this host ({}): nginx hands an upgraded connection to its tunnel, \
         which passes no WebSocket frame to proxy-wasm filters; ws_handshake still runs",
        kind.name()
    );
    host.log(LogLevel::Warn, &message);
}

/// The sandbox settings with Kong's node configuration applied: in Kong, the properties
/// `kong.configuration.untrusted_lua`, `..._sandbox_requires` and `..._sandbox_environment`
/// are the node's `kong.conf` values and take precedence over the VM configuration.
fn node_sandbox_settings(host: &dyn Host, mut vm: VmConfig) -> VmConfig {
    let text = |name: &str| {
        host.property(&["kong", "configuration", name])
            .filter(|v| !v.is_empty())
            .map(|v| String::from_utf8_lossy(&v).into_owned())
    };
    if let Some(mode) = text("untrusted_lua") {
        match Mode::from_name(&mode) {
            Some(mode) => vm.untrusted_lua = mode,
            None => host.log(LogLevel::Critical, &format!("kong-functions: ignoring unknown untrusted_lua '{mode}' from the host")),
        }
    }
    if let Some(list) = text("untrusted_lua_sandbox_requires") {
        vm.untrusted_lua_sandbox_requires = sandbox::parse_list(&list);
    }
    if let Some(list) = text("untrusted_lua_sandbox_environment") {
        vm.untrusted_lua_sandbox_environment = sandbox::parse_list(&list);
    }
    vm
}

fn compile_chunk(ctx: Context<'_>, settings: &SandboxSettings, phase: Phase, index: usize, source: &str) -> Result<Chunk, CompileError> {
    let name = format!("{}[{}]", phase.name(), index);
    // Each chunk sees its own globals table (see `crate::sandbox`), so chunks cannot
    // clobber each other's globals.
    let env = sandbox::chunk_environment(ctx, settings);
    let function = lua::compile::load(ctx, &name, source.as_bytes(), env)
        .map(|closure| ctx.stash(piccolo::Function::from(closure)))
        .map_err(|e| compile_error(phase, index, source, e))?;
    Ok(Chunk { name, function, first_run_done: false })
}

fn compile_error(phase: Phase, index: usize, source: &str, error: piccolo::PrototypeError) -> CompileError {
    let (line, reason) = match error {
        piccolo::PrototypeError::Parser(e) => (e.line_number.0 + 1, lua::syntax::reason(&e)),
        piccolo::PrototypeError::Compiler(e) => (e.line_number.0 + 1, e.kind.to_string()),
    };
    CompileError { phase, index, source_name: lua::syntax::source_name(source), line, reason }
}

#[cfg(test)]
mod tests;
