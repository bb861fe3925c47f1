//! Building one chunk's globals table for a sandbox mode.
//!
//! Restricted modes copy what they allow out of the state's built-in globals into a fresh
//! table per chunk, then replace every module table with a read-only proxy: an empty
//! table whose metatable reads through to the copy (`__index`, `__pairs`) and refuses
//! writes with Kong's message (`__newindex`). The built-ins themselves are never handed
//! out, so nothing a chunk does reaches another chunk. In `sandbox` / `lax` the read-only
//! lua.lua proxies are built once per Lua state and shared (nothing can change them), and
//! each chunk's writable `kong` / `ngx` copies are made on its first use of them.

use std::collections::BTreeSet;

use gc_arena::{Collect, Rootable};
use piccolo::table::NextValue;
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
    match mode {
        Mode::Strict => handler_environment(ctx),
        _ => backward_compatible(ctx, settings),
    }
}

/// Sets the compile-time rewrites' helpers (see `crate::lua::compile`) in `env`; string
/// methods resolve against `string`.
fn set_helpers<'gc>(ctx: Context<'gc>, env: Table<'gc>, string: Value<'gc>) {
    let string = match string {
        Value::Table(t) => t,
        _ => Table::new(&ctx),
    };
    env.set(ctx, compile::METHOD_CALL, base::method_call_function(ctx, string)).ok();
    for helper in [compile::FIRST_VALUE, compile::CONCAT] {
        env.set(ctx, helper, ctx.get_global(helper)).ok();
    }
}

/// `strict`: Kong's handler environment, `ENVIRONMENT.handler` of
/// `kong/tools/sandbox/environment/init.lua` (what `sandbox_handler` loads chunks in):
/// the names of `environment/lua.lua` and `environment/handler.lua`, every module
/// protected under its `_G.` name, `kong.ctx` with `shared` / `plugin`,
/// `kong.configuration` without secrets, `ngx.var` / `ngx.arg` / `ngx.header` and `ngx`'s
/// metatable handed on, `require` limited to `require/handler.lua`'s list. Kong's
/// `sandbox_handler` reads neither `untrusted_lua_sandbox_requires` nor
/// `untrusted_lua_sandbox_environment`, so neither applies here.
fn handler_environment<'gc>(ctx: Context<'gc>) -> Table<'gc> {
    let env = Table::new(&ctx);
    names(allowlist::LUA).chain(names(allowlist::HANDLER)).for_each(|n| include(ctx, env, n));
    for special in ["kong.ctx", "kong.configuration", "ngx.arg", "ngx.var", "ngx.header", "ngx.ctx"] {
        include(ctx, env, special);
    }
    // ngx.status, ngx.ctx ... work through ngx's metatable, which Kong hands on.
    if let (Value::Table(own), Value::Table(builtin)) = (env.get(ctx, "ngx"), ctx.get_global("ngx")) {
        own.set_metatable(&ctx, builtin.metatable());
    }
    set_helpers(ctx, env, env.get(ctx, "string"));
    protect_modules(ctx, env);
    let allowed = names(allowlist::REQUIRES).map(str::to_owned).collect();
    env.set(ctx, "require", require_function(ctx, allowed)).ok();
    env.set(ctx, "_G", env).ok();
    env
}

/// `sandbox` (and `lax`): Kong's `sandbox_backward_compatible`
/// (`kong/tools/sandbox/init.lua`), the path the serverless plugins compile their chunks
/// through, with `create_lua_env` of `kong/tools/sandbox/kong.lua`:
///
/// - the chunk's table holds `environment/lua.lua`'s names, modules protected under their
///   `_G.` names;
/// - it falls back to Kong's "environment" table: `require` (denied, or the modules of
///   `untrusted_lua_sandbox_requires`), the backward-compatible `kong`
///   ([`backward_compatible_kong`]), the whole `ngx`, the names of
///   `untrusted_lua_sandbox_environment` linked in ([`link`]), and `_G`, which is that
///   environment table itself;
/// - every name the chunk's table has takes the environment's value when the environment
///   has one (`create_lua_env`), so `require` and `_G` come from there, and so does a
///   module named in `untrusted_lua_sandbox_environment` (`string.rep` makes `string` a
///   table holding just `rep`, as in Kong).
///
/// Kong builds the environment once per worker; here it is built per chunk, so nothing a
/// chunk writes into `kong`, `ngx` or `_G` reaches another chunk. With
/// `untrusted_lua_sandbox_environment` empty (the default) the chunk's table starts from
/// [`shared`]'s lua.lua names and its environment makes `kong` / `ngx` on first use
/// ([`lazy_namespaces`]); otherwise all of it is built here, per chunk.
fn backward_compatible<'gc>(ctx: Context<'gc>, settings: &SandboxSettings) -> Table<'gc> {
    let env = Table::new(&ctx);
    let environment = Table::new(&ctx);
    let allowed: BTreeSet<String> = settings.requires.iter().cloned().collect();
    environment.set(ctx, "require", require_function(ctx, allowed)).ok();
    if settings.environment.is_empty() {
        environment.set(ctx, "_G", environment).ok();
        let shared = shared(ctx);
        for (key, value) in shared.lua_names.iter() {
            env.set(ctx, key, value).ok();
        }
        // Of the environment's names, lua.lua has none: only `require` and `_G` override.
        env.set(ctx, "require", environment.get(ctx, "require")).ok();
        env.set(ctx, "_G", environment).ok();
        environment.set_metatable(&ctx, Some(shared.lazy_namespaces));
    } else {
        lua_names(ctx, env);
        for name in ["kong", "ngx"] {
            environment.set(ctx, name, namespace_copy(ctx, name)).ok();
        }
        for name in &settings.environment {
            link(ctx, name, ctx.globals(), environment);
        }
        environment.set(ctx, "_G", environment).ok();
        let mut keys: Vec<Value<'gc>> = env.iter().map(|(k, _)| k).collect();
        keys.extend(["require", "_G"].map(|k| Value::String(ctx.intern(k.as_bytes()))));
        for key in keys {
            let value = environment.get(ctx, key);
            if !value.is_nil() && !matches!(value, Value::Boolean(false)) {
                env.set(ctx, key, value).ok();
            }
        }
    }
    let meta = Table::new(&ctx);
    meta.set(ctx, MetaMethod::Index, environment).ok();
    env.set_metatable(&ctx, Some(meta));
    env
}

/// The chunk's own copy of Kong's environment namespace `name`: the backward-compatible
/// `kong` ([`backward_compatible_kong`]) or the whole `ngx` (with the built-in `ngx`'s
/// metatable, which serves `ngx.status`, `ngx.ctx`, ...); `nil` for other names.
fn namespace_copy<'gc>(ctx: Context<'gc>, name: &str) -> Value<'gc> {
    match name {
        "kong" => backward_compatible_kong(ctx),
        "ngx" => {
            let Value::Table(builtin) = crate::pdk::ngx_global(ctx) else { return Value::Nil };
            let own = copy_table(ctx, builtin, COPY_DEPTH);
            own.set_metatable(&ctx, builtin.metatable());
            Value::Table(own)
        }
        _ => Value::Nil,
    }
}

/// Sets `environment/lua.lua`'s names in `env`, every module behind a read-only proxy,
/// and the compile rewrites' helpers.
fn lua_names<'gc>(ctx: Context<'gc>, env: Table<'gc>) {
    include_lua_names(ctx, env);
    // String methods go through LuaJIT's string metatable in Kong, whatever the chunk's
    // `string` global is: here they resolve against lua.lua's string functions.
    set_helpers(ctx, env, env.get(ctx, "string"));
    protect_modules(ctx, env);
}

/// What [`include`] of every `environment/lua.lua` name does, in one pass per module:
/// each allowed member is copied out of the built-in module by walking the module's own
/// keys (no name is looked up, or interned, one by one). A module with no allowed member
/// present is left out, as [`include`] leaves out a name the built-ins lack.
fn include_lua_names<'gc>(ctx: Context<'gc>, env: Table<'gc>) {
    let mut modules: Vec<(&str, Vec<&str>)> = Vec::new();
    for name in names(allowlist::LUA) {
        let Some((module, member)) = name.split_once('.') else {
            include(ctx, env, name);
            continue;
        };
        match modules.iter_mut().find(|(m, _)| *m == module) {
            Some((_, members)) => members.push(member),
            None => modules.push((module, vec![member])),
        }
    }
    for (module, members) in modules {
        let key = ctx.intern(module.as_bytes());
        let Value::Table(builtin) = ctx.globals().get(ctx, key) else { continue };
        let copy = Table::new(&ctx);
        for (k, v) in builtin.iter() {
            let allowed = matches!(k, Value::String(s) if members.iter().any(|m| m.as_bytes() == s.as_bytes()));
            if allowed && !v.is_nil() {
                let v = match v {
                    Value::Table(t) => Value::Table(copy_table(ctx, t, COPY_DEPTH)),
                    v => v,
                };
                copy.set(ctx, k, v).ok();
            }
        }
        if !matches!(copy.next(Value::Nil), NextValue::Last) {
            env.set(ctx, key, copy).ok();
        }
    }
}

/// [`lua_names`] built once per Lua state, the first time a chunk needs them, and handed
/// to every `sandbox` / `lax` chunk of the state: as Kong builds `ENVIRONMENT.lua` once
/// per worker (`environment/init.lua`) and `create_lua_env` gives each chunk a shallow
/// clone of it, so the module tables are shared in Kong too. Nothing a chunk does reaches
/// behind the shared proxies: lua.lua has no `getmetatable`, `rawset`, `setmetatable` or
/// `debug`, writes through a proxy raise Kong's error, and `pairs` on one iterates
/// without handing out the table behind it ([`read_only_proxy`]). Only used while
/// `untrusted_lua_sandbox_environment` is empty: a name linked from it (`getmetatable`,
/// say) could reach behind a proxy, so then each chunk gets its own.
fn shared<'gc>(ctx: Context<'gc>) -> Shared<'gc> {
    let shared = *ctx.singleton::<Rootable![Shared<'_>]>();
    if matches!(shared.lua_names.next(Value::Nil), NextValue::Last) {
        lua_names(ctx, shared.lua_names);
    }
    shared
}

/// What the `sandbox` / `lax` chunks of one Lua state share (see [`shared`]).
#[derive(Collect, Clone, Copy)]
#[collect(no_drop)]
struct Shared<'gc> {
    /// [`lua_names`], filled on first use.
    lua_names: Table<'gc>,
    /// The metatable of each chunk's Kong environment table ([`lazy_namespaces`]).
    lazy_namespaces: Table<'gc>,
}

impl<'gc> piccolo::Singleton<'gc> for Shared<'gc> {
    fn create(ctx: Context<'gc>) -> Self {
        Shared { lua_names: Table::new(&ctx), lazy_namespaces: lazy_namespaces(ctx) }
    }
}

/// The metatable that gives a chunk's Kong environment table (its `_G`) its `kong` and
/// `ngx` on first access: `__index` builds the chunk's own copy ([`namespace_copy`]) and
/// stores it in the table, so the copy is made once per chunk, only for a namespace the
/// chunk uses, and later reads find it without the metatable; `__pairs` makes both
/// first, so `pairs(_G)` lists them as Kong's environment table does; `__newindex` makes
/// both and drops the metatable. (A plain
/// `next(_G)` before either is used does not see them: the one difference, and only for
/// a chunk walking `_G` by hand.) Copying at configure cost every chunk both copies,
/// whether it used them or not.
fn lazy_namespaces<'gc>(ctx: Context<'gc>) -> Table<'gc> {
    let meta = Table::new(&ctx);
    let index = Callback::from_fn(&ctx, |ctx, _, mut stack| {
        let (environment, key) = (stack.get(0), stack.get(1));
        let value = match (environment, key) {
            (Value::Table(environment), Value::String(name)) => materialize(ctx, environment, name.as_bytes()),
            _ => Value::Nil,
        };
        stack.replace(ctx, value);
        Ok(CallbackReturn::Return)
    });
    meta.set(ctx, MetaMethod::Index, index).ok();
    let pairs = Callback::from_fn(&ctx, |ctx, _, mut stack| {
        let environment = stack.get(0);
        if let Value::Table(t) = environment {
            for name in [&b"kong"[..], b"ngx"] {
                if t.get(ctx, ctx.intern(name)).is_nil() {
                    materialize(ctx, t, name);
                }
            }
        }
        stack.replace(ctx, (ctx.get_global("next"), environment, Value::Nil));
        Ok(CallbackReturn::Return)
    });
    meta.set(ctx, MetaMethod::Pairs, pairs).ok();
    // A write of a name the table lacks (`_G.kong = nil` before `kong` was used, or
    // `_G.x = 1`) first makes both namespaces and drops the metatable: from then on the
    // table is the plain one Kong's is, so a removed `kong` stays removed.
    let newindex = Callback::from_fn(&ctx, |ctx, _, mut stack| {
        if let Value::Table(environment) = stack.get(0) {
            for name in [&b"kong"[..], b"ngx"] {
                if environment.get(ctx, ctx.intern(name)).is_nil() {
                    materialize(ctx, environment, name);
                }
            }
            environment.set_metatable(&ctx, None);
            environment.set(ctx, stack.get(1), stack.get(2))?;
        }
        stack.clear();
        Ok(CallbackReturn::Return)
    });
    meta.set(ctx, MetaMethod::NewIndex, newindex).ok();
    meta
}

/// Stores the chunk's copy of namespace `name` in `environment` and returns it; `nil`
/// (nothing stored) for any other name.
fn materialize<'gc>(ctx: Context<'gc>, environment: Table<'gc>, name: &[u8]) -> Value<'gc> {
    let value = match name {
        b"kong" => namespace_copy(ctx, "kong"),
        b"ngx" => namespace_copy(ctx, "ngx"),
        _ => return Value::Nil,
    };
    if !value.is_nil() {
        environment.set(ctx, ctx.intern(name), value).ok();
    }
    value
}

/// Kong's `get_backward_compatible_sandboxed_kong()` (`kong/tools/sandbox/init.lua`): the
/// whole `kong` table (a writable copy here), with `kong.licensing`,
/// `kong.cache.cluster_events`, `kong.core_cache.cluster_events` and
/// `kong.db.connector.config` replaced by denied tables, and `kong.configuration` the
/// copy without secrets (this filter's `kong.configuration` never holds any).
fn backward_compatible_kong<'gc>(ctx: Context<'gc>) -> Value<'gc> {
    let Value::Table(builtin) = ctx.get_global("kong") else { return Value::Nil };
    let kong = copy_table(ctx, builtin, COPY_DEPTH);
    kong.set(ctx, "licensing", denied_table(ctx, "kong.licensing")).ok();
    for cache in ["cache", "core_cache"] {
        if let Value::Table(t) = kong.get(ctx, cache) {
            // Kong names both `kong.cache.cluster_events` in its message.
            t.set(ctx, "cluster_events", denied_table(ctx, "kong.cache.cluster_events")).ok();
        }
    }
    if let Value::Table(db) = kong.get(ctx, "db") {
        if let Value::Table(connector) = db.get(ctx, "connector") {
            connector.set(ctx, "config", denied_table(ctx, "kong.db.connector.config")).ok();
        }
    }
    Value::Table(kong)
}

/// Kong's `denied_table(modname)`: empty, `tostring` gives "nil", writes raise
/// "Cannot modify <modname>.<key>. Protected by the sandbox.".
fn denied_table<'gc>(ctx: Context<'gc>, name: &str) -> Table<'gc> {
    let proxy = read_only_proxy(ctx, Table::new(&ctx), name);
    if let Some(meta) = proxy.metatable() {
        let nil = Callback::from_fn(&ctx, |ctx, _, mut stack| {
            stack.replace(ctx, ctx.intern(b"nil"));
            Ok(CallbackReturn::Return)
        });
        meta.set(ctx, MetaMethod::ToString, nil).ok();
    }
    proxy
}

/// Kong's `link(q, o, target)` (`kong/tools/sandbox/init.lua`): makes the dotted name
/// `path` of `source` reachable in `target`, creating the intermediate tables. A table at
/// the end of the path is handed on as an empty table reading through to it (here: to a
/// copy, so writes through deeper tables cannot reach the built-ins); any other value is
/// copied. A missing name links nothing (intermediate tables already made stay, as in
/// Kong).
fn link<'gc>(ctx: Context<'gc>, path: &str, source: Table<'gc>, target: Table<'gc>) {
    let (head, rest) = path.split_once('.').unwrap_or((path, ""));
    if head.is_empty() {
        return;
    }
    let key = ctx.intern(head.as_bytes());
    let value = source.get(ctx, key);
    if value.is_nil() || matches!(value, Value::Boolean(false)) || head.starts_with("__kf_") {
        return;
    }
    if rest.is_empty() {
        let value = match value {
            Value::Table(t) => {
                let view = Table::new(&ctx);
                let meta = Table::new(&ctx);
                meta.set(ctx, MetaMethod::Index, copy_table(ctx, t, COPY_DEPTH)).ok();
                view.set_metatable(&ctx, Some(meta));
                Value::Table(view)
            }
            v => v,
        };
        target.set(ctx, key, value).ok();
        return;
    }
    let inner = match target.get(ctx, key) {
        Value::Table(t) => t,
        _ => {
            let t = Table::new(&ctx);
            target.set(ctx, key, t).ok();
            t
        }
    };
    if let Value::Table(next) = value {
        link(ctx, rest, next, inner);
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

/// Replaces every module table in `env` with a read-only proxy, recursively, named as
/// Kong's `protect_modules(env, "_G")` names them (`_G.string`, `_G.kong.request`, ...).
/// As in Kong's `protect`: `ngx` itself stays writable (its own metatable, handed on,
/// serves `ngx.status` / `ngx.ctx`) and so do `ngx.var`, `ngx.arg`, `ngx.header` and
/// `ngx.ctx`; `kong.configuration` and `kong.ctx` are protected under those names, and
/// `kong.ctx.shared` / `kong.ctx.plugin` exist to be written.
fn protect_modules<'gc>(ctx: Context<'gc>, env: Table<'gc>) {
    let modules: Vec<(Value<'gc>, Table<'gc>)> =
        env.iter().filter_map(|(k, v)| if let Value::Table(t) = v { Some((k, t)) } else { None }).collect();
    for (key, module) in modules {
        let name = format!("_G.{}", format::display(key));
        env.set(ctx, key, protect(ctx, module, &name)).ok();
    }
}

fn protect<'gc>(ctx: Context<'gc>, module: Table<'gc>, name: &str) -> Table<'gc> {
    let inner: Vec<(Value<'gc>, Table<'gc>)> =
        module.iter().filter_map(|(k, v)| if let Value::Table(t) = v { Some((k, t)) } else { None }).collect();
    for (key, table) in inner {
        let full = format!("{name}.{}", format::display(key));
        match full.as_str() {
            "_G.ngx.var" | "_G.ngx.arg" | "_G.ngx.header" | "_G.ngx.ctx" | "_G.kong.ctx.shared" | "_G.kong.ctx.plugin" => {}
            _ => {
                module.set(ctx, key, protect(ctx, table, &full)).ok();
            }
        }
    }
    match name {
        "_G.ngx" => module,
        "_G.kong.configuration" | "_G.kong.ctx" => read_only_proxy(ctx, module, &name[3..]),
        _ => read_only_proxy(ctx, module, name),
    }
}

/// [`protect`] for a module `copy_table(.., depth)` made: the copied levels are protected
/// in place; the tables below them are the module's own (shared, possibly cyclic, such
/// as a class whose `__index` is itself), so they are only wrapped, never changed.
fn protect_copy<'gc>(ctx: Context<'gc>, copy: Table<'gc>, name: &str, depth: usize) -> Table<'gc> {
    let inner: Vec<(Value<'gc>, Table<'gc>)> =
        copy.iter().filter_map(|(k, v)| if let Value::Table(t) = v { Some((k, t)) } else { None }).collect();
    for (key, table) in inner {
        let full = format!("{name}.{}", format::display(key));
        let protected = if depth > 0 { protect_copy(ctx, table, &full, depth - 1) } else { read_only_proxy(ctx, table, &full) };
        copy.set(ctx, key, protected).ok();
    }
    read_only_proxy(ctx, copy, name)
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
    // `pairs` walks `module` with an iterator of its own instead of handing out `next`
    // and `module`: the table behind the proxy never reaches Lua code, where a chunk
    // could write into it (the proxies are shared between chunks, see
    // [`shared`]).
    let next = Callback::from_fn_with(&ctx, module, |module, ctx, _, mut stack| {
        match module.next(stack.get(1)) {
            NextValue::Found { key, value } => stack.replace(ctx, (key, value)),
            NextValue::Last => stack.replace(ctx, Value::Nil),
            NextValue::NotFound => return Err(Value::String(ctx.intern(b"invalid key to 'next'")).into()),
        }
        Ok(CallbackReturn::Return)
    });
    let pairs = Callback::from_fn_with(&ctx, next, |next, ctx, _, mut stack| {
        let proxy = stack.get(0);
        stack.replace(ctx, (*next, proxy, Value::Nil));
        Ok(CallbackReturn::Return)
    });
    meta.set(ctx, MetaMethod::Pairs, pairs).ok();
    // A callable module (`kong.log.inspect(...)`) stays callable behind its proxy, and
    // one with `__tostring` (kong.meta's `_VERSION_TABLE`) keeps its text.
    for method in [MetaMethod::Call, MetaMethod::ToString] {
        if let Some(f) = module.metatable().map(|m| m.get(ctx, method)).filter(|c| !c.is_nil()) {
            meta.set(ctx, method, f).ok();
        }
    }
    // `#` sees the module's array (kong.constants.PROTOCOLS), not the empty proxy.
    let len = Callback::from_fn_with(&ctx, module, |module, ctx, _, mut stack| {
        stack.replace(ctx, module.length());
        Ok(CallbackReturn::Return)
    });
    meta.set(ctx, MetaMethod::Len, len).ok();
    proxy.set_metatable(&ctx, Some(meta));
    proxy
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
            // lua-nginx-module's package.loaded.ngx: the ngx table itself, as Kong's
            // sandbox hands out what the real require returns.
            t @ Value::Table(_) if name == "ngx" => t,
            Value::Table(t) => Value::Table(protect_copy(ctx, copy_table(ctx, t, COPY_DEPTH), &name, COPY_DEPTH)),
            Value::Nil => return Err(error_at(ctx, &exec, &format!("module '{name}' not found"))),
            v => v,
        };
        stack.replace(ctx, module);
        Ok(CallbackReturn::Return)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `include_lua_names` gives exactly what `include` of each environment/lua.lua name
    /// (Kong's `include(env, id)` in environment/init.lua) gives: the same names, the same
    /// values.
    #[test]
    fn one_pass_includes_match_include_by_name() {
        let mut lua = crate::lua::new_state();
        lua.enter(|ctx| {
            let (by_name, one_pass) = (Table::new(&ctx), Table::new(&ctx));
            names(allowlist::LUA).for_each(|n| include(ctx, by_name, n));
            include_lua_names(ctx, one_pass);
            let flat = |t: Table<'_>| {
                let mut out: Vec<String> = Vec::new();
                for (k, v) in t.iter() {
                    match v {
                        Value::Table(module) => {
                            for (mk, mv) in module.iter() {
                                out.push(format!("{}.{} {:?}", format::display(k), format::display(mk), mv));
                            }
                        }
                        v => out.push(format!("{} {v:?}", format::display(k))),
                    }
                }
                out.sort();
                out
            };
            let expected = flat(by_name);
            assert!(expected.len() > 90, "lua.lua names found: {}", expected.len());
            assert_eq!(flat(one_pass), expected);
        });
    }
}
