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
use crate::runtime::{ConfigureError, Runtime};
use crate::sandbox::{self, Mode};
use crate::vm_config::VmConfig;

thread_local! {
    /// The VM configuration from `proxy_on_vm_start`; hosts send it once per VM, and
    /// every plugin instance (root context) in the VM uses it.
    static VM_CONFIG: RefCell<VmConfig> = RefCell::new(VmConfig::default());
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
                VM_CONFIG.with(|c| *c.borrow_mut() = config);
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
        let vm = kong_sandbox_properties(VM_CONFIG.with(|c| c.borrow().clone()));
        match Runtime::with_vm_config(&config, role, Rc::new(ProxyWasmHost), &vm) {
            Ok(runtime) => {
                // A reconfiguration replaces the runtime only once the new one compiled.
                self.runtime = Some(Rc::new(RefCell::new(runtime)));
                true
            }
            Err(ConfigureError::Disabled) => {
                log_critical(&format!("invalid {} configuration: {}", role.name(), ConfigureError::Disabled));
                false
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
        if let Some(bytes) = super::abi::get_property(&[property]) {
            if !bytes.is_empty() {
                return String::from_utf8_lossy(&bytes).into_owned();
            }
        }
    }
    String::new()
}

/// The sandbox settings with Kong's node configuration applied: in Kong, the host
/// properties `kong.configuration.untrusted_lua`, `..._sandbox_requires` and
/// `..._sandbox_environment` are the node's `kong.conf` values and take precedence over
/// the VM configuration; other hosts lack them, and the VM configuration stands.
fn kong_sandbox_properties(mut vm: VmConfig) -> VmConfig {
    if let Some(mode) = property("kong.configuration.untrusted_lua") {
        match Mode::from_name(&mode) {
            Some(mode) => vm.untrusted_lua = mode,
            None => log_critical(&format!("kong-functions: ignoring unknown untrusted_lua '{mode}' from the host")),
        }
    }
    if let Some(list) = property("kong.configuration.untrusted_lua_sandbox_requires") {
        vm.untrusted_lua_sandbox_requires = sandbox::parse_list(&list);
    }
    if let Some(list) = property("kong.configuration.untrusted_lua_sandbox_environment") {
        vm.untrusted_lua_sandbox_environment = sandbox::parse_list(&list);
    }
    vm
}

/// A host property as text; None when the host does not have it (or fails).
fn property(name: &str) -> Option<String> {
    let path: Vec<&str> = name.split('.').collect();
    match super::abi::get_property(&path) {
        Some(bytes) if !bytes.is_empty() => Some(String::from_utf8_lossy(&bytes).into_owned()),
        _ => None,
    }
}

fn log_critical(message: &str) {
    let _ = hostcalls::log(LogLevel::Critical, message);
}
