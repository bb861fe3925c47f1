//! The root context: one per plugin instance. `proxy_on_configure` parses Kong's plugin
//! config and compiles every chunk; HTTP contexts share the resulting runtime.

use std::cell::RefCell;
use std::rc::Rc;

use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::ContextType;

use super::abi::{self, Buffer};
use super::host_impl::ProxyWasmHost;
use super::http::{FunctionsHttp, Streams};
use crate::config::{PluginConfig, Role};
use crate::host::Host;
use crate::pdk::callout::{answer_from, Answer, Wait};
use crate::runtime::SuspendedPhase;
use crate::runtime::{ConfigureError, Runtime};
use crate::vm_config::VmConfig;

thread_local! {
    /// The VM configuration from `proxy_on_vm_start`; hosts send it once per VM, and
    /// every plugin instance (root context) in the VM uses it.
    static VM_CONFIG: RefCell<VmConfig> = RefCell::new(VmConfig::default());
}

/// The plugin instance: its Lua runtime once configured, its live streams, and the
/// `ngx.timer` callbacks waiting on outbound calls.
#[derive(Default)]
pub struct FunctionsRoot {
    id: u32,
    runtime: Option<Rc<RefCell<Runtime>>>,
    streams: Streams,
    /// The tick period was set (`proxy_set_tick_period_milliseconds`).
    ticking: bool,
    timer_waits: Vec<SuspendedPhase>,
}

impl FunctionsRoot {
    /// The root context `id`.
    pub fn new(id: u32) -> FunctionsRoot {
        FunctionsRoot { id, ..FunctionsRoot::default() }
    }
}

/// The tick period of an instance whose chunks sleep (`ngx.sleep`): a sleep lasts up
/// to this much longer than asked.
const TICK_MS: u32 = 10;

impl Context for FunctionsRoot {
    /// The answer to a call the SDK routed here: one a chunk made after a tick woke it
    /// (its dispatcher records the context active at dispatch, this root). The stream
    /// waiting on `token` gets it, as the effective context.
    fn on_http_call_response(&mut self, token: u32, _num_headers: usize, body_size: usize, _num_trailers: usize) {
        let owner = self.streams.borrow().iter().find_map(|(id, s)| {
            let stream = s.upgrade()?;
            let waits = stream.borrow().waits_on_call(token);
            waits.then_some((*id, stream))
        });
        if let Some((id, stream)) = owner {
            if abi::set_effective_context(id) {
                stream.borrow_mut().on_http_call_response(token, body_size);
            }
            return;
        }
        // A timer callback's call.
        let Some(at) = self.timer_waits.iter().position(|s| matches!(&s.wait, Wait::HttpCall { token: t, .. } if *t == token)) else { return };
        let Some(runtime) = self.runtime.clone() else { return };
        let suspended = self.timer_waits.swap_remove(at);
        let Wait::HttpCall { host, .. } = &suspended.wait else { return };
        let limit = crate::lua::limits::current().call_response_bytes;
        let answer = if body_size > limit {
            Answer::Failure(format!("response body too large ({body_size} bytes, limit {limit})"))
        } else {
            let (headers, body) = ProxyWasmHost.http_call_response(body_size);
            let replies = runtime.borrow().view().behaviour().call_failures_as_replies;
            answer_from(headers, body, host, replies)
        };
        let again = runtime.borrow_mut().resume_timer(suspended, answer);
        self.timer_waits.extend(again);
    }
}

impl RootContext for FunctionsRoot {
    fn on_vm_start(&mut self, _vm_configuration_size: usize) -> bool {
        let bytes = abi::buffer(Buffer::VmConfiguration, usize::MAX).unwrap_or_default();
        match VmConfig::parse(&bytes) {
            Ok(config) => {
                VM_CONFIG.with(|c| *c.borrow_mut() = config);
                true
            }
            Err(e) => {
                log_critical(&format!("kong-functions: {e}"));
                false
            }
        }
    }

    /// Reads only the VM and plugin configuration, and `plugin_root_id`: Kong's engine
    /// refuses every dotted property outside a request, logs an `[alert]` for
    /// `plugin_vm_id`, and crashes its worker on `plugin_name` here (kong-engine.md).
    fn on_configure(&mut self, _plugin_configuration_size: usize) -> bool {
        let bytes = abi::buffer(Buffer::PluginConfiguration, usize::MAX).unwrap_or_default();
        let host_role = host_root_id_role();
        let config = match PluginConfig::parse(&bytes) {
            Ok(config) => config,
            Err(e) => {
                let role = host_role.unwrap_or(Role::PreFunction);
                log_critical(&format!("invalid {} configuration: {e}", role.name()));
                return false;
            }
        };
        let role = config.role.or(host_role);
        let named = role.unwrap_or(Role::PreFunction).name();
        let vm = VM_CONFIG.with(|c| c.borrow().clone());
        match Runtime::configure(&config, role, Rc::new(ProxyWasmHost), &vm) {
            Ok(runtime) => {
                // A reconfiguration replaces the runtime only once the new one compiled.
                let ticks = runtime.uses_ticks();
                self.runtime = Some(Rc::new(RefCell::new(runtime)));
                if ticks && !self.ticking {
                    self.ticking = abi::set_tick_period(TICK_MS);
                }
                true
            }
            Err(e @ (ConfigureError::Disabled | ConfigureError::TooLarge(..))) => {
                log_critical(&format!("invalid {named} configuration: {e}"));
                false
            }
            Err(e) => {
                log_critical(&format!("error parsing {named}: {e}"));
                false
            }
        }
    }

    fn create_http_context(&self, context_id: u32) -> Option<Box<dyn HttpContext>> {
        // Returning None would make the SDK trap; an unconfigured instance fails closed.
        Some(Box::new(FunctionsHttp::new(self.runtime.clone(), context_id, &self.streams)))
    }

    /// Wakes the streams whose `ngx.sleep` is over, each as the effective context.
    fn on_tick(&mut self) {
        let sleeping: Vec<(u32, Rc<RefCell<crate::stream::Stream>>)> = self
            .streams
            .borrow()
            .iter()
            .filter_map(|(id, s)| s.upgrade().map(|s| (*id, s)))
            .filter(|(_, s)| s.borrow().waits_on_tick())
            .collect();
        for (id, stream) in sleeping {
            if abi::set_effective_context(id) {
                stream.borrow_mut().on_tick();
            }
        }
        // Timers run on the root context: calls they make answer here.
        if let Some(runtime) = self.runtime.clone() {
            abi::set_effective_context(self.id);
            let waiting = runtime.borrow_mut().run_due_timers();
            self.timer_waits.extend(waiting);
        }
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

/// The role named by the host's `plugin_root_id` (Envoy's `root_id`, the harness's
/// filter name); `None` when it is empty or a number (Kong's engine answers `"0"` for
/// every filter), so the first request asks `plugin_name` instead.
fn host_root_id_role() -> Option<Role> {
    let bytes = abi::get_property(&["plugin_root_id"])?;
    let name = String::from_utf8_lossy(&bytes);
    if name.is_empty() || name.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(Role::from_host_name(&name))
}

fn log_critical(message: &str) {
    // proxy-wasm ABI 0.2.1: critical is 5.
    abi::log(5, message);
}
