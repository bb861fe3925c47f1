//! Kong's pre-function / post-function plugin `config` object, as JSON.
//!
//! Shape (Kong's schema for both plugins): one optional array of Lua source strings per
//! phase (`certificate`, `rewrite`, `access`, `header_filter`, `body_filter`, `log`,
//! `ws_handshake`, `ws_client_frame`, `ws_upstream_frame`, `ws_close`) and the legacy
//! `functions` array, which means `access`. At least one phase must be non-empty; unknown
//! keys are an error; every element is a string. Our one extension is `role`
//! (`"pre-function"` or `"post-function"`), which overrides the role the host names.

use std::fmt;

use serde_json::Value;

use crate::phase::Phase;

/// Which of the two serverless plugins an instance is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Kong's `pre-function`: first in the chain.
    PreFunction,
    /// Kong's `post-function`: last in the chain.
    PostFunction,
}

impl Role {
    /// Kong's plugin name: `pre-function` or `post-function`.
    pub fn name(self) -> &'static str {
        match self {
            Role::PreFunction => "pre-function",
            Role::PostFunction => "post-function",
        }
    }

    /// Parses a plugin name exactly (`pre-function`, `post-function`).
    pub fn from_name(name: &str) -> Option<Role> {
        match name {
            "pre-function" => Some(Role::PreFunction),
            "post-function" => Some(Role::PostFunction),
            _ => None,
        }
    }

    /// Infers the role from the name a host gives the plugin: Envoy's `root_id`, Kong's
    /// filter name, the harness's filter name. `post-function`, `post_function`,
    /// `kong-post-function` ... mean post-function; anything else means pre-function.
    pub fn from_host_name(name: &str) -> Role {
        let normalized = name.to_ascii_lowercase().replace('_', "-");
        if normalized.contains("post-function") || normalized == "post" {
            Role::PostFunction
        } else {
            Role::PreFunction
        }
    }
}

/// A validated plugin configuration: the Lua sources of every phase, in array order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginConfig {
    /// `(phase, sources)` for every non-empty phase, in [`Phase::ALL`] order.
    pub phases: Vec<(Phase, Vec<String>)>,
    /// The `role` override, when the config sets one.
    pub role: Option<Role>,
    /// `shared_data_zone`: the shared-data zone for `kong.cache` and the node id on
    /// hosts that need one (Kong's engine; see [`crate::vm_config`]), overriding the VM
    /// configuration's (Kong gives filters no VM configuration).
    pub shared_data_zone: Option<String>,
}

/// Why a plugin configuration was rejected; the text names the field and the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

fn err<T>(message: impl Into<String>) -> Result<T, ConfigError> {
    Err(ConfigError(message.into()))
}

impl PluginConfig {
    /// Parses the plugin configuration bytes the host hands to `proxy_on_configure`.
    ///
    /// Errors: not JSON, not an object, an unknown key, a phase that is not an array of
    /// strings, both `functions` and `access`, or every phase empty. All ten phases are
    /// accepted; where a host cannot carry one, the first request logs it (see
    /// [`crate::stream`]).
    pub fn parse(bytes: &[u8]) -> Result<PluginConfig, ConfigError> {
        let value: Value = match serde_json::from_slice(bytes) {
            Ok(value) => value,
            Err(e) => return err(format!("plugin configuration is not valid JSON: {e}")),
        };
        let Value::Object(object) = value else {
            return err("plugin configuration must be a JSON object");
        };

        let mut role = None;
        let mut shared_data_zone = None;
        let mut functions = Vec::new();
        let mut by_phase: Vec<(Phase, Vec<String>)> = Vec::new();
        for (key, value) in &object {
            if key == "role" {
                role = Some(parse_role(value)?);
            } else if key == "shared_data_zone" {
                match value.as_str() {
                    Some(zone) if !zone.is_empty() && !zone.contains('/') => shared_data_zone = Some(zone.to_owned()),
                    _ => return err("config.shared_data_zone: expected a zone name (a non-empty string without '/')"),
                }
            } else if key == "functions" {
                functions = string_array(key, value)?;
            } else if let Some(phase) = Phase::from_name(key) {
                by_phase.push((phase, string_array(key, value)?));
            } else {
                return err(format!("config.{key}: unknown field"));
            }
        }

        if !functions.is_empty() {
            if by_phase.iter().any(|(p, s)| *p == Phase::Access && !s.is_empty()) {
                return err("config.functions: only one of 'functions' (legacy) and 'access' can be set");
            }
            by_phase.retain(|(p, _)| *p != Phase::Access);
            by_phase.push((Phase::Access, functions));
        }

        by_phase.retain(|(_, sources)| !sources.is_empty());
        if by_phase.is_empty() {
            let fields: Vec<String> = Phase::ALL.iter().map(|p| format!("'{}'", p.name())).collect();
            return err(format!(
                "at least one of these fields must be non-empty: {}",
                fields.join(", ")
            ));
        }
        by_phase.sort_by_key(|(p, _)| Phase::ALL.iter().position(|q| q == p));
        Ok(PluginConfig { phases: by_phase, role, shared_data_zone })
    }

    /// The sources of `phase`, empty when the phase has none.
    pub fn sources(&self, phase: Phase) -> &[String] {
        self.phases
            .iter()
            .find(|(p, _)| *p == phase)
            .map(|(_, s)| s.as_slice())
            .unwrap_or(&[])
    }
}

fn parse_role(value: &Value) -> Result<Role, ConfigError> {
    match value.as_str().and_then(Role::from_name) {
        Some(role) => Ok(role),
        None => err("config.role: expected \"pre-function\" or \"post-function\""),
    }
}

fn string_array(key: &str, value: &Value) -> Result<Vec<String>, ConfigError> {
    let Value::Array(items) = value else {
        if value.is_null() {
            return Ok(Vec::new());
        }
        return err(format!("config.{key}: expected an array of strings"));
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| match item.as_str() {
            Some(s) => Ok(s.to_owned()),
            None => err(format!("config.{key}[{}]: expected a string", i + 1)),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<PluginConfig, ConfigError> {
        PluginConfig::parse(json.as_bytes())
    }

    #[test]
    fn phases_keep_array_order() {
        let config = parse(r#"{"log":["c"],"access":["a","b"]}"#).unwrap();
        assert_eq!(config.sources(Phase::Access), ["a", "b"]);
        assert_eq!(config.sources(Phase::Log), ["c"]);
        assert!(config.sources(Phase::Rewrite).is_empty());
    }

    #[test]
    fn legacy_functions_mean_access() {
        let config = parse(r#"{"functions":["x"]}"#).unwrap();
        assert_eq!(config.sources(Phase::Access), ["x"]);
    }

    #[test]
    fn functions_and_access_together_are_rejected() {
        let e = parse(r#"{"functions":["x"],"access":["y"]}"#).unwrap_err();
        assert!(e.0.contains("only one of"), "{e}");
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let e = parse(r#"{"acess":["x"]}"#).unwrap_err();
        assert_eq!(e.0, "config.acess: unknown field");
    }

    #[test]
    fn non_string_elements_are_rejected() {
        let e = parse(r#"{"access":["ok", 3]}"#).unwrap_err();
        assert_eq!(e.0, "config.access[2]: expected a string");
    }

    #[test]
    fn all_empty_is_rejected() {
        let e = parse(r#"{"access":[]}"#).unwrap_err();
        assert!(e.0.starts_with("at least one of these fields must be non-empty"), "{e}");
        assert!(parse("{}").is_err());
    }

    #[test]
    fn all_ten_phases_are_accepted() {
        // Kong's schema for both plugins: one array per phase, ten phases.
        for phase in Phase::ALL {
            let config = parse(&format!(r#"{{"{}":["x = 1"]}}"#, phase.name())).unwrap();
            assert_eq!(config.sources(phase), ["x = 1"], "{}", phase.name());
        }
        let all = parse(r#"{"certificate":["a"],"ws_handshake":["b"],"ws_client_frame":["c"],
            "ws_upstream_frame":["d"],"ws_close":["e"],"access":["f"]}"#).unwrap();
        assert_eq!(all.phases.len(), 6);
    }

    #[test]
    fn role_override_and_host_names() {
        let config = parse(r#"{"role":"post-function","log":["x"]}"#).unwrap();
        assert_eq!(config.role, Some(Role::PostFunction));
        assert!(parse(r#"{"role":"middle","log":["x"]}"#).is_err());
        assert_eq!(Role::from_host_name("post_function"), Role::PostFunction);
        assert_eq!(Role::from_host_name("kong-post-function"), Role::PostFunction);
        assert_eq!(Role::from_host_name("pre-function"), Role::PreFunction);
        assert_eq!(Role::from_host_name(""), Role::PreFunction);
    }

    #[test]
    fn not_json_is_rejected() {
        assert!(parse("access = x").unwrap_err().0.contains("not valid JSON"));
        assert!(parse("[1]").is_err());
    }
}
