//! The modules of Kong's `require` allowlists that are plain Lua in Kong (Kong's own
//! `kong.tools.*`, Penlight's `pl.stringx`/`pl.tablex`, LuaSocket's `socket.url`,
//! `resty.lrucache`, `resty.cookie`, `resty.ipmatcher`, `version` ...), written here as
//! Lua source of this project (`src/lua/modules/*.lua`, each naming the original whose
//! behaviour it follows) and served by `require` ([`crate::lua::stdlib::base::provided_module`]).
//!
//! A module is compiled and run on its first `require` in a Lua state, never at state
//! creation, and kept for the state's life (per plugin instance, as a module on Kong's
//! worker): later `require`s give the same table. Module code runs with the state's
//! built-ins (the full standard library, `ngx`, `kong`, unrestricted `require`) whatever
//! the chunk's sandbox mode; a chunk only ever gets the module's table, which the
//! sandbox hands out as a read-only copy.
//!
//! The sources are embedded stripped of comments and blanks, every line kept (so error
//! messages name the lines of the files as written), and compressed one by one
//! (build.rs); a module's first `require` in the VM inflates its file, once.
//!
//! Each chunk is called with two arguments: the module name and a table of native
//! helpers ([`natives`]) for what Lua cannot do here (inet_pton-style address parsing,
//! the signature arithmetic of `crypto.rs`).

use gc_arena::{Collect, Rootable};
use piccolo::{Callback, CallbackReturn, Context, Executor, Fuel, Function, MetaMethod, Table, Value};

mod asn1;
pub(crate) mod crypto;
mod native;
#[cfg(test)]
mod strip;

#[cfg(test)]
mod tests;

/// `require` name -> file stem of its source (`src/lua/modules/<stem>.lua`).
const SOURCES: &[(&str, &str)] = &[
    ("kong.constants", "kong_constants"),
    ("kong.meta", "kong_meta"),
    ("kong.tools.cjson", "kong_tools_cjson"),
    ("kong.tools.gzip", "kong_tools_gzip"),
    ("kong.tools.ip", "kong_tools_ip"),
    ("kong.tools.mime_type", "kong_tools_mime_type"),
    ("kong.tools.rand", "kong_tools_rand"),
    ("kong.tools.string", "kong_tools_string"),
    ("kong.tools.table", "kong_tools_table"),
    ("kong.tools.time", "kong_tools_time"),
    ("kong.tools.timestamp", "kong_tools_timestamp"),
    ("kong.tools.uri", "kong_tools_uri"),
    ("kong.tools.uuid", "kong_tools_uuid"),
    ("ngx.re", "ngx_re"),
    ("ngx.req", "ngx_req"),
    ("ngx.resp", "ngx_resp"),
    ("pl.stringx", "pl_stringx"),
    ("pl.tablex", "pl_tablex"),
    ("resty.cookie", "resty_cookie"),
    ("resty.evp", "resty_evp"),
    ("resty.hmac", "resty_hmac"),
    ("resty.http", "resty_http"),
    ("resty.core", "resty_core"),
    ("resty.core.shdict", "resty_core_shdict"),
    ("resty.core.time", "resty_core_time"),
    ("resty.http_headers", "resty_http_headers"),
    ("resty.ipmatcher", "resty_ipmatcher"),
    ("resty.jit-uuid", "resty_jit_uuid"),
    ("resty.jwt", "resty_jwt"),
    ("resty.jwt-validators", "resty_jwt_validators"),
    ("resty.lrucache", "resty_lrucache"),
    ("resty.lrucache.pureffi", "resty_lrucache"),
    ("resty.openssl", "resty_openssl"),
    ("resty.openssl.bn", "resty_openssl_bn"),
    ("resty.openssl.digest", "resty_openssl_digest"),
    ("resty.openssl.hmac", "resty_openssl_hmac"),
    ("resty.openssl.pkey", "resty_openssl_pkey"),
    ("resty.openssl.rand", "resty_openssl_rand"),
    ("resty.openssl.x509", "resty_openssl_x509"),
    ("resty.random", "resty_random"),
    ("resty.xmodem", "resty_xmodem"),
    ("socket.url", "socket_url"),
    ("tablepool", "tablepool"),
    ("version", "version"),
];

/// The packed sources (build.rs): `FILES`.
mod packed {
    include!(concat!(env!("OUT_DIR"), "/lua_modules.rs"));
}

/// The stripped sources, one DEFLATE stream per file (build.rs).
static DEFLATED: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/lua_modules.deflate"));

/// Each file's inflated text (by its index in `FILES`), made on its first `require` in
/// the VM and kept for the VM's life, as the text used to be kept in the module's data.
static TEXTS: [std::sync::OnceLock<Result<String, String>>; packed::FILES.len()] =
    [const { std::sync::OnceLock::new() }; packed::FILES.len()];

/// The Lua source of the module file `stem`. Errors (a bug in this crate's build: the
/// unit tests load every module): the file is not packed or does not inflate.
fn source(stem: &str) -> Result<&'static str, String> {
    let index = packed::FILES.iter().position(|(s, ..)| *s == stem).ok_or_else(|| format!("{stem}.lua is not packed"))?;
    let (_, start, end, len) = packed::FILES[index];
    let text = TEXTS[index].get_or_init(|| {
        let bytes = DEFLATED.get(start..end).ok_or_else(|| format!("{stem}.lua is out of the packed data"))?;
        let bytes = miniz_oxide::inflate::decompress_to_vec_with_limit(bytes, len)
            .map_err(|e| format!("{stem}.lua does not inflate: {e}"))?;
        String::from_utf8(bytes).map_err(|_| format!("{stem}.lua is not UTF-8"))
    });
    text.as_deref().map_err(Clone::clone)
}

/// Fuel for running one module's top level: far above what any of them needs (a few
/// thousand instructions), so only a bug could reach it.
const LOAD_FUEL: i32 = 10_000_000;

/// Whether `name` is one of the Lua modules here.
pub fn provides(name: &str) -> bool {
    SOURCES.iter().any(|(n, _)| *n == name)
}

/// The names of the Lua modules here.
pub fn names() -> impl Iterator<Item = &'static str> {
    SOURCES.iter().map(|(n, _)| *n)
}

/// The required modules built so far in this state, a Lua table by module name: the Lua
/// modules here and `cjson` / `cjson.safe` (`crate::pdk::cjson`) share it; their names
/// differ. A Lua table, so no singleton is created while another is being created.
#[derive(Collect, Clone, Copy)]
#[collect(no_drop)]
pub(crate) struct Loaded<'gc>(pub(crate) Table<'gc>);

impl<'gc> piccolo::Singleton<'gc> for Loaded<'gc> {
    fn create(ctx: Context<'gc>) -> Self {
        Loaded(Table::new(&ctx))
    }
}

/// The module `require(name)` gives: loaded on first use, then the same value. Errors:
/// the module's compile or run error (a bug in this crate: the unit tests load every
/// module), or "not a Lua module" for other names.
pub fn module<'gc>(ctx: Context<'gc>, name: &str) -> Result<Value<'gc>, String> {
    let Some((_, stem)) = SOURCES.iter().find(|(n, _)| *n == name) else {
        return Err(format!("{name}: not a Lua module"));
    };
    let loaded = ctx.singleton::<Rootable![Loaded<'_>]>().0;
    let key = ctx.intern(name.as_bytes());
    let cached = loaded.get(ctx, key);
    if !cached.is_nil() {
        return Ok(cached);
    }
    let value = run(ctx, name, source(stem)?)?;
    loaded.set(ctx, key, value).map_err(|e| e.to_string())?;
    Ok(value)
}

/// Compiles and runs one module's source to completion in an executor of its own (the
/// caller may itself be a callback inside a running executor).
fn run<'gc>(ctx: Context<'gc>, name: &str, source: &str) -> Result<Value<'gc>, String> {
    let env = Table::new(&ctx);
    let meta = Table::new(&ctx);
    meta.set(ctx, MetaMethod::Index, ctx.globals()).map_err(|e| e.to_string())?;
    env.set_metatable(&ctx, Some(meta));
    let chunk_name = format!("{}.lua", name.replace('.', "/"));
    let closure = crate::lua::compile::load(ctx, &chunk_name, source.as_bytes(), env).map_err(|e| format!("{name}: {e}"))?;
    let args = (ctx.intern(name.as_bytes()), native::natives(ctx));
    let executor = Executor::start(ctx, Function::Closure(closure), args);
    let mut fuel = Fuel::with(LOAD_FUEL);
    if !executor.step(ctx, &mut fuel) {
        return Err(format!("{name}: module did not finish loading"));
    }
    match executor.take_result::<Value<'gc>>(ctx) {
        Ok(Ok(value)) if !value.is_nil() => Ok(value),
        Ok(Ok(_)) => Err(format!("{name}: module returned nil")),
        Ok(Err(e)) => Err(format!("{name}: {}", crate::lua::format::display(crate::lua::stdlib::base::error_value(ctx, e)))),
        Err(e) => Err(format!("{name}: {e}")),
    }
}

/// A Lua function calling `f` (for the native helpers).
fn function<'gc>(ctx: Context<'gc>, f: for<'g> fn(Context<'g>, piccolo::Execution<'g, '_>, piccolo::Stack<'g, '_>) -> Result<CallbackReturn<'g>, piccolo::Error<'g>>) -> Value<'gc> {
    Value::Function(Callback::from_fn(&ctx, f).into())
}
