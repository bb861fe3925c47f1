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

/// A filter instance with its root context created, started and configured.
pub struct Filter {
    /// The name from the chain file.
    pub name: String,
    store: Store<HostState>,
    instance: Instance,
    next_context_id: i32,
    /// Set when a call into the instance trapped (Kong replaces such an instance).
    pub trapped: bool,
}

impl Filter {
    /// The instance's store, for the profiler's hooks.
    #[cfg(feature = "profiling")]
    pub(crate) fn store_mut(&mut self) -> &mut Store<HostState> {
        &mut self.store
    }

    /// Bytes of the instance's linear memory (`memory` export), in whole wasm pages.
    pub fn memory_bytes(&mut self) -> usize {
        match self.instance.get_memory(&mut self.store, "memory") {
            Some(memory) => memory.data_size(&self.store),
            None => 0,
        }
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
        let mut linker = Linker::new(engine);
        abi::add_to_linker(&mut linker)?;
        wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |s: &mut HostState| &mut s.wasi)?;
        let state = HostState {
            wasi: WasiCtxBuilder::new().build_p1(),
            filter_name: spec.name.clone(),
            vm_config: config_bytes(vm_config),
            plugin_config: config_bytes(&spec.config),
            shared,
            local_reply: None,
            continued: false,
            tick_period_ms: 0,
            context_id: ROOT_CONTEXT_ID,
            callback: Callback::Root,
            pending_calls: Default::default(),
            last_token: 0,
            call_response: None,
            memory: None,
            allocate: None,
            request_headers_released: false,
            response_headers_released: false,
        };
        let mut store = Store::new(engine, state);
        // Only read on an engine with epoch interruption (the profiler's, see
        // `profiling`): a store's deadline starts at 0, which would trap at once.
        store.set_epoch_deadline(NO_EPOCH_DEADLINE);
        let instance = linker
            .instantiate(&mut store, module)
            .with_context(|| format!("filter {:?}: cannot instantiate {}", spec.name, spec.module.display()))?;
        let mut filter = Filter { name: spec.name.clone(), store, instance, next_context_id: ROOT_CONTEXT_ID + 1, trapped: false };
        filter.store.data_mut().callback = Callback::Configure;
        let started = filter.start();
        filter.store.data_mut().callback = Callback::Root;
        started?;
        Ok(filter)
    }

    fn func<P: wasmtime::WasmParams, R: wasmtime::WasmResults>(&mut self, name: &str) -> Result<TypedFunc<P, R>> {
        self.instance
            .get_typed_func::<P, R>(&mut self.store, name)
            .with_context(|| format!("filter {:?}: bad or missing export {name}", self.name))
    }

    fn start(&mut self) -> Result<()> {
        if self.instance.get_func(&mut self.store, "_initialize").is_some() {
            self.func::<(), ()>("_initialize")?.call(&mut self.store, ())?;
        }
        self.func::<(i32, i32), ()>("proxy_on_context_create")?.call(&mut self.store, (ROOT_CONTEXT_ID, 0))?;
        let vm_config_len = self.store.data().vm_config.len() as i32;
        let started = self.func::<(i32, i32), i32>("proxy_on_vm_start")?.call(&mut self.store, (ROOT_CONTEXT_ID, vm_config_len))?;
        if started == 0 {
            return Err(wasmtime::Error::new(StartFailure { filter: self.name.clone(), step: "on_vm_start" }));
        }
        let config_len = self.store.data().plugin_config.len() as i32;
        let configured = self.func::<(i32, i32), i32>("proxy_on_configure")?.call(&mut self.store, (ROOT_CONTEXT_ID, config_len))?;
        if configured == 0 {
            return Err(wasmtime::Error::new(StartFailure { filter: self.name.clone(), step: "on_configure" }));
        }
        Ok(())
    }

    /// Creates an HTTP context for a new stream; returns its id.
    pub fn create_stream(&mut self) -> Result<i32> {
        let id = self.next_context_id;
        self.next_context_id += 1;
        self.func::<(i32, i32), ()>("proxy_on_context_create")?.call(&mut self.store, (id, ROOT_CONTEXT_ID))?;
        let state = self.store.data_mut();
        state.request_headers_released = false;
        state.response_headers_released = false;
        Ok(id)
    }

    fn enter(&mut self, context_id: i32, callback: Callback) {
        let state = self.store.data_mut();
        state.context_id = context_id;
        state.callback = callback;
        state.continued = false;
    }

    fn leave(&mut self) {
        let state = self.store.data_mut();
        state.context_id = ROOT_CONTEXT_ID;
        state.callback = Callback::Root;
    }

    fn stream_call(&mut self, export: &str, callback: Callback, args: (i32, i32, i32)) -> Result<Action> {
        self.store.data_mut().local_reply = None;
        self.enter(args.0, callback);
        let result = self.func::<(i32, i32, i32), i32>(export)?.call(&mut self.store, args);
        self.leave();
        self.trapped |= result.is_err();
        let action = result?;
        let action = if action == 0 || self.store.data().continued { Action::Continue } else { Action::Pause };
        if action == Action::Continue {
            // Envoy's Context drops a headers map once its callback continues.
            let state = self.store.data_mut();
            match callback {
                Callback::RequestHeaders => state.request_headers_released = true,
                Callback::ResponseHeaders => state.response_headers_released = true,
                _ => {}
            }
        }
        Ok(action)
    }

    /// Whether `proxy_continue_stream` was called during the last callback (for the
    /// stream it ran for); clears the flag.
    pub fn take_continued(&mut self) -> bool {
        std::mem::take(&mut self.store.data_mut().continued)
    }

    /// The next call dispatched with `proxy_http_call` and not performed yet.
    pub fn next_pending_call(&mut self) -> Option<HttpCall> {
        self.store.data_mut().pending_calls.pop_front()
    }

    /// Whether calls are waiting to be performed.
    pub fn has_pending_calls(&self) -> bool {
        !self.store.data().pending_calls.is_empty()
    }

    /// The period set with `proxy_set_tick_period_milliseconds` (0: none).
    pub fn tick_period_ms(&self) -> u32 {
        self.store.data().tick_period_ms
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
        self.store.data_mut().call_response = Some(response);
        self.enter(call.context_id, Callback::HttpCallResponse);
        let result = self.func::<(i32, i32, i32, i32, i32), ()>("proxy_on_http_call_response").and_then(|f| f.call(&mut self.store, args));
        self.leave();
        self.store.data_mut().call_response = None;
        self.trapped |= result.is_err();
        result
    }

    /// `proxy_on_tick(root_context)`; a filter without that export is left alone.
    pub fn on_tick(&mut self) -> Result<()> {
        if self.instance.get_func(&mut self.store, "proxy_on_tick").is_none() {
            return Ok(());
        }
        self.enter(ROOT_CONTEXT_ID, Callback::Tick);
        let result = self.func::<i32, ()>("proxy_on_tick").and_then(|f| f.call(&mut self.store, ROOT_CONTEXT_ID));
        self.leave();
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
        self.store.data_mut().local_reply.take()
    }

    /// Ends a stream: `proxy_on_log`, `proxy_on_done`, `proxy_on_delete`.
    pub fn finish_stream(&mut self, id: i32) -> Result<()> {
        self.enter(id, Callback::Log);
        let result = (|| {
            self.func::<i32, ()>("proxy_on_log")?.call(&mut self.store, id)?;
            self.func::<i32, i32>("proxy_on_done")?.call(&mut self.store, id)?;
            self.func::<i32, ()>("proxy_on_delete")?.call(&mut self.store, id)
        })();
        self.leave();
        self.store.data_mut().local_reply = None;
        self.trapped |= result.is_err();
        result
    }

    /// Runs `proxy_on_configure` on the root context again with `config` (a host pushing a
    /// new plugin configuration to a running instance); returns what the filter answered.
    ///
    /// Errors: a trap.
    pub fn reconfigure(&mut self, config: &serde_json::Value) -> Result<bool> {
        self.store.data_mut().plugin_config = config_bytes(config);
        self.store.data_mut().callback = Callback::Configure;
        let len = self.store.data().plugin_config.len() as i32;
        let result = self.func::<(i32, i32), i32>("proxy_on_configure").and_then(|f| Ok(f.call(&mut self.store, (ROOT_CONTEXT_ID, len))?));
        self.store.data_mut().callback = Callback::Root;
        self.trapped |= result.is_err();
        Ok(result? != 0)
    }

    /// Bytes of linear memory the instance uses now.
    pub fn memory_size(&mut self) -> usize {
        match self.instance.get_memory(&mut self.store, "memory") {
            Some(m) => m.data_size(&self.store),
            None => 0,
        }
    }
}
