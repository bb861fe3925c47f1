//! Building one chunk's globals table for a sandbox mode.
//!
//! Restricted modes copy what they allow out of the state's built-in globals into a fresh
//! table per chunk, then replace every module table with a read-only proxy: an empty
//! table whose metatable reads through to the copy (`__index`, `__pairs`) and refuses
//! writes with Kong's message (`__newindex`). The built-ins themselves are never handed
//! out, so nothing a chunk does reaches another chunk.

use std::collections::BTreeSet;

use piccolo::{Callback, CallbackReturn, Context, Error, MetaMethod, Table, Value};

use super::allowlist::{self, names};
use super::{Mode, SandboxSettings};
use crate::lua::{compile, error_at, format, stdlib::base};

/// How deep a whole namespace (`kong`, `ngx`) is copied; deeper tables are shared.
const COPY_DEPTH: usize = 4;

/// The globals table for one chunk under `settings`.
///
/// `on` (and `off`, which never compiles a chunk) gives a fresh table falling back to the
/// built-ins, as Kong's `setmetatable({}, {__index = _G})` (with `_G` the chunk's own
/// table, so even `_G.x = 1` cannot reach other chunks); the other modes build the
/// restricted environment described in [`crate::sandbox`].
pub fn chunk_environment<'gc>(ctx: Context<'gc>, settings: &SandboxSettings) -> Table<'gc> {
    match settings.mode {
        Mode::On | Mode::Off => fall_back_to_globals(ctx),
        mode => restricted(ctx, mode, settings),
    }
}

fn fall_back_to_globals<'gc>(ctx: Context<'gc>) -> Table<'gc> {
    let env = Table::new(&ctx);
    let meta = Table::new(&ctx);
    meta.set(ctx, MetaMethod::Index, ctx.globals()).ok();
    env.set_metatable(&ctx, Some(meta));
    // Writable copies of the modules, so `string.x = f` or replacing a PDK function
    // changes this chunk's view only; string methods follow this chunk's `string`.
    for module in ON_MODULES {
        include(ctx, env, module);
    }
    if let Value::Table(string) = env.get(ctx, "string") {
        env.set(ctx, compile::METHOD_CALL, base::method_call_function(ctx, string)).ok();
    }
    // `_G` is the chunk's own table too, so `_G.x = 1` stays in the chunk.
    env.set(ctx, "_G", env).ok();
    env
}

/// The module tables each chunk gets its own copy of in `on` mode.
const ON_MODULES: [&str; 9] = ["string", "table", "math", "os", "coroutine", "bit", "jit", "kong", "ngx"];

fn restricted<'gc>(ctx: Context<'gc>, mode: Mode, settings: &SandboxSettings) -> Table<'gc> {
    let env = Table::new(&ctx);
    match mode {
        Mode::Strict => {
            names(allowlist::LUA).chain(names(allowlist::HANDLER)).for_each(|n| include(ctx, env, n));
            // Kong's strict environment always adds kong.ctx.shared / kong.ctx.plugin and
            // the ngx tables that work through metatables.
            for special in ["kong.ctx", "kong.configuration", "ngx.arg", "ngx.var", "ngx.header", "ngx.ctx"] {
                include(ctx, env, special);
            }
            // ngx.status, ngx.ctx ... work through ngx's metatable, which Kong hands on.
            if let (Value::Table(own), Value::Table(builtin)) = (env.get(ctx, "ngx"), ctx.get_global("ngx")) {
                own.set_metatable(&ctx, builtin.metatable());
            }
        }
        Mode::Lax => {
            names(allowlist::LUA).for_each(|n| include(ctx, env, n));
            include(ctx, env, "kong");
            include(ctx, env, "ngx");
        }
        _ => include_sandbox(ctx, env),
    }
    for name in &settings.environment {
        include(ctx, env, name);
    }
    let string = match env.get(ctx, "string") {
        Value::Table(t) => t,
        _ => Table::new(&ctx),
    };
    // The compile-time rewrites call these by name (see `crate::lua::compile`); string
    // methods resolve against this environment's own `string`, so `("x"):rep(9)` is
    // refused wherever `string.rep` is.
    env.set(ctx, compile::METHOD_CALL, base::method_call_function(ctx, string)).ok();
    for helper in [compile::FIRST_VALUE, compile::CONCAT] {
        env.set(ctx, helper, ctx.get_global(helper)).ok();
    }
    protect_modules(ctx, env);
    let allowed = allowed_requires(mode, settings);
    env.set(ctx, "require", require_function(ctx, allowed)).ok();
    env.set(ctx, "_G", env).ok();
    env
}

/// The `sandbox` mode: everything but the documented removals.
fn include_sandbox<'gc>(ctx: Context<'gc>, env: Table<'gc>) {
    let removed: BTreeSet<&str> = names(allowlist::SANDBOX_REMOVED).collect();
    for (key, value) in ctx.globals().iter() {
        let Value::String(key) = key else { continue };
        let Ok(name) = key.to_str() else { continue };
        if removed.contains(name) || name.starts_with("__kf_") || name == "_G" {
            continue;
        }
        let value = match (name, value) {
            ("os", Value::Table(os)) => {
                let kept = Table::new(&ctx);
                for f in names(allowlist::SANDBOX_OS) {
                    kept.set(ctx, f, os.get(ctx, f)).ok();
                }
                Value::Table(kept)
            }
            (_, Value::Table(t)) => {
                let copy = copy_table(ctx, t, COPY_DEPTH);
                for full in removed.iter().filter_map(|r| r.strip_prefix(name)?.strip_prefix('.')) {
                    copy.set(ctx, full, Value::Nil).ok();
                }
                Value::Table(copy)
            }
            (_, v) => v,
        };
        env.set(ctx, key, value).ok();
    }
    // The documents: kong.cache only exposes `get`.
    if let Value::Table(kong) = env.get(ctx, "kong") {
        if let Value::Table(cache) = kong.get(ctx, "cache") {
            let only_get = Table::new(&ctx);
            only_get.set(ctx, "get", cache.get(ctx, "get")).ok();
            kong.set(ctx, "cache", only_get).ok();
        }
    }
}

/// Copies the built-in at dotted path `name` into `env` at the same path; tables are
/// copied, so later protection never touches the built-ins. Unknown names are skipped.
fn include<'gc>(ctx: Context<'gc>, env: Table<'gc>, name: &str) {
    let parts: Vec<&str> = name.split('.').collect();
    let mut source = Value::Table(ctx.globals());
    for part in &parts {
        source = match source {
            Value::Table(t) => t.get(ctx, ctx.intern(part.as_bytes())),
            _ => Value::Nil,
        };
    }
    if source.is_nil() {
        return;
    }
    let mut target = env;
    for part in &parts[..parts.len() - 1] {
        let key = ctx.intern(part.as_bytes());
        target = match target.get(ctx, key) {
            Value::Table(t) => t,
            _ => {
                let t = Table::new(&ctx);
                target.set(ctx, key, t).ok();
                t
            }
        };
    }
    let value = match source {
        Value::Table(t) => Value::Table(copy_table(ctx, t, COPY_DEPTH)),
        v => v,
    };
    target.set(ctx, ctx.intern(parts[parts.len() - 1].as_bytes()), value).ok();
}

fn copy_table<'gc>(ctx: Context<'gc>, table: Table<'gc>, depth: usize) -> Table<'gc> {
    let copy = Table::new(&ctx);
    for (k, v) in table.iter() {
        let v = match v {
            Value::Table(t) if depth > 0 => Value::Table(copy_table(ctx, t, depth - 1)),
            v => v,
        };
        copy.set(ctx, k, v).ok();
    }
    if let Some(meta) = table.metatable() {
        copy.set_metatable(&ctx, Some(meta));
    }
    copy
}

/// Replaces every module table in `env` with a read-only proxy, recursively. `ngx` stays
/// writable (as in Kong: the chunk writes into its own copy), and so do `kong.ctx.*`,
/// which exist to be written.
fn protect_modules<'gc>(ctx: Context<'gc>, env: Table<'gc>) {
    let modules: Vec<(Value<'gc>, Table<'gc>)> =
        env.iter().filter_map(|(k, v)| if let Value::Table(t) = v { Some((k, t)) } else { None }).collect();
    for (key, module) in modules {
        let name = format::display(key);
        if name != "ngx" {
            env.set(ctx, key, protect(ctx, module, &name)).ok();
        }
    }
}

fn protect<'gc>(ctx: Context<'gc>, module: Table<'gc>, name: &str) -> Table<'gc> {
    let inner: Vec<(Value<'gc>, Table<'gc>)> =
        module.iter().filter_map(|(k, v)| if let Value::Table(t) = v { Some((k, t)) } else { None }).collect();
    for (key, table) in inner {
        let full = format!("{name}.{}", format::display(key));
        if full != "kong.ctx" {
            module.set(ctx, key, protect(ctx, table, &full)).ok();
        }
    }
    read_only_proxy(ctx, module, name)
}

/// An empty table reading through to `module`; writes raise Kong's
/// "Cannot modify <name>.<key>. Protected by the sandbox.".
pub fn read_only_proxy<'gc>(ctx: Context<'gc>, module: Table<'gc>, name: &str) -> Table<'gc> {
    let proxy = Table::new(&ctx);
    let meta = Table::new(&ctx);
    meta.set(ctx, MetaMethod::Index, module).ok();
    let name = ctx.intern(name.as_bytes());
    let refuse = Callback::from_fn_with(&ctx, name, |name, ctx, _, stack| {
        let text = format!("Cannot modify {}.{}. Protected by the sandbox.", name.to_str_lossy(), format::display(stack.get(1)));
        Err::<CallbackReturn, Error>(Value::String(ctx.intern(text.as_bytes())).into())
    });
    meta.set(ctx, MetaMethod::NewIndex, refuse).ok();
    let pairs = Callback::from_fn_with(&ctx, module, |module, ctx, _, mut stack| {
        stack.replace(ctx, (ctx.get_global("next"), *module, Value::Nil));
        Ok(CallbackReturn::Return)
    });
    meta.set(ctx, MetaMethod::Pairs, pairs).ok();
    // A callable module (`kong.log.inspect(...)`) stays callable behind its proxy.
    if let Some(call) = module.metatable().map(|m| m.get(ctx, MetaMethod::Call)).filter(|c| !c.is_nil()) {
        meta.set(ctx, MetaMethod::Call, call).ok();
    }
    proxy.set_metatable(&ctx, Some(meta));
    proxy
}

fn allowed_requires(mode: Mode, settings: &SandboxSettings) -> BTreeSet<String> {
    let mut allowed: BTreeSet<String> = settings.requires.iter().cloned().collect();
    if mode == Mode::Strict {
        allowed.extend(names(allowlist::REQUIRES).map(str::to_owned));
    }
    allowed
}

/// Kong's sandboxed `require`: modules in `allowed` load (as read-only copies of what
/// this filter provides); anything else raises "require 'x' not allowed within sandbox".
fn require_function<'gc>(ctx: Context<'gc>, allowed: BTreeSet<String>) -> Callback<'gc> {
    Callback::from_fn(&ctx, move |ctx, exec, mut stack| {
        let name = match stack.get(0) {
            Value::String(s) => s.to_str_lossy().into_owned(),
            other => format::display(other),
        };
        if !allowed.contains(&name) {
            return Err(error_at(ctx, &exec, &format!("require '{name}' not allowed within sandbox")));
        }
        let module = match base::provided_module(ctx, &name) {
            Value::Table(t) => Value::Table(protect(ctx, copy_table(ctx, t, COPY_DEPTH), &name)),
            Value::Nil => return Err(error_at(ctx, &exec, &format!("module '{name}' not found"))),
            v => v,
        };
        stack.replace(ctx, module);
        Ok(CallbackReturn::Return)
    })
}
