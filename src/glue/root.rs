//! The root context: one per plugin instance. `proxy_on_configure` parses Kong's plugin
//! config and compiles every chunk; HTTP contexts share the resulting runtime.

use std::cell::RefCell;
use std::rc::Rc;

use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{ContextType, LogLevel};

use super::host_impl::ProxyWasmHost;
use super::http::FunctionsHttp;
use crate::config::{PluginConfig, Role};
use crate::runtime::Runtime;
use crate::vm_config::VmConfig;

thread_local! {
    /// The VM configuration from `proxy_on_vm_start`; hosts send it once per VM, and
    /// every plugin instance (root context) in the VM uses it.
    static VM_CONFIG: std::cell::Cell<VmConfig> = std::cell::Cell::new(VmConfig::default());
}

/// The plugin instance: its Lua runtime once configured.
#[derive(Default)]
pub struct FunctionsRoot {
    runtime: Option<Rc<RefCell<Runtime>>>,
}

impl Context for FunctionsRoot {}

impl RootContext for FunctionsRoot {
    fn on_vm_start(&mut self, _vm_configuration_size: usize) -> bool {
        let bytes = self.get_vm_configuration().unwrap_or_default();
        match VmConfig::parse(&bytes) {
            Ok(config) => {
                VM_CONFIG.with(|c| c.set(config));
                true
            }
            Err(e) => {
                log_critical(&format!("kong-functions: {e}"));
                false
            }
        }
    }

    fn on_configure(&mut self, _plugin_configuration_size: usize) -> bool {
        let bytes = self.get_plugin_configuration().unwrap_or_default();
        let host_role = Role::from_host_name(&host_plugin_name());
        let config = match PluginConfig::parse(&bytes) {
            Ok(config) => config,
            Err(e) => {
                log_critical(&format!("invalid {} configuration: {e}", host_role.name()));
                return false;
            }
        };
        let role = config.role.unwrap_or(host_role);
        let limits = VM_CONFIG.with(|c| c.get()).limits;
        match Runtime::with_limits(&config, role, Rc::new(ProxyWasmHost), limits) {
            Ok(runtime) => {
                // A reconfiguration replaces the runtime only once the new one compiled.
                self.runtime = Some(Rc::new(RefCell::new(runtime)));
                true
            }
            Err(e) => {
                log_critical(&format!("error parsing {}: {e}", role.name()));
                false
            }
        }
    }

    fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        // Returning None would make the SDK trap; an unconfigured instance fails closed.
        Some(Box::new(FunctionsHttp::new(self.runtime.clone())))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

/// The name the host gives this plugin instance: Envoy's and the harness's
/// `plugin_root_id`, else `plugin_name` (Kong's filter name); empty when neither is known.
fn host_plugin_name() -> String {
    for property in ["plugin_root_id", "plugin_name"] {
        if let Ok(Some(bytes)) = hostcalls::get_property(vec![property]) {
            if !bytes.is_empty() {
                return String::from_utf8_lossy(&bytes).into_owned();
            }
        }
    }
    String::new()
}

fn log_critical(message: &str) {
    let _ = hostcalls::log(LogLevel::Critical, message);
}
