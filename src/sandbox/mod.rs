//! Kong's `untrusted_lua` sandbox: which globals a chunk sees, per mode.
//!
//! Modes, as Kong's code in `kong/tools/sandbox/` defines them (where the plugin
//! documents' older text differs, the code wins; docs/sandbox.md lists the differences):
//! - `off`: no Lua code is accepted at all (`init.lua`: `enabled` is
//!   `untrusted_lua ~= "off"`, else Kong's message).
//! - `strict`: Kong's handler environment, `ENVIRONMENT.handler` of
//!   `environment/init.lua`, which `sandbox_handler` loads chunks in: the names of
//!   `environment/{lua,handler}.lua`, `require` limited to `require/handler.lua`. Kong's
//!   public code has no `strict` value (its conf loader accepts `on | off | sandbox`); this
//!   is the allowlist environment its code has for handlers.
//! - `lax` and `sandbox` (the default): `sandbox_backward_compatible` of `init.lua`, the
//!   path the serverless plugins compile through (`sandbox.sandbox(func_string)`), with
//!   `create_lua_env` of `kong.lua`: the `environment/lua.lua` names, the backward
//!   compatible `kong` (all of it but `kong.licensing`, `kong.cache.cluster_events`,
//!   `kong.db.connector.config`), the whole `ngx`, `require` denied unless named in
//!   `untrusted_lua_sandbox_requires`, `untrusted_lua_sandbox_environment` linked in,
//!   `_G` Kong's environment table. Kong's public code has no `lax`; it is this same
//!   environment.
//! - `on`: unrestricted (`init.lua`: `setmetatable(env, { __index = _G })`).
//!
//! In the restricted modes the modules Kong protects are read-only (writing raises Kong's
//! "Cannot modify _G.string.x. Protected by the sandbox."), `require` of anything not
//! allowed raises "require 'x' not allowed within sandbox". Every chunk gets its own
//! environment in every mode.

pub(crate) mod allowlist;
mod environment;

use serde::Deserialize;

pub use environment::chunk_environment;

/// Whether chunks under `settings` reach the built-in `ngx` only on first use, through
/// their own copies (`sandbox` / `lax` with no `untrusted_lua_sandbox_environment`),
/// so the state can build `ngx` lazily (`crate::pdk::install_with_lazy_ngx`).
pub fn ngx_made_on_first_use(settings: &SandboxSettings) -> bool {
    matches!(settings.mode, Mode::Sandbox | Mode::Lax) && settings.environment.is_empty()
}

/// Kong's `untrusted_lua` setting.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// No untrusted Lua at all.
    Off,
    /// Kong's handler allowlist environment (`sandbox_handler`).
    Strict,
    /// Kong's backward-compatible environment, as `Sandbox`.
    Lax,
    /// Kong's backward-compatible environment (`sandbox_backward_compatible`), Kong's
    /// default.
    #[default]
    Sandbox,
    /// No restrictions beyond the wasm VM itself.
    On,
}

impl Mode {
    /// Parses Kong's spelling (`off`, `strict`, `lax`, `sandbox`, `on`).
    pub fn from_name(name: &str) -> Option<Mode> {
        match name.trim() {
            "off" => Some(Mode::Off),
            "strict" => Some(Mode::Strict),
            "lax" => Some(Mode::Lax),
            "sandbox" => Some(Mode::Sandbox),
            "on" => Some(Mode::On),
            _ => None,
        }
    }

    /// Kong's spelling.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Off => "off",
            Mode::Strict => "strict",
            Mode::Lax => "lax",
            Mode::Sandbox => "sandbox",
            Mode::On => "on",
        }
    }
}

/// Kong's message when `untrusted_lua = off` and a configuration carries Lua code.
pub const OFF_MESSAGE: &str =
    "loading of untrusted Lua code disabled because 'untrusted_lua' config option is set to 'off'";

/// The node-wide sandbox settings: Kong's `untrusted_lua`,
/// `untrusted_lua_sandbox_requires` and `untrusted_lua_sandbox_environment`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SandboxSettings {
    /// The mode.
    pub mode: Mode,
    /// Extra modules `require` may load in `lax` / `sandbox`.
    pub requires: Vec<String>,
    /// Extra globals (dotted paths, e.g. `getmetatable`) linked in for `lax` / `sandbox`.
    pub environment: Vec<String>,
}

/// Splits a list-valued Kong property: a JSON array of strings, or names separated by
/// commas or whitespace (how `kong.conf` writes lists).
pub fn parse_list(text: &str) -> Vec<String> {
    if let Ok(list) = serde_json::from_str::<Vec<String>>(text) {
        return list;
    }
    text.split(|c: char| c == ',' || c.is_whitespace()).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod module_coverage_tests;
