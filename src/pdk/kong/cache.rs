//! `kong.cache`: `kong.cache:get(key, opts, cb, ...)`, a read-through cache as Kong's
//! `kong/cache/init.lua` over lua-resty-mlcache, kept in the VM's proxy-wasm shared
//! data (one store per VM, shared by every filter instance and worker of the VM, as
//! Kong's cache is shared by the workers of a node).
//!
//! A value is stored as `<expiry ms>\n<JSON>` under `kong_functions.cache:<key>`
//! (expiry 0: never); `nil` results are cached too (as JSON `null`), for `neg_ttl`.
//! Differences from Kong: values go through JSON, so a cached table comes back as a
//! new table each hit (Kong's L1 hands out the same table), with cjson's array/object
//! rules; there is no per-worker L1, so hits report `hit_level` 2 (shared memory),
//! callback runs 3, and a miss without callback -1, as mlcache. Two workers missing at
//! once may both run the callback (mlcache takes a lock); the store keeps the last write.
//! `opts.resurrect_ttl`, `l1_serializer` and `shm_set_tries` are checked, not used.
//!
//! Bounded on every host: each module instance keeps an LRU index of the keys it wrote
//! (limits `cache_entries` and `cache_bytes`, keys plus stored values); past either, the
//! least recently used entries are evicted (blanked in shared data, which reads as a
//! miss, since proxy-wasm 0.2.1 has no delete). Where shared data needs a zone and none is
//! configured (Kong's engine), the store itself is module memory (see `stream::HostView`).

use piccolo::{BoxSequence, CallbackReturn, Context, Error, Execution, Sequence, SequencePoll, Stack, Table, Value};

use crate::pdk::lua_json::{from_lua, to_lua};
use crate::pdk::{lua_string, raise, set_function, Pdk};
use crate::host::SharedDataError;
use crate::lua::stdlib::base::error_value;

/// Prefix of cache keys in shared data.
const KEY_PREFIX: &str = "kong_functions.cache:";

/// Kong's message prefix for cache errors (`kong/cache/init.lua`).
const ERR_PREFIX: &str = "failed to get from node cache: ";

thread_local! {
    /// The keys this module instance cached, least recently used first.
    static INDEX: std::cell::RefCell<Lru> = std::cell::RefCell::new(Lru::default());
}

/// An LRU index of cache keys with their stored sizes.
#[derive(Default)]
struct Lru {
    tick: u64,
    /// key → (last use, bytes).
    entries: std::collections::HashMap<String, (u64, usize)>,
    /// last use → key.
    order: std::collections::BTreeMap<u64, String>,
    bytes: usize,
}

impl Lru {
    /// Marks `key` used (inserting it with `size` bytes when `size` is `Some`); returns
    /// the keys to evict so that at most `max_entries` and `max_bytes` remain.
    fn touch(&mut self, key: &str, size: Option<usize>, max_entries: usize, max_bytes: usize) -> Vec<String> {
        self.tick += 1;
        match self.entries.get_mut(key) {
            Some((used, bytes)) => {
                self.order.remove(used);
                *used = self.tick;
                if let Some(size) = size {
                    self.bytes = self.bytes - *bytes + size;
                    *bytes = size;
                }
                self.order.insert(self.tick, key.to_owned());
            }
            None => {
                let Some(size) = size else { return Vec::new() };
                self.entries.insert(key.to_owned(), (self.tick, size));
                self.order.insert(self.tick, key.to_owned());
                self.bytes += size;
            }
        }
        let mut evicted = Vec::new();
        while self.entries.len() > max_entries || self.bytes > max_bytes {
            let Some((_, oldest)) = self.order.pop_first() else { break };
            if let Some((_, bytes)) = self.entries.remove(&oldest) {
                self.bytes -= bytes;
            }
            evicted.push(oldest);
        }
        evicted
    }
}

/// Records a use of `key` (a write when `stored` is `Some`) and evicts what the limits no
/// longer hold.
fn record_use(host: &dyn crate::host::Host, key: &str, stored: Option<usize>) {
    let limits = crate::lua::limits::current();
    let size = stored.map(|len| key.len() + len);
    let evicted = INDEX.with(|index| index.borrow_mut().touch(key, size, limits.cache_entries, limits.cache_bytes));
    for key in evicted {
        let _ = host.set_shared_data(&key, Some(b""), 0);
    }
}

/// Builds the `kong.cache` table: `get`.
pub fn table<'gc>(ctx: Context<'gc>, pdk: &Pdk) -> Table<'gc> {
    let t = Table::new(&ctx);
    set_function(ctx, t, "get", pdk, get);
    t
}

/// TTLs from `opts`, in seconds; 0 means "never expires" (Kong's default
/// `db_cache_ttl = 0`, with `db_cache_neg_ttl` falling back to it).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Ttls {
    ttl: f64,
    neg_ttl: f64,
}

/// `kong.cache:get(key[, opts[, cb[, ...]]])`: the cached value for `key`, else the
/// result of `cb(...)`, cached for `opts.ttl` seconds (`opts.neg_ttl` when `cb` returns
/// `nil`). Returns `value, nil, hit_level`, or `nil, err` when the callback raised
/// ("failed to get from node cache: callback threw an error: ..."), returned `nil, err`,
/// or returned a value JSON cannot hold. A third callback result (a number) overrides
/// the TTL; a negative one skips caching. Argument errors are raised with mlcache's
/// messages.
fn get<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    // Called as a method: stack[0] is `kong.cache` itself.
    let Value::String(key) = stack.get(1) else {
        return raise(ctx, &exec, "key must be a string");
    };
    let key = format!("{KEY_PREFIX}{}", key.to_str_lossy());
    let callback = match stack.get(3) {
        Value::Nil => None,
        Value::Function(f) => Some(f),
        _ => return raise(ctx, &exec, "callback must be nil or a function"),
    };
    let ttls = check_opts(ctx, &exec, stack.get(2))?;

    let host = pdk.scope().host.clone();
    let now_ms = host.now_nanos() / 1_000_000;
    let (stored, cas) = host.shared_data(&key);
    if let Some(value) = stored.as_deref().and_then(|bytes| fresh_value(bytes, now_ms)) {
        record_use(host.as_ref(), &key, None);
        stack.replace(ctx, (to_lua(ctx, &value), Value::Nil, 2));
        return Ok(CallbackReturn::Return);
    }
    let Some(function) = callback else {
        stack.replace(ctx, (Value::Nil, Value::Nil, -1));
        return Ok(CallbackReturn::Return);
    };
    // The callback's arguments are the ones after it.
    let args: Vec<Value<'gc>> = (4..stack.len()).map(|i| stack.get(i)).collect();
    stack.clear();
    stack.extend(args);
    let fill = Fill { pdk: pdk.clone(), key, cas, ttls };
    Ok(CallbackReturn::Call { function, then: Some(BoxSequence::new(&ctx, fill)) })
}

/// mlcache's `check_opts`: types and signs of the options, with its messages.
fn check_opts<'gc>(ctx: Context<'gc>, exec: &Execution<'gc, '_>, opts: Value<'gc>) -> Result<Ttls, Error<'gc>> {
    let mut ttls = Ttls { ttl: 0.0, neg_ttl: 0.0 };
    let opts = match opts {
        Value::Nil => return Ok(ttls),
        Value::Table(t) => t,
        _ => return raise(ctx, exec, "opts must be a table"),
    };
    for (name, slot) in [("ttl", Some(&mut ttls.ttl)), ("neg_ttl", Some(&mut ttls.neg_ttl)), ("resurrect_ttl", None)] {
        match opts.get(ctx, name) {
            Value::Nil => {}
            v @ (Value::Integer(_) | Value::Number(_)) => {
                let n = v.to_number().unwrap_or(0.0);
                if n < 0.0 {
                    return raise(ctx, exec, &format!("opts.{name} must be >= 0"));
                }
                if let Some(slot) = slot {
                    *slot = n;
                }
            }
            _ => return raise(ctx, exec, &format!("opts.{name} must be a number")),
        }
    }
    match opts.get(ctx, "l1_serializer") {
        Value::Nil | Value::Function(_) => {}
        _ => return raise(ctx, exec, "opts.l1_serializer must be a function"),
    }
    match opts.get(ctx, "shm_set_tries") {
        Value::Nil => {}
        v @ (Value::Integer(_) | Value::Number(_)) => {
            if v.to_number().unwrap_or(0.0) < 1.0 {
                return raise(ctx, exec, "opts.shm_set_tries must be >= 1");
            }
        }
        _ => return raise(ctx, exec, "opts.shm_set_tries must be a number"),
    }
    Ok(ttls)
}

/// The stored value if it has not expired at `now_ms`; `Null` for a cached `nil`.
fn fresh_value(bytes: &[u8], now_ms: u64) -> Option<serde_json::Value> {
    let newline = bytes.iter().position(|&b| b == b'\n')?;
    let expiry: u64 = std::str::from_utf8(&bytes[..newline]).ok()?.parse().ok()?;
    if expiry != 0 && expiry <= now_ms {
        return None;
    }
    serde_json::from_slice(&bytes[newline + 1..]).ok()
}

/// The stored form of `value` (JSON) expiring `ttl` seconds after `now_ms`.
fn stored_form(json: &str, ttl: f64, now_ms: u64) -> Vec<u8> {
    let expiry = if ttl > 0.0 { now_ms.saturating_add((ttl * 1000.0).ceil() as u64) } else { 0 };
    format!("{expiry}\n{json}").into_bytes()
}

/// After the callback: cache its result and return it.
#[derive(gc_arena::Collect)]
#[collect(require_static)]
struct Fill {
    pdk: Pdk,
    key: String,
    cas: u32,
    ttls: Ttls,
}

impl<'gc> Sequence<'gc> for Fill {
    fn poll(&mut self, ctx: Context<'gc>, _exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<SequencePoll<'gc>, Error<'gc>> {
        let (data, err, new_ttl) = (stack.get(0), stack.get(1), stack.get(2));
        if err.to_bool() {
            let text = format!("{ERR_PREFIX}{}", crate::lua::format::display(err));
            stack.replace(ctx, (Value::Nil, lua_string(ctx, text.as_bytes())));
            return Ok(SequencePoll::Return);
        }
        let mut ttl = if data.is_nil() { self.ttls.neg_ttl } else { self.ttls.ttl };
        if let Some(n) = new_ttl.to_number().filter(|_| matches!(new_ttl, Value::Integer(_) | Value::Number(_))) {
            if n < 0.0 {
                // mlcache: a negative TTL returns the value without caching it.
                stack.replace(ctx, (data, Value::Nil, 3));
                return Ok(SequencePoll::Return);
            }
            ttl = n;
        }
        let json = match data {
            Value::Nil | Value::Boolean(_) | Value::Integer(_) | Value::Number(_) | Value::String(_) | Value::Table(_) => {
                from_lua(ctx, data).map(|v| v.to_string())
            }
            other => Err(format!("cannot cache value of type {}", other.type_name())),
        };
        let json = match json {
            Ok(json) => json,
            Err(e) => {
                let text = format!("{ERR_PREFIX}{e}");
                stack.replace(ctx, (Value::Nil, lua_string(ctx, text.as_bytes())));
                return Ok(SequencePoll::Return);
            }
        };
        let host = self.pdk.scope().host.clone();
        let now_ms = host.now_nanos() / 1_000_000;
        let stored = stored_form(&json, ttl, now_ms);
        match host.set_shared_data(&self.key, Some(&stored), self.cas) {
            Ok(()) => record_use(host.as_ref(), &self.key, Some(stored.len())),
            // Another worker filled the key meanwhile: its value stays, ours is returned.
            Err(SharedDataError::CasMismatch) => {}
            Err(SharedDataError::Refused) => {
                let text = format!("{ERR_PREFIX}could not write to shared data");
                stack.replace(ctx, (Value::Nil, lua_string(ctx, text.as_bytes())));
                return Ok(SequencePoll::Return);
            }
        }
        stack.replace(ctx, (data, Value::Nil, 3));
        Ok(SequencePoll::Return)
    }

    fn error(&mut self, ctx: Context<'gc>, _exec: Execution<'gc, '_>, error: Error<'gc>, mut stack: Stack<'gc, '_>) -> Result<SequencePoll<'gc>, Error<'gc>> {
        let message = crate::lua::format::display(error_value(ctx, error));
        let text = format!("{ERR_PREFIX}callback threw an error: {message}");
        stack.replace(ctx, (Value::Nil, lua_string(ctx, text.as_bytes())));
        Ok(SequencePoll::Return)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_values_expire_after_their_ttl() {
        let bytes = stored_form("{\"a\":1}", 2.0, 10_000);
        assert_eq!(fresh_value(&bytes, 11_999), Some(serde_json::json!({"a": 1})));
        assert_eq!(fresh_value(&bytes, 12_000), None);
        let forever = stored_form("null", 0.0, 10_000);
        assert_eq!(fresh_value(&forever, u64::MAX), Some(serde_json::Value::Null));
        assert_eq!(fresh_value(b"garbage", 0), None);
        // An evicted (blanked) entry reads as a miss.
        assert_eq!(fresh_value(b"", 0), None);
    }

    #[test]
    fn the_index_evicts_the_least_recently_used_past_either_limit() {
        let mut lru = Lru::default();
        assert!(lru.touch("a", Some(10), 2, 100).is_empty());
        assert!(lru.touch("b", Some(10), 2, 100).is_empty());
        lru.touch("a", None, 2, 100);
        assert_eq!(lru.touch("c", Some(10), 2, 100), ["b"]);
        assert_eq!(lru.touch("d", Some(95), 10, 100), ["a", "c"]);
        assert_eq!(lru.bytes, 95);
        // A hit on an unknown key (written by another worker) indexes nothing.
        assert!(lru.touch("zz", None, 1, 1).is_empty());
        assert_eq!(lru.entries.len(), 1);
    }
}
