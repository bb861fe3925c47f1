//! The VM configuration (node-wide settings, `proxy_on_vm_start`): resource limits for
//! every plugin instance in the VM.
//!
//! Shape: `{"limits": {"instructions": 20000000, "memory_bytes": 67108864}}`; every field
//! is optional, unknown fields are errors. An empty configuration means the defaults.
//! (The `untrusted_lua` sandbox settings will join this object; until they are
//! implemented they are rejected rather than ignored.)

use serde::Deserialize;

/// Per-plugin-instance resource limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// VM instructions one chunk invocation may run (about 1 per instruction, 8 per
    /// library call); past it the request fails with "instruction limit exceeded".
    pub instructions: i64,
    /// Bytes the plugin instance's Lua heap may hold (piccolo's allocation metrics,
    /// compiled chunks included); past it, after a full collection, the request fails
    /// with "memory limit exceeded".
    pub memory_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { instructions: 20_000_000, memory_bytes: 64 * 1024 * 1024 }
    }
}

/// The parsed VM configuration.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VmConfig {
    /// Resource limits.
    pub limits: Limits,
}

impl VmConfig {
    /// Parses the VM configuration bytes; empty or whitespace means the defaults.
    ///
    /// Errors: invalid JSON, unknown fields, or a limit that is not a positive number.
    pub fn parse(bytes: &[u8]) -> Result<VmConfig, String> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(VmConfig::default());
        }
        let config: VmConfig = serde_json::from_slice(bytes).map_err(|e| format!("invalid VM configuration: {e}"))?;
        if config.limits.instructions <= 0 || config.limits.memory_bytes == 0 {
            return Err("invalid VM configuration: limits must be positive".into());
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_overrides() {
        assert_eq!(VmConfig::parse(b"").unwrap(), VmConfig::default());
        let c = VmConfig::parse(br#"{"limits": {"memory_bytes": 1048576}}"#).unwrap();
        assert_eq!(c.limits.memory_bytes, 1_048_576);
        assert_eq!(c.limits.instructions, Limits::default().instructions);
    }

    #[test]
    fn unknown_fields_and_bad_values_are_rejected() {
        assert!(VmConfig::parse(br#"{"untrusted_lua": "on"}"#).unwrap_err().contains("unknown field"));
        assert!(VmConfig::parse(br#"{"limits": {"instructions": 0}}"#).is_err());
        assert!(VmConfig::parse(b"nope").is_err());
    }
}
