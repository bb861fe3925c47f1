//! `kong.configuration`: the node's `kong.conf` values, read-only, with the sensitive
//! ones redacted, as Kong's sandbox exposes them (`kong.configuration.remove_sensitive()`:
//! `pg_password`, `ssl_cert_key` ... read `"******"`).
//!
//! On Kong the values come from the host properties `kong.configuration.<name>` (Kong's
//! `kong/runloop/wasm.lua` registers that namespace, read-only); other hosts have no such
//! properties, and every field reads `nil`. Property values are strings: `true`/`false`
//! become booleans, integers numbers, JSON arrays and objects tables.

use piccolo::{CallbackReturn, Context, Error, Execution, MetaMethod, Stack, Table, Value};

use crate::pdk::{function, lua_string, raise, Pdk};

/// Kong's `CONF_SENSITIVE` (kong/conf_loader/constants.lua).
const SENSITIVE: [&str; 11] = [
    "pg_password",
    "pg_ro_password",
    "proxy_server",
    "declarative_config_string",
    "cluster_cert_key",
    "ssl_cert_key",
    "client_ssl_cert_key",
    "admin_ssl_cert_key",
    "admin_gui_ssl_cert_key",
    "status_ssl_cert_key",
    "debug_ssl_cert_key",
];

/// Kong's `CONF_SENSITIVE_PLACEHOLDER`.
const PLACEHOLDER: &[u8] = b"******";

/// Builds `kong.configuration`: an empty table whose `__index` reads the host property
/// and whose `__newindex` refuses writes.
pub fn table<'gc>(ctx: Context<'gc>, pdk: &Pdk) -> Table<'gc> {
    let t = Table::new(&ctx);
    let meta = Table::new(&ctx);
    meta.set(ctx, MetaMethod::Index, function(ctx, pdk, index)).ok();
    meta.set(ctx, MetaMethod::NewIndex, function(ctx, pdk, refuse)).ok();
    t.set_metatable(&ctx, Some(meta));
    t
}

fn index<'gc>(pdk: &Pdk, ctx: Context<'gc>, _exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let Value::String(key) = stack.get(1) else {
        stack.replace(ctx, Value::Nil);
        return Ok(CallbackReturn::Return);
    };
    let key = key.to_str_lossy().into_owned();
    let raw = pdk.scope().host.property(&["kong", "configuration", &key]);
    let value = match raw {
        None => Value::Nil,
        Some(_) if SENSITIVE.contains(&key.as_str()) => lua_string(ctx, PLACEHOLDER),
        Some(bytes) => property_value(ctx, &bytes),
    };
    stack.replace(ctx, value);
    Ok(CallbackReturn::Return)
}

fn refuse<'gc>(_pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let key = crate::lua::format::display(stack.get(1));
    raise(ctx, &exec, &format!("Cannot modify kong.configuration.{key}. Protected by the sandbox."))
}

/// A property string as the Lua value Kong's configuration holds.
fn property_value<'gc>(ctx: Context<'gc>, bytes: &[u8]) -> Value<'gc> {
    match bytes {
        b"true" => return Value::Boolean(true),
        b"false" => return Value::Boolean(false),
        _ => {}
    }
    let text = String::from_utf8_lossy(bytes);
    if let Ok(n) = text.parse::<i64>() {
        return Value::Integer(n);
    }
    if text.starts_with('[') || text.starts_with('{') {
        if let Ok(json) = serde_json::from_slice::<serde_json::Value>(bytes) {
            return crate::pdk::lua_json::to_lua(ctx, &json);
        }
    }
    lua_string(ctx, bytes)
}

#[cfg(test)]
mod tests {
    use std::rc::Rc;

    use crate::config::{PluginConfig, Role};
    use crate::pdk::testing::FakeHost;
    use crate::phase::Phase;
    use crate::runtime::{PhaseOutcome, RequestState, Runtime};

    fn run(source: &str, host: FakeHost) -> (PhaseOutcome, Vec<String>) {
        let host = Rc::new(host);
        let config = serde_json::json!({ "access": [source] }).to_string();
        let mut rt = Runtime::new(&PluginConfig::parse(config.as_bytes()).unwrap(), Role::PreFunction, host.clone()).unwrap();
        let outcome = rt.run_phase(Phase::Access, &mut RequestState::default());
        (outcome, host.messages())
    }

    #[test]
    fn reads_kong_conf_values_and_redacts_secrets() {
        let host = FakeHost::default()
            .with_property("kong.configuration.plugins", r#"["bundled","pre-function"]"#)
            .with_property("kong.configuration.pg_password", "hunter2")
            .with_property("kong.configuration.proxy_listen_port", "8000")
            .with_property("kong.configuration.anonymous_reports", "false");
        let (outcome, logs) = run(
            "kong.log.info(kong.configuration.plugins[1], ' ', kong.configuration.pg_password, ' ', \
             kong.configuration.proxy_listen_port + 1, ' ', tostring(kong.configuration.anonymous_reports), ' ', \
             tostring(kong.configuration.nope))",
            host,
        );
        assert_eq!(outcome, PhaseOutcome::Continue, "{logs:?}");
        assert_eq!(logs, ["[pre-function] bundled ****** 8001 false nil"]);
    }

    #[test]
    fn is_read_only() {
        let (outcome, logs) = run("kong.configuration.untrusted_lua = 'on'", FakeHost::default());
        assert_eq!(outcome, PhaseOutcome::Failed);
        assert!(logs[0].contains("Cannot modify kong.configuration.untrusted_lua"), "{logs:?}");
    }
}
