//! The only code that calls `proxy_wasm`: root and HTTP contexts, and [`Host`] on
//! proxy-wasm ABI 0.2.1 host calls.
//!
//! [`Host`]: crate::host::Host

mod abi;
mod host_impl;
mod http;
mod root;

/// Registers the root context factory; called from `_initialize`.
pub fn start() {
    proxy_wasm::set_log_level(proxy_wasm::types::LogLevel::Trace);
    proxy_wasm::set_root_context(|context_id| Box::new(root::FunctionsRoot::new(context_id)));
}
