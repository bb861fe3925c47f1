//! One loaded filter: its wasmtime instance, root context and stream contexts.

use wasmtime::error::Context as _;
use wasmtime::Result;
use wasmtime::{Instance, Linker, Store, TypedFunc};
use wasmtime_wasi::WasiCtxBuilder;

use crate::abi::{self, Callback, HostState, LocalReply, Shared, ROOT_CONTEXT_ID};
use crate::dispatch::{CallResponse, HttpCall};
use crate::spec::{config_bytes, FilterSpec};
use crate::Harness;

/// `proxy_on_vm_start` or `proxy_on_configure` returned false.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartFailure {
    /// The filter's name.
    pub filter: String,
    /// `on_vm_start` or `on_configure`.
    pub step: &'static str,
}

impl std::fmt::Display for StartFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.step {
            "on_configure" => write!(f, "filter {:?}: proxy_on_configure returned false (configuration rejected)", self.filter),
            step => write!(f, "filter {:?}: proxy_{step} returned false", self.filter),
        }
    }
}

impl std::error::Error for StartFailure {}

/// The context [`Filter::join`] puts on a trap in `proxy_on_configure` (a trap in
/// `proxy_on_context_create` or `proxy_on_vm_start` has none), so a host can tell which
/// start-up step failed.
pub const TRAP_IN_CONFIGURE: &str = "trap in proxy_on_configure";

/// proxy-wasm `Action` values returned by the stream callbacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// 0: go on to the next filter.
    Continue,
    /// 1: stop here until `proxy_continue_stream`.
    Pause,
}


/// The epoch deadline of every store: never reached unless a profiler lowers it.
pub(crate) const NO_EPOCH_DEADLINE: u64 = 1 << 62;

/// One wasm VM: a module instance and its store. On Envoy every plugin with the same
/// `vm_id` and code shares one per worker (proxy-wasm-cpp-host `WasmBase`, one root
/// context per `root_id`: `WasmBase::start`), so the chain gives filters of one module
/// one `Vm` there; on Kong's engine each filter has its own.
pub struct Vm {
    store: Store<HostState>,
    instance: Instance,
    /// The next context id the host hands out: root and stream contexts share one
    /// numbering per VM (cpp-host `WasmBase::allocContextId`).
    next_context_id: i32,
}

/// What each root context keeps of the host's state between its calls into a shared
/// [`Vm`]: swapped into the store for each call and out after it.
struct RootState {
    filter_name: String,
    root_id: String,
    plugin_config: Vec<u8>,
    root_context_id: i32,
    local_reply: Option<LocalReply>,
    continued: bool,
    tick_period_ms: u32,
    pending_calls: std::collections::VecDeque<HttpCall>,
    call_response: Option<CallResponse>,
    request_headers_released: bool,
    response_headers_released: bool,
    request_headers_seen: bool,
    response_headers_seen: bool,
}

impl RootState {
    /// Exchanges this root context's fields with the store's (symmetric: the same call
    /// puts them back).
    fn swap(&mut self, state: &mut HostState) {
        std::mem::swap(&mut self.filter_name, &mut state.filter_name);
        std::mem::swap(&mut self.root_id, &mut state.root_id);
        std::mem::swap(&mut self.plugin_config, &mut state.plugin_config);
        std::mem::swap(&mut self.root_context_id, &mut state.root_context_id);
        std::mem::swap(&mut self.local_reply, &mut state.local_reply);
        std::mem::swap(&mut self.continued, &mut state.continued);
        std::mem::swap(&mut self.tick_period_ms, &mut state.tick_period_ms);
        std::mem::swap(&mut self.pending_calls, &mut state.pending_calls);
        std::mem::swap(&mut self.call_response, &mut state.call_response);
        std::mem::swap(&mut self.request_headers_released, &mut state.request_headers_released);
        std::mem::swap(&mut self.response_headers_released, &mut state.response_headers_released);
        std::mem::swap(&mut self.request_headers_seen, &mut state.request_headers_seen);
        std::mem::swap(&mut self.response_headers_seen, &mut state.response_headers_seen);
    }
}

/// A filter: one root context (plugin instance) in a [`Vm`], started and configured,
/// and its stream contexts.
pub struct Filter {
    /// The name from the chain file.
    pub name: String,
    vm: std::rc::Rc<std::cell::RefCell<Vm>>,
    /// This root context's host state while no call of it runs.
    own: RootState,
    /// Set when a call into the instance trapped (Kong replaces such an instance).
    pub trapped: bool,
}

impl Filter {
    /// Runs `f` on the instance's store, for the profiler's hooks.
    #[cfg(feature = "profiling")]
    pub(crate) fn with_store<R>(&mut self, f: impl FnOnce(&mut Store<HostState>) -> R) -> R {
        f(&mut self.vm.borrow_mut().store)
    }

    /// Bytes of the instance's linear memory (`memory` export), in whole wasm pages.
    pub fn memory_bytes(&mut self) -> usize {
        let mut vm = self.vm.borrow_mut();
        let Vm { store, instance, .. } = &mut *vm;
        match instance.get_memory(&mut *store, "memory") {
            Some(memory) => memory.data_size(&*store),
            None => 0,
        }
    }

    /// Whether `other` runs in the same VM as this filter.
    pub fn shares_vm_with(&self, other: &Filter) -> bool {
        std::rc::Rc::ptr_eq(&self.vm, &other.vm)
    }

    /// Instantiates `spec`'s module, then runs `_initialize`, `proxy_on_context_create`,
    /// `proxy_on_vm_start` and `proxy_on_configure` for its root context.
    ///
    /// Errors: module load or link failure, a trap, or `false` from start or configure.
    pub fn new(harness: &Harness, spec: &FilterSpec, vm_config: &serde_json::Value, shared: Shared) -> Result<Filter> {
        let module = harness.module(&spec.module)?;
        Filter::instantiate(harness.engine(), &module, spec, vm_config, shared)
    }

    /// [`Filter::new`] with the module already compiled.
    pub fn instantiate(
        engine: &wasmtime::Engine,
        module: &wasmtime::Module,
        spec: &FilterSpec,
        vm_config: &serde_json::Value,
        shared: Shared,
    ) -> Result<Filter> {
        let vm = Filter::new_vm(engine, module, spec, vm_config, shared)?;
        Filter::join(vm, spec)
    }

    /// A fresh instance of `module`, `_initialize` run, no root context yet.
    ///
    /// Errors: link or instantiation failure, a trap in `_initialize`.
    pub fn new_vm(
        engine: &wasmtime::Engine,
        module: &wasmtime::Module,
        spec: &FilterSpec,
        vm_config: &serde_json::Value,
        shared: Shared,
    ) -> Result<std::rc::Rc<std::cell::RefCell<Vm>>> {
        let mut linker = Linker::new(engine);
        abi::add_to_linker(&mut linker, shared.profile)?;
        wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |s: &mut HostState| &mut s.wasi)?;
        let state = HostState {
            wasi: WasiCtxBuilder::new().build_p1(),
            filter_name: spec.name.clone(),
            root_id: spec.root_id.clone().unwrap_or_else(|| spec.name.clone()),
            vm_config: config_bytes(vm_config),
            plugin_config: Vec::new(),
            shared,
            local_reply: None,
            continued: false,
            tick_period_ms: 0,
            root_context_id: ROOT_CONTEXT_ID,
            context_id: ROOT_CONTEXT_ID,
            callback: Callback::Root,
            pending_calls: Default::default(),
            last_token: 0,
            call_response: None,
            memory: None,
            allocate: None,
            request_headers_released: false,
            response_headers_released: false,
            request_headers_seen: false,
            response_headers_seen: false,
        };
        let mut store = Store::new(engine, state);
        // Only read on an engine with epoch interruption (the profiler's, see
        // `profiling`): a store's deadline starts at 0, which would trap at once.
        store.set_epoch_deadline(NO_EPOCH_DEADLINE);
        let instance = linker
            .instantiate(&mut store, module)
            .with_context(|| format!("filter {:?}: cannot instantiate {}", spec.name, spec.module.display()))?;
        if instance.get_func(&mut store, "_initialize").is_some() {
            instance
                .get_typed_func::<(), ()>(&mut store, "_initialize")
                .with_context(|| format!("filter {:?}: bad export _initialize", spec.name))?
                .call(&mut store, ())?;
        }
        Ok(std::rc::Rc::new(std::cell::RefCell::new(Vm { store, instance, next_context_id: ROOT_CONTEXT_ID })))
    }

    /// Creates `spec`'s root context in `vm` and starts it as cpp-host's
    /// `WasmBase::start` and `configure` do: `proxy_on_context_create(root, 0)`,
    /// `proxy_on_vm_start(root, vm_config_size)`, `proxy_on_configure(root, size)`.
    ///
    /// Errors: a trap, or `false` from start or configure ([`StartFailure`]).
    pub fn join(vm: std::rc::Rc<std::cell::RefCell<Vm>>, spec: &FilterSpec) -> Result<Filter> {
        let root_context_id = {
            let mut vm = vm.borrow_mut();
            let id = vm.next_context_id;
            vm.next_context_id += 1;
            id
        };
        let own = RootState {
            filter_name: spec.name.clone(),
            root_id: spec.root_id.clone().unwrap_or_else(|| spec.name.clone()),
            plugin_config: config_bytes(&spec.config),
            root_context_id,
            local_reply: None,
            continued: false,
            tick_period_ms: 0,
            pending_calls: Default::default(),
            call_response: None,
            request_headers_released: false,
            response_headers_released: false,
            request_headers_seen: false,
            response_headers_seen: false,
        };
        let mut filter = Filter { name: spec.name.clone(), vm, own, trapped: false };
        filter.start()?;
        Ok(filter)
    }

    /// The root context id of this filter.
    pub fn root_context_id(&self) -> i32 {
        self.own.root_context_id
    }

    /// Runs `f` with this root context's state in the store.
    fn call<R>(&mut self, callback: Callback, context_id: i32, f: impl FnOnce(&mut Store<HostState>, &Instance) -> R) -> R {
        let mut vm = self.vm.borrow_mut();
        let Vm { store, instance, .. } = &mut *vm;
        self.own.swap(store.data_mut());
        {
            let state = store.data_mut();
            state.context_id = context_id;
            state.callback = callback;
        }
        let result = f(store, instance);
        {
            let state = store.data_mut();
            state.context_id = state.root_context_id;
            state.callback = Callback::Root;
        }
        self.own.swap(store.data_mut());
        result
    }

    fn func<P: wasmtime::WasmParams, R: wasmtime::WasmResults>(
        name: &str,
        filter: &str,
        store: &mut Store<HostState>,
        instance: &Instance,
    ) -> Result<TypedFunc<P, R>> {
        instance.get_typed_func::<P, R>(&mut *store, name).with_context(|| format!("filter {filter:?}: bad or missing export {name}"))
    }

    fn start(&mut self) -> Result<()> {
        let root = self.own.root_context_id;
        let name = self.name.clone();
        self.call(Callback::Configure, root, |store, instance| {
            Filter::func::<(i32, i32), ()>("proxy_on_context_create", &name, store, instance)?.call(&mut *store, (root, 0))?;
            let vm_config_len = store.data().vm_config.len() as i32;
            let started = Filter::func::<(i32, i32), i32>("proxy_on_vm_start", &name, store, instance)?.call(&mut *store, (root, vm_config_len))?;
            if started == 0 {
                return Err(wasmtime::Error::new(StartFailure { filter: name.clone(), step: "on_vm_start" }));
            }
            let config_len = store.data().plugin_config.len() as i32;
            let configured = Filter::func::<(i32, i32), i32>("proxy_on_configure", &name, store, instance)?
                .call(&mut *store, (root, config_len))
                .with_context(|| format!("filter {name:?}: {TRAP_IN_CONFIGURE}"))?;
            if configured == 0 {
                return Err(wasmtime::Error::new(StartFailure { filter: name.clone(), step: "on_configure" }));
            }
            Ok(())
        })
    }

    /// Creates an HTTP context for a new stream; returns its id.
    pub fn create_stream(&mut self) -> Result<i32> {
        let id = {
            let mut vm = self.vm.borrow_mut();
            let id = vm.next_context_id;
            vm.next_context_id += 1;
            id
        };
        let root = self.own.root_context_id;
        let name = self.name.clone();
        let result = self.call(Callback::Root, root, |store, instance| {
            Filter::func::<(i32, i32), ()>("proxy_on_context_create", &name, store, instance)?.call(&mut *store, (id, root))
        });
        self.trapped |= result.is_err();
        result?;
        self.own.request_headers_released = false;
        self.own.response_headers_released = false;
        self.own.request_headers_seen = false;
        self.own.response_headers_seen = false;
        Ok(id)
    }

    fn stream_call(&mut self, export: &str, callback: Callback, args: (i32, i32, i32)) -> Result<Action> {
        self.own.local_reply = None;
        self.own.continued = false;
        match callback {
            Callback::RequestHeaders => self.own.request_headers_seen = true,
            Callback::ResponseHeaders => self.own.response_headers_seen = true,
            _ => {}
        }
        let name = self.name.clone();
        let result = self.call(callback, args.0, |store, instance| {
            Filter::func::<(i32, i32, i32), i32>(export, &name, store, instance)?.call(&mut *store, args)
        });
        self.trapped |= result.is_err();
        let action = result?;
        let action = if action == 0 || self.own.continued { Action::Continue } else { Action::Pause };
        if action == Action::Continue {
            // Envoy's Context drops a headers map once its callback continues.
            match callback {
                Callback::RequestHeaders => self.own.request_headers_released = true,
                Callback::ResponseHeaders => self.own.response_headers_released = true,
                _ => {}
            }
        }
        Ok(action)
    }

    /// Whether `proxy_continue_stream` was called during the last callback (for the
    /// stream it ran for); clears the flag.
    pub fn take_continued(&mut self) -> bool {
        std::mem::take(&mut self.own.continued)
    }

    /// The next call dispatched with `proxy_http_call` and not performed yet.
    pub fn next_pending_call(&mut self) -> Option<HttpCall> {
        self.own.pending_calls.pop_front()
    }

    /// Whether calls are waiting to be performed.
    pub fn has_pending_calls(&self) -> bool {
        !self.own.pending_calls.is_empty()
    }

    /// The period set with `proxy_set_tick_period_milliseconds` (0: none).
    pub fn tick_period_ms(&self) -> u32 {
        self.own.tick_period_ms
    }

    /// `proxy_on_http_call_response(context, token, headers, body_size, trailers)` for
    /// the context that dispatched `call`, with `response` readable through map types
    /// 6/7 and buffer type 4 during the callback. A local response it sends is kept
    /// for [`Filter::take_local_reply`]; `proxy_continue_stream` for
    /// [`Filter::take_continued`].
    pub fn on_http_call_response(&mut self, call: &HttpCall, response: CallResponse) -> Result<()> {
        let args = (
            call.context_id,
            call.token as i32,
            response.headers.len() as i32,
            response.body.len() as i32,
            response.trailers.len() as i32,
        );
        self.own.call_response = Some(response);
        let name = self.name.clone();
        let result = self.call(Callback::HttpCallResponse, call.context_id, |store, instance| {
            Filter::func::<(i32, i32, i32, i32, i32), ()>("proxy_on_http_call_response", &name, store, instance)?.call(&mut *store, args)
        });
        self.own.call_response = None;
        self.trapped |= result.is_err();
        result
    }

    /// `proxy_on_tick(root_context)`; a filter without that export is left alone.
    pub fn on_tick(&mut self) -> Result<()> {
        let root = self.own.root_context_id;
        let name = self.name.clone();
        let result = self.call(Callback::Tick, root, |store, instance| {
            if instance.get_func(&mut *store, "proxy_on_tick").is_none() {
                return Ok(());
            }
            Filter::func::<i32, ()>("proxy_on_tick", &name, store, instance)?.call(&mut *store, root)
        });
        self.trapped |= result.is_err();
        result
    }

    /// `proxy_on_queue_ready(root_context, token)`; a filter without that export is left
    /// alone (cpp-host `ContextBase::onQueueReady` calls it only when exported).
    pub fn on_queue_ready(&mut self, token: u32) -> Result<()> {
        let root = self.own.root_context_id;
        let name = self.name.clone();
        let result = self.call(Callback::Root, root, |store, instance| {
            if instance.get_func(&mut *store, "proxy_on_queue_ready").is_none() {
                return Ok(());
            }
            Filter::func::<(i32, i32), ()>("proxy_on_queue_ready", &name, store, instance)?.call(&mut *store, (root, token as i32))
        });
        self.trapped |= result.is_err();
        result
    }

    /// `proxy_on_request_headers(context, num_headers, end_of_stream)`.
    pub fn on_request_headers(&mut self, id: i32, headers: usize, end_of_stream: bool) -> Result<Action> {
        self.stream_call("proxy_on_request_headers", Callback::RequestHeaders, (id, headers as i32, end_of_stream as i32))
    }

    /// `proxy_on_request_body(context, body_size, end_of_stream)`.
    pub fn on_request_body(&mut self, id: i32, size: usize, end_of_stream: bool) -> Result<Action> {
        self.stream_call("proxy_on_request_body", Callback::RequestBody, (id, size as i32, end_of_stream as i32))
    }

    /// `proxy_on_response_headers(context, num_headers, end_of_stream)`.
    pub fn on_response_headers(&mut self, id: i32, headers: usize, end_of_stream: bool) -> Result<Action> {
        self.stream_call("proxy_on_response_headers", Callback::ResponseHeaders, (id, headers as i32, end_of_stream as i32))
    }

    /// `proxy_on_response_body(context, body_size, end_of_stream)`.
    pub fn on_response_body(&mut self, id: i32, size: usize, end_of_stream: bool) -> Result<Action> {
        self.stream_call("proxy_on_response_body", Callback::ResponseBody, (id, size as i32, end_of_stream as i32))
    }

    /// The local response the last callback sent, if any.
    pub fn take_local_reply(&mut self) -> Option<LocalReply> {
        self.own.local_reply.take()
    }

    /// Ends a stream: `proxy_on_log`, `proxy_on_done`, `proxy_on_delete`.
    pub fn finish_stream(&mut self, id: i32) -> Result<()> {
        let name = self.name.clone();
        let result = self.call(Callback::Log, id, |store, instance| {
            Filter::func::<i32, ()>("proxy_on_log", &name, store, instance)?.call(&mut *store, id)?;
            Filter::func::<i32, i32>("proxy_on_done", &name, store, instance)?.call(&mut *store, id)?;
            Filter::func::<i32, ()>("proxy_on_delete", &name, store, instance)?.call(&mut *store, id)
        });
        self.own.local_reply = None;
        self.trapped |= result.is_err();
        result
    }

    /// Runs `proxy_on_configure` on the root context again with `config` (a host pushing a
    /// new plugin configuration to a running instance); returns what the filter answered.
    ///
    /// Errors: a trap.
    pub fn reconfigure(&mut self, config: &serde_json::Value) -> Result<bool> {
        self.own.plugin_config = config_bytes(config);
        let root = self.own.root_context_id;
        let len = self.own.plugin_config.len() as i32;
        let name = self.name.clone();
        let result = self.call(Callback::Configure, root, |store, instance| {
            Ok::<_, wasmtime::Error>(Filter::func::<(i32, i32), i32>("proxy_on_configure", &name, store, instance)?.call(&mut *store, (root, len))?)
        });
        self.trapped |= result.is_err();
        Ok(result? != 0)
    }

    /// Bytes of linear memory the instance uses now.
    pub fn memory_size(&mut self) -> usize {
        self.memory_bytes()
    }
}
