//! Kong's `untrusted_lua` sandbox: which globals a chunk sees, per mode.
//!
//! Modes, as Kong's `kong.conf` names them (`off | strict | lax | sandbox | on`):
//! - `off`: no Lua code is accepted at all (the configuration is rejected).
//! - `strict`: Kong's allowlist environment for handlers
//!   (`kong/tools/sandbox/environment/{lua,handler}.lua`): the listed standard functions
//!   and the listed `kong.*` / `ngx.*` functions; `require` limited to the modules Kong's
//!   `kong/tools/sandbox/require/{lua,handler}.lua` allow that this filter provides.
//! - `lax`: the environment Kong's own `sandbox` code path builds
//!   (`kong/tools/sandbox/init.lua` `sandbox_backward_compatible`): the standard-library
//!   allowlist of `lua.lua`, the whole `kong` and `ngx` namespaces, `require` denied.
//! - `sandbox` (the default): the environment the Pre-/Post-Function documents list: the
//!   standard library minus `string.rep`, `string.dump`, `{get,set}metatable`,
//!   `collectgarbage`, `load*`, `raw*`, `math.randomseed`, `os.*` but
//!   `clock`/`difftime`/`time`, `io.*`, `dofile`/`require`; `kong.cache` only has `get`.
//! - `on`: the full library (a per-chunk globals table falls back to it).
//!
//! In every restricted mode the provided modules are read-only (writing raises Kong's
//! "Cannot modify string.x. Protected by the sandbox."), `_G` is the chunk's own table,
//! `require` of anything not allowed raises "require 'x' not allowed within sandbox", and
//! `untrusted_lua_sandbox_requires` / `untrusted_lua_sandbox_environment` extend what is
//! allowed. Every chunk gets its own environment in every mode.

pub(crate) mod allowlist;
mod environment;

use serde::Deserialize;

pub use environment::chunk_environment;

/// Kong's `untrusted_lua` setting.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// No untrusted Lua at all.
    Off,
    /// Kong's allowlist environment.
    Strict,
    /// Kong's standard-library allowlist with the whole PDK.
    Lax,
    /// The documented blocklist environment (Kong's default).
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
    /// Extra modules `require` may load in the restricted modes.
    pub requires: Vec<String>,
    /// Extra globals (dotted paths, e.g. `string.rep`) the restricted modes expose.
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
