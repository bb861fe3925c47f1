//! `ngx.shared.DICT`: lua-nginx-module's shared dictionaries (`lua_shared_dict`), with
//! lua-resty-core's methods, return values and error strings (`lib/resty/core/shdict.lua`,
//! `src/ngx_http_lua_shdict.c` at openresty/lua-nginx-module), kept in the host's
//! proxy-wasm shared data.
//!
//! **Which dictionaries.** Kong's nginx template declares `kong`, `kong_locks`,
//! `kong_healthchecks`, `kong_cluster_events`, `kong_rate_limiting_counters`,
//! `kong_core_db_cache`, `kong_core_db_cache_miss`, `kong_db_cache`, `kong_db_cache_miss`
//! and `kong_secrets` (`kong/templates/nginx_kong.lua`), so a chunk written for Kong finds
//! them here too, with Kong's default sizes ([`KONG_DICTS`]). They are this filter's own
//! dictionaries, empty at start: the filter cannot see what Kong keeps in its nginx
//! dictionaries. The VM configuration's `shared_dicts` (`{"my_counters": "512k"}`, sizes
//! as nginx's `lua_shared_dict`: bytes, `k`, `m`, `g`) adds dictionaries or resizes these.
//! Any other name reads `nil`, as `ngx.shared.nope` in OpenResty.
//!
//! **Where they live, per host.** Through the host view's shared data (see
//! `stream::HostView`): on Envoy the `vm_id`'s shared data, one store per process for every
//! worker thread (proxy-wasm-cpp-host keeps shared data in one process-wide map keyed by
//! `vm_id`, `src/shared_data.cc`), so a dictionary is node-wide, shared by the plugins of
//! that `vm_id`, and emptied when the last VM of the `vm_id` goes (`deleteByVmId`). On Kong's
//! engine the keys go to the VM configuration's `shared_data_zone` (`<zone>/...`, an
//! `shm_kv` zone: node-wide across workers, as `lua_shared_dict`); without a zone the
//! engine would trap, so there they live in module memory, one store per nginx worker.
//!
//! **Stored form.** Entry `kong_functions.shdict:<dict>:<key>` holds
//! `<expiry ms> <flags> <type>:<value>` (expiry 0: never; type `s` string, `i` integer,
//! `n` float, `b` boolean); an empty value is an absent key (proxy-wasm 0.2.1 has no
//! delete). Entry `kong_functions.shdict#<dict>` indexes the dictionary's keys, oldest
//! first, with their accounted sizes (`<key len> <size> <key>\n` each), for `get_keys`,
//! `flush_all`, `flush_expired`, `free_space` and the capacity. Writes use the host's CAS
//! tokens and retry when another worker came first.
//!
//! **Capacity.** Each entry counts [`ENTRY_OVERHEAD`] bytes plus its key plus its value
//! (8 for a number, 1 for a boolean, the string's length), about what nginx's slab
//! allocator spends on a small entry. When a new entry does not fit, `set`/`add`/`incr`
//! evict expired entries and then the oldest written (nginx evicts the least recently
//! used: here writes count as uses, reads do not) and report `forcible = true`;
//! `safe_set`/`safe_add` fail with `"no memory"` instead. A write the host itself refuses
//! (its zone is full) is `"no memory"` too.
//!
//! **Lists** (`lpush`, `rpush`, `lpop`, `rpop`, `llen`, lua-nginx-module's
//! `ngx_http_lua_shdict_push_helper`/`pop_helper`/`llen`): a list entry (type `l`) holds
//! strings and numbers, each item `s<len>:<bytes>` or `n<len>:<number>`; it counts
//! [`LIST_NODE_OVERHEAD`] bytes per item besides the item. Pushing onto an absent or
//! expired key starts a list that never expires; a live non-list is `nil, "value not a
//! list"`; the last pop removes the entry; `get` of a list is `nil, "value is a list"`.

use piccolo::{Callback, CallbackReturn, Context, Error, Execution, MetaMethod, Stack, Table, Value};

use crate::host::{Host, SharedDataError};
use crate::lua::format;
use crate::pdk::{lua_string, raise, set_function, Pdk};

/// Kong's `lua_shared_dict` declarations (`kong/templates/nginx_kong.lua`, `mem_cache_size`
/// default 128m), present on every VM unless the configuration resizes them.
pub const KONG_DICTS: [(&str, usize); 10] = [
    ("kong", 5 << 20),
    ("kong_locks", 8 << 20),
    ("kong_healthchecks", 5 << 20),
    ("kong_cluster_events", 5 << 20),
    ("kong_rate_limiting_counters", 12 << 20),
    ("kong_core_db_cache", 128 << 20),
    ("kong_core_db_cache_miss", 12 << 20),
    ("kong_db_cache", 128 << 20),
    ("kong_db_cache_miss", 12 << 20),
    ("kong_secrets", 5 << 20),
];

/// Bytes each entry counts against the capacity besides its key and value.
pub const ENTRY_OVERHEAD: usize = 64;

/// Bytes each list item counts besides its value (nginx's list node header).
pub const LIST_NODE_OVERHEAD: usize = 16;

/// How often a write re-reads and tries again when another writer came first.
const CAS_TRIES: usize = 16;

/// lua-nginx-module's longest key.
const MAX_KEY: usize = 65535;

/// Parses an nginx size (`512`, `64k`, `1m`, `1g`, either case) into bytes.
pub fn parse_size(text: &str) -> Option<usize> {
    let text = text.trim();
    let (digits, unit) = match text.char_indices().last()? {
        (i, c) if c.is_ascii_alphabetic() => (&text[..i], c.to_ascii_lowercase()),
        _ => (text, ' '),
    };
    let n: usize = digits.parse().ok()?;
    let shift = match unit {
        ' ' => 0,
        'k' => 10,
        'm' => 20,
        'g' => 30,
        _ => return None,
    };
    n.checked_mul(1 << shift)
}

/// The dictionaries a VM has: Kong's, then the configured ones (a configured name
/// replaces Kong's size).
pub fn dictionaries(configured: &std::collections::BTreeMap<String, usize>) -> Vec<(String, usize)> {
    let mut dicts: Vec<(String, usize)> = KONG_DICTS
        .iter()
        .filter(|(name, _)| !configured.contains_key(*name))
        .map(|(name, size)| (name.to_string(), *size))
        .collect();
    dicts.extend(configured.iter().map(|(name, size)| (name.clone(), *size)));
    dicts
}

/// Builds `ngx.shared`: one table per dictionary (`{[1] = name}`, as lua-nginx-module's
/// `{[1] = zone}`) sharing one metatable whose `__index` holds the methods. The tables are
/// made on first use (`__index`; `__pairs` makes them all), so a chunk that never reads
/// `ngx.shared` pays nothing at start-up, nor for the copies `untrusted_lua = on` makes.
pub fn table<'gc>(ctx: Context<'gc>, pdk: &Pdk) -> Table<'gc> {
    let shared = Table::new(&ctx);
    let meta = Table::new(&ctx);
    let index_pdk = pdk.clone();
    let index = Callback::from_fn_with(&ctx, meta, move |meta, ctx, _exec, mut stack| {
        let value = match (stack.get(0), stack.get(1)) {
            (Value::Table(this), key @ Value::String(name)) => match dict_object(ctx, &index_pdk, *meta, &name.to_str_lossy()) {
                Some(dict) => {
                    this.set(ctx, key, dict).ok();
                    Value::Table(dict)
                }
                None => Value::Nil,
            },
            _ => Value::Nil,
        };
        stack.replace(ctx, value);
        Ok(CallbackReturn::Return)
    });
    let pairs_pdk = pdk.clone();
    let pairs = Callback::from_fn_with(&ctx, meta, move |meta, ctx, _exec, mut stack| {
        let this = stack.get(0);
        if let Value::Table(this) = this {
            let dicts = pairs_pdk.scope().shared_dicts.clone();
            for (name, _) in dicts.iter() {
                let key = lua_string(ctx, name.as_bytes());
                if this.get(ctx, key).is_nil() {
                    if let Some(dict) = dict_object(ctx, &pairs_pdk, *meta, name) {
                        this.set(ctx, key, dict).ok();
                    }
                }
            }
        }
        stack.replace(ctx, (ctx.get_global("next"), this, Value::Nil));
        Ok(CallbackReturn::Return)
    });
    meta.set(ctx, MetaMethod::Index, index).ok();
    meta.set(ctx, MetaMethod::Pairs, pairs).ok();
    shared.set_metatable(&ctx, Some(meta));
    shared
}

/// The table of dictionary `name`, or `None` when the VM has no such dictionary. The
/// dictionaries' shared metatable (the methods) is made once and kept in `meta`.
fn dict_object<'gc>(ctx: Context<'gc>, pdk: &Pdk, meta: Table<'gc>, name: &str) -> Option<Table<'gc>> {
    if !pdk.scope().shared_dicts.iter().any(|(n, _)| n == name) {
        return None;
    }
    let dict_meta = match meta.get(ctx, "dict_metatable") {
        Value::Table(t) => t,
        _ => {
            let methods = Table::new(&ctx);
            let list: [(&'static str, crate::pdk::PdkFn); 21] = [
                ("get", get),
                ("get_stale", get_stale),
                ("set", set),
                ("safe_set", safe_set),
                ("add", add),
                ("safe_add", safe_add),
                ("replace", replace),
                ("delete", delete),
                ("incr", incr),
                ("lpush", lpush),
                ("rpush", rpush),
                ("lpop", lpop),
                ("rpop", rpop),
                ("llen", llen),
                ("ttl", ttl),
                ("expire", expire),
                ("flush_all", flush_all),
                ("flush_expired", flush_expired),
                ("get_keys", get_keys),
                ("capacity", capacity),
                ("free_space", free_space),
            ];
            for (method, body) in list {
                set_function(ctx, methods, method, pdk, body);
            }
            let dict_meta = Table::new(&ctx);
            dict_meta.set(ctx, MetaMethod::Index, methods).ok();
            meta.set(ctx, "dict_metatable", dict_meta).ok();
            dict_meta
        }
    };
    let dict = Table::new(&ctx);
    dict.set(ctx, 1, lua_string(ctx, name.as_bytes())).ok();
    dict.set_metatable(&ctx, Some(dict_meta));
    Some(dict)
}

/// Bytes the dictionary `name`'s entries count (its capacity less `free_space`), as
/// its key index records them.
pub fn used_bytes(host: &dyn Host, name: &str) -> usize {
    let (bytes, _) = host.shared_data(&index_key(name));
    bytes.map(|b| Index::decode(&b).used()).unwrap_or(0)
}

/// A stored entry.
#[derive(Debug, Clone, PartialEq)]
struct Entry {
    /// Expiry in ms since the epoch; 0: never.
    expiry: u64,
    flags: u32,
    value: Stored,
}

/// A stored value.
#[derive(Debug, Clone, PartialEq)]
enum Stored {
    Str(Vec<u8>),
    Int(i64),
    Num(f64),
    Bool(bool),
    /// A list's items, head first: strings (`Str`) and numbers (`Num`).
    List(Vec<Stored>),
}

impl Stored {
    /// Bytes the value counts (nginx stores a number as a double, a boolean as a byte).
    fn size(&self) -> usize {
        match self {
            Stored::Str(s) => s.len(),
            Stored::Int(_) | Stored::Num(_) => 8,
            Stored::Bool(_) => 1,
            Stored::List(items) => items.iter().map(|i| LIST_NODE_OVERHEAD + i.size()).sum(),
        }
    }

    fn to_lua<'gc>(&self, ctx: Context<'gc>) -> Value<'gc> {
        match self {
            Stored::Str(s) => lua_string(ctx, s),
            Stored::Int(i) => Value::Integer(*i),
            Stored::Num(n) => Value::Number(*n),
            Stored::Bool(b) => Value::Boolean(*b),
            // Never handed out whole: `get` answers "value is a list".
            Stored::List(_) => Value::Nil,
        }
    }
}

impl Entry {
    fn encode(&self) -> Vec<u8> {
        let (kind, text) = match &self.value {
            Stored::Str(s) => ('s', s.clone()),
            Stored::Int(i) => ('i', i.to_string().into_bytes()),
            Stored::Num(n) => ('n', format!("{n:?}").into_bytes()),
            Stored::Bool(b) => ('b', if *b { b"1".to_vec() } else { b"0".to_vec() }),
            Stored::List(items) => {
                let mut text = Vec::new();
                for item in items {
                    let (kind, bytes) = match item {
                        Stored::Str(s) => (b's', s.clone()),
                        other => (b'n', format!("{:?}", other.to_f64()).into_bytes()),
                    };
                    text.push(kind);
                    text.extend_from_slice(format!("{}:", bytes.len()).as_bytes());
                    text.extend_from_slice(&bytes);
                }
                ('l', text)
            }
        };
        let mut out = format!("{} {} {kind}:", self.expiry, self.flags).into_bytes();
        out.extend_from_slice(&text);
        out
    }

    fn decode(bytes: &[u8]) -> Option<Entry> {
        let colon = bytes.iter().position(|&b| b == b':')?;
        let head = std::str::from_utf8(&bytes[..colon]).ok()?;
        let mut parts = head.split(' ');
        let expiry = parts.next()?.parse().ok()?;
        let flags = parts.next()?.parse().ok()?;
        let body = &bytes[colon + 1..];
        let text = || std::str::from_utf8(body).ok();
        let value = match parts.next()? {
            "s" => Stored::Str(body.to_vec()),
            "i" => Stored::Int(text()?.parse().ok()?),
            "n" => Stored::Num(text()?.parse().ok()?),
            "b" => Stored::Bool(body == b"1"),
            "l" => Stored::List(decode_list(body)?),
            _ => return None,
        };
        Some(Entry { expiry, flags, value })
    }

    fn expired(&self, now: u64) -> bool {
        self.expiry != 0 && self.expiry <= now
    }
}

impl Stored {
    /// A number item's value (a list keeps numbers as nginx's doubles).
    fn to_f64(&self) -> f64 {
        match self {
            Stored::Int(i) => *i as f64,
            Stored::Num(n) => *n,
            _ => 0.0,
        }
    }
}

/// A list entry's items (see [`Entry::encode`]).
fn decode_list(mut rest: &[u8]) -> Option<Vec<Stored>> {
    let mut items = Vec::new();
    while let Some((&kind, after)) = rest.split_first() {
        let colon = after.iter().position(|&b| b == b':')?;
        let len: usize = std::str::from_utf8(&after[..colon]).ok()?.parse().ok()?;
        let bytes = after.get(colon + 1..colon + 1 + len)?;
        items.push(match kind {
            b's' => Stored::Str(bytes.to_vec()),
            b'n' => Stored::Num(std::str::from_utf8(bytes).ok()?.parse().ok()?),
            _ => return None,
        });
        rest = &after[colon + 1 + len..];
    }
    Some(items)
}

/// The shared-data key of `key` in `dict`: bytes outside printable ASCII, and `%`, are
/// percent-escaped (host keys are text).
fn entry_key(dict: &str, key: &[u8]) -> String {
    let mut out = format!("kong_functions.shdict:{dict}:");
    for &b in key {
        if (0x21..0x7f).contains(&b) && b != b'%' {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn index_key(dict: &str) -> String {
    format!("kong_functions.shdict#{dict}")
}

/// A dictionary's key index: keys oldest first, with their accounted sizes.
#[derive(Debug, Default, Clone, PartialEq)]
struct Index {
    keys: Vec<(Vec<u8>, usize)>,
}

impl Index {
    fn decode(bytes: &[u8]) -> Index {
        let mut keys = Vec::new();
        let mut rest = bytes;
        while !rest.is_empty() {
            let Some(parsed) = (|| {
                let sp1 = rest.iter().position(|&b| b == b' ')?;
                let klen: usize = std::str::from_utf8(&rest[..sp1]).ok()?.parse().ok()?;
                let after = &rest[sp1 + 1..];
                let sp2 = after.iter().position(|&b| b == b' ')?;
                let size: usize = std::str::from_utf8(&after[..sp2]).ok()?.parse().ok()?;
                let key = after.get(sp2 + 1..sp2 + 1 + klen)?.to_vec();
                let next = after.get(sp2 + 2 + klen..)?;
                Some(((key, size), next))
            })() else {
                break;
            };
            keys.push(parsed.0);
            rest = parsed.1;
        }
        Index { keys }
    }

    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for (key, size) in &self.keys {
            out.extend_from_slice(format!("{} {size} ", key.len()).as_bytes());
            out.extend_from_slice(key);
            out.push(b'\n');
        }
        out
    }

    fn used(&self) -> usize {
        self.keys.iter().map(|(_, size)| size).sum()
    }
}

/// One dictionary on the host.
struct Dict<'a> {
    host: &'a dyn Host,
    name: String,
    capacity: usize,
    now: u64,
}

/// What a store operation asks for (lua-nginx-module's `op` bits).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Set,
    SafeSet,
    Add,
    SafeAdd,
    Replace,
}

/// Outcome of a write: the error string, and whether live entries were evicted.
type WriteResult = (Result<(), &'static str>, bool);

impl Dict<'_> {
    fn read(&self, key: &[u8]) -> (Option<Entry>, u32) {
        let (bytes, cas) = self.host.shared_data(&entry_key(&self.name, key));
        (bytes.filter(|b| !b.is_empty()).and_then(|b| Entry::decode(&b)), cas)
    }

    fn read_index(&self) -> (Index, u32) {
        let (bytes, cas) = self.host.shared_data(&index_key(&self.name));
        (bytes.map(|b| Index::decode(&b)).unwrap_or_default(), cas)
    }

    /// Changes the index with `change` (given the index, returns the evicted live-entry
    /// flag or an error), retrying on a CAS race.
    fn update_index<T>(&self, mut change: impl FnMut(&mut Index) -> T) -> T {
        let mut last = None;
        for _ in 0..CAS_TRIES {
            let (mut index, cas) = self.read_index();
            let result = change(&mut index);
            match self.host.set_shared_data(&index_key(&self.name), Some(&index.encode()), cas) {
                Err(SharedDataError::CasMismatch) => last = Some(result),
                _ => return result,
            }
        }
        // Another worker kept winning: the last computed result stands, the index
        // misses this change (a later write of the key records it again).
        match last {
            Some(result) => result,
            None => change(&mut Index::default()),
        }
    }

    /// Blanks `key` (no delete in proxy-wasm 0.2.1).
    fn blank(&self, key: &[u8]) {
        let _ = self.host.set_shared_data(&entry_key(&self.name, key), Some(b""), 0);
    }

    /// Records `key` at `size` bytes in the index, evicting expired and then the oldest
    /// entries to make room unless `safe`. Returns `Err("no memory")` when it cannot fit,
    /// else whether a live entry was evicted.
    fn reserve(&self, key: &[u8], size: usize, safe: bool) -> Result<bool, &'static str> {
        if size > self.capacity {
            return Err("no memory");
        }
        let now = self.now;
        // The evicted keys are blanked once the index write succeeded, not in an attempt
        // a CAS race may undo.
        let (forcible, evicted) = self.update_index(|index| {
            let mut evicted = Vec::new();
            let mut forcible = false;
            let old = index.keys.iter().position(|(k, _)| k == key).map(|i| (i, index.keys.remove(i)));
            let mut used = index.used();
            if used + size > self.capacity {
                if safe {
                    if let Some((at, old)) = old {
                        index.keys.insert(at, old);
                    }
                    return Err("no memory");
                }
                // Expired entries first, oldest first.
                let mut i = 0;
                while used + size > self.capacity && i < index.keys.len() {
                    let (k, s) = index.keys[i].clone();
                    if self.read(&k).0.is_none_or(|e| e.expired(now)) {
                        index.keys.remove(i);
                        used -= s;
                        evicted.push(k);
                    } else {
                        i += 1;
                    }
                }
                while used + size > self.capacity && !index.keys.is_empty() {
                    let (k, s) = index.keys.remove(0);
                    used -= s;
                    evicted.push(k);
                    forcible = true;
                }
            }
            index.keys.push((key.to_vec(), size));
            Ok((forcible, evicted))
        })?;
        for k in &evicted {
            self.blank(k);
        }
        Ok(forcible)
    }

    /// Drops `key` from the index.
    fn unindex(&self, key: &[u8]) {
        self.update_index(|index| index.keys.retain(|(k, _)| k != key));
    }

    /// lua-nginx-module's `shdict_store`.
    fn store(&self, op: Op, key: &[u8], value: Option<Stored>, exptime_ms: u64, flags: u32) -> WriteResult {
        if value.is_none() && matches!(op, Op::Add | Op::SafeAdd | Op::Replace) {
            return (Err("attempt to add or replace nil values"), false);
        }
        let ekey = entry_key(&self.name, key);
        for _ in 0..CAS_TRIES {
            let (current, cas) = self.read(key);
            let live = current.as_ref().is_some_and(|e| !e.expired(self.now));
            match op {
                Op::Replace if !live => return (Err("not found"), false),
                Op::Add | Op::SafeAdd if live => return (Err("exists"), false),
                _ => {}
            }
            let Some(value) = value.clone() else {
                // set(key, nil): delete.
                if current.is_some() {
                    self.blank(key);
                    self.unindex(key);
                }
                return (Ok(()), false);
            };
            let size = ENTRY_OVERHEAD + key.len() + value.size();
            let old_size = current.as_ref().map(|e| ENTRY_OVERHEAD + key.len() + e.value.size());
            let mut forcible = false;
            if old_size != Some(size) {
                match self.reserve(key, size, matches!(op, Op::SafeSet | Op::SafeAdd)) {
                    Ok(f) => forcible = f,
                    Err(e) => return (Err(e), false),
                }
            }
            let expiry = if exptime_ms > 0 { self.now.saturating_add(exptime_ms) } else { 0 };
            let entry = Entry { expiry, flags, value };
            match self.host.set_shared_data(&ekey, Some(&entry.encode()), cas) {
                Ok(()) => return (Ok(()), forcible),
                Err(SharedDataError::CasMismatch) => continue,
                Err(SharedDataError::Refused) => {
                    self.unindex(key);
                    return (Err("no memory"), forcible);
                }
            }
        }
        (Err("no memory"), false)
    }
}

impl Dict<'_> {
    /// lua-nginx-module's `push_helper`: `item` onto the head (`front`) or tail of the
    /// list at `key`; the list's new length, or `"value not a list"` / `"no memory"`.
    fn push(&self, key: &[u8], item: Stored, front: bool) -> Result<usize, &'static str> {
        let ekey = entry_key(&self.name, key);
        for _ in 0..CAS_TRIES {
            let (current, cas) = self.read(key);
            let live = current.as_ref().filter(|e| !e.expired(self.now));
            let (mut items, expiry, flags, old_size) = match live {
                Some(Entry { value: Stored::List(items), expiry, flags }) => {
                    let size = ENTRY_OVERHEAD + key.len() + Stored::List(items.clone()).size();
                    (items.clone(), *expiry, *flags, Some(size))
                }
                Some(_) => return Err("value not a list"),
                // Absent, or expired (whatever it held): a new list that never expires.
                None => (Vec::new(), 0, 0, current.as_ref().map(|e| ENTRY_OVERHEAD + key.len() + e.value.size())),
            };
            if front {
                items.insert(0, item.clone());
            } else {
                items.push(item.clone());
            }
            let len = items.len();
            let value = Stored::List(items);
            let size = ENTRY_OVERHEAD + key.len() + value.size();
            if old_size != Some(size) {
                self.reserve(key, size, false)?;
            }
            let entry = Entry { expiry, flags, value };
            match self.host.set_shared_data(&ekey, Some(&entry.encode()), cas) {
                Ok(()) => return Ok(len),
                Err(SharedDataError::CasMismatch) => continue,
                Err(SharedDataError::Refused) => {
                    self.unindex(key);
                    return Err("no memory");
                }
            }
        }
        Err("no memory")
    }

    /// lua-nginx-module's `pop_helper`: the head (`front`) or tail item of the list at
    /// `key` (`None` when absent, expired or empty), or `"value not a list"`. The last
    /// item's pop removes the entry.
    fn pop(&self, key: &[u8], front: bool) -> Result<Option<Stored>, &'static str> {
        let ekey = entry_key(&self.name, key);
        for _ in 0..CAS_TRIES {
            let (current, cas) = self.read(key);
            let Some(entry) = current.filter(|e| !e.expired(self.now)) else { return Ok(None) };
            let Stored::List(mut items) = entry.value else { return Err("value not a list") };
            if items.is_empty() {
                return Ok(None);
            }
            let item = if front { items.remove(0) } else { items.pop().unwrap_or(Stored::Num(0.0)) };
            if items.is_empty() {
                match self.host.set_shared_data(&ekey, Some(b""), cas) {
                    Err(SharedDataError::CasMismatch) => continue,
                    _ => {
                        self.unindex(key);
                        return Ok(Some(item));
                    }
                }
            }
            let value = Stored::List(items);
            let size = ENTRY_OVERHEAD + key.len() + value.size();
            let next = Entry { expiry: entry.expiry, flags: entry.flags, value };
            match self.host.set_shared_data(&ekey, Some(&next.encode()), cas) {
                Ok(()) => {
                    // The entry shrank: record its new size (never evicts).
                    let _ = self.reserve(key, size, true);
                    return Ok(Some(item));
                }
                Err(SharedDataError::CasMismatch) => continue,
                Err(SharedDataError::Refused) => return Err("no memory"),
            }
        }
        Err("no memory")
    }
}

/// The dictionary `self` names (stack slot 0), following read-only proxies' `__index`
/// tables (the sandbox wraps `ngx`'s tables); Kong's `bad "zone" argument` otherwise.
fn dict_of<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: &Execution<'gc, '_>, this: Value<'gc>) -> Result<(String, usize), Error<'gc>> {
    let mut current = this;
    for _ in 0..4 {
        let Value::Table(t) = current else { break };
        if let Value::String(name) = t.get(ctx, 1) {
            let name = name.to_str_lossy().into_owned();
            let scope = pdk.scope();
            if let Some((_, cap)) = scope.shared_dicts.iter().find(|(n, _)| *n == name) {
                return Ok((name, *cap));
            }
            break;
        }
        current = t.metatable().map(|m| m.get(ctx, MetaMethod::Index)).unwrap_or(Value::Nil);
    }
    raise(ctx, exec, "bad \"zone\" argument")
}

/// The key argument as lua-resty-core checks it: `nil key`, `empty key`, `key too long`
/// come back as `nil, err`; other types go through `tostring`.
fn key_of(value: Value<'_>) -> Result<Vec<u8>, &'static str> {
    let key = match value {
        Value::Nil => return Err("nil key"),
        Value::String(s) => s.as_bytes().to_vec(),
        other => format::display(other).into_bytes(),
    };
    if key.is_empty() {
        return Err("empty key");
    }
    if key.len() > MAX_KEY {
        return Err("key too long");
    }
    Ok(key)
}

fn now_ms(pdk: &Pdk) -> u64 {
    pdk.scope().host.now_nanos() / 1_000_000
}

/// Runs `f` on the dictionary `self` names, with the key argument checked.
fn with_dict<'gc>(
    pdk: &Pdk,
    ctx: Context<'gc>,
    exec: &Execution<'gc, '_>,
    stack: &mut Stack<'gc, '_>,
) -> Result<(String, usize, Result<Vec<u8>, &'static str>), Error<'gc>> {
    let (name, capacity) = dict_of(pdk, ctx, exec, stack.get(0))?;
    Ok((name, capacity, key_of(stack.get(1))))
}

fn nil_err<'gc>(ctx: Context<'gc>, mut stack: Stack<'gc, '_>, err: &str) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    stack.replace(ctx, (Value::Nil, lua_string(ctx, err.as_bytes())));
    Ok(CallbackReturn::Return)
}

fn read_common<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>, stale: bool) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let (name, capacity, key) = with_dict(pdk, ctx, &exec, &mut stack)?;
    let key = match key {
        Ok(k) => k,
        Err(e) => return nil_err(ctx, stack, e),
    };
    let host = pdk.scope().host.clone();
    let dict = Dict { host: host.as_ref(), name, capacity, now: now_ms(pdk) };
    let entry = dict.read(&key).0;
    let flags = |e: &Entry| if e.flags != 0 { Value::Integer(e.flags.into()) } else { Value::Nil };
    if let Some(Entry { value: Stored::List(_), .. }) = &entry {
        if stale || entry.as_ref().is_some_and(|e| !e.expired(dict.now)) {
            return nil_err(ctx, stack, "value is a list");
        }
    }
    match entry {
        Some(e) if stale => {
            let is_stale = e.expired(dict.now);
            stack.replace(ctx, (e.value.to_lua(ctx), flags(&e), is_stale));
        }
        Some(e) if !e.expired(dict.now) => {
            if e.flags != 0 {
                stack.replace(ctx, (e.value.to_lua(ctx), flags(&e)));
            } else {
                stack.replace(ctx, e.value.to_lua(ctx));
            }
        }
        _ => stack.replace(ctx, Value::Nil),
    }
    Ok(CallbackReturn::Return)
}

/// `value, flags = dict:get(key)`: `nil` when absent or expired; `flags` only when
/// non-zero.
fn get<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    read_common(pdk, ctx, exec, stack, false)
}

/// `value, flags, stale = dict:get_stale(key)`: an expired value not yet removed too,
/// with `stale = true`.
fn get_stale<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    read_common(pdk, ctx, exec, stack, true)
}

fn push_common<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>, front: bool) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let (name, capacity, key) = with_dict(pdk, ctx, &exec, &mut stack)?;
    let key = match key {
        Ok(k) => k,
        Err(e) => return nil_err(ctx, stack, e),
    };
    let item = match stack.get(2) {
        Value::String(s) => Stored::Str(s.as_bytes().to_vec()),
        v @ (Value::Integer(_) | Value::Number(_)) => Stored::Num(v.to_number().unwrap_or(0.0)),
        _ => return nil_err(ctx, stack, "bad value type"),
    };
    let host = pdk.scope().host.clone();
    let dict = Dict { host: host.as_ref(), name, capacity, now: now_ms(pdk) };
    match dict.push(&key, item, front) {
        Ok(len) => {
            stack.replace(ctx, Value::Integer(len as i64));
            Ok(CallbackReturn::Return)
        }
        Err(e) => nil_err(ctx, stack, e),
    }
}

/// `len, err = dict:lpush(key, value)`: `value` (a string or number) onto the head of
/// the list at `key` (a new list when absent or expired); the list's new length, or
/// `nil, "value not a list"` / `nil, "bad value type"` / `nil, "no memory"`.
fn lpush<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    push_common(pdk, ctx, exec, stack, true)
}

/// `len, err = dict:rpush(key, value)`: as `lpush`, onto the tail.
fn rpush<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    push_common(pdk, ctx, exec, stack, false)
}

fn pop_common<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>, front: bool) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let (name, capacity, key) = with_dict(pdk, ctx, &exec, &mut stack)?;
    let key = match key {
        Ok(k) => k,
        Err(e) => return nil_err(ctx, stack, e),
    };
    let host = pdk.scope().host.clone();
    let dict = Dict { host: host.as_ref(), name, capacity, now: now_ms(pdk) };
    match dict.pop(&key, front) {
        Ok(Some(Stored::Str(s))) => stack.replace(ctx, lua_string(ctx, &s)),
        Ok(Some(other)) => stack.replace(ctx, Value::Number(other.to_f64())),
        Ok(None) => stack.replace(ctx, Value::Nil),
        Err(e) => return nil_err(ctx, stack, e),
    }
    Ok(CallbackReturn::Return)
}

/// `val, err = dict:lpop(key)`: removes and returns the head item of the list at `key`
/// (`nil` when there is none); `nil, "value not a list"` for another value.
fn lpop<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    pop_common(pdk, ctx, exec, stack, true)
}

/// `val, err = dict:rpop(key)`: as `lpop`, from the tail.
fn rpop<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    pop_common(pdk, ctx, exec, stack, false)
}

/// `len, err = dict:llen(key)`: the number of items of the list at `key`, 0 when absent
/// or expired; `nil, "value not a list"` for another value.
fn llen<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let (name, capacity, key) = with_dict(pdk, ctx, &exec, &mut stack)?;
    let key = match key {
        Ok(k) => k,
        Err(e) => return nil_err(ctx, stack, e),
    };
    let host = pdk.scope().host.clone();
    let dict = Dict { host: host.as_ref(), name, capacity, now: now_ms(pdk) };
    match dict.read(&key).0.filter(|e| !e.expired(dict.now)) {
        None => stack.replace(ctx, Value::Integer(0)),
        Some(Entry { value: Stored::List(items), .. }) => stack.replace(ctx, Value::Integer(items.len() as i64)),
        Some(_) => return nil_err(ctx, stack, "value not a list"),
    }
    Ok(CallbackReturn::Return)
}

/// The `exptime` argument in ms: `nil` is 0 (never); negative raises
/// `bad "exptime" argument`.
fn exptime_of<'gc>(ctx: Context<'gc>, exec: &Execution<'gc, '_>, value: Value<'gc>, method: &str, arg: usize) -> Result<u64, Error<'gc>> {
    match value {
        Value::Nil => Ok(0),
        v @ (Value::Integer(_) | Value::Number(_)) => {
            let secs = v.to_number().unwrap_or(0.0);
            if secs < 0.0 {
                return raise(ctx, exec, "bad \"exptime\" argument");
            }
            Ok((secs * 1000.0) as u64)
        }
        other => raise(ctx, exec, &format!("bad argument #{arg} to '{method}' (number expected, got {})", other.type_name())),
    }
}

fn store_common<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>, op: Op, method: &str) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let (name, capacity) = dict_of(pdk, ctx, &exec, stack.get(0))?;
    let exptime = exptime_of(ctx, &exec, stack.get(3), method, 3)?;
    let flags = match stack.get(4) {
        Value::Nil => 0,
        v @ (Value::Integer(_) | Value::Number(_)) => v.to_number().unwrap_or(0.0) as u32,
        other => return raise(ctx, &exec, &format!("bad argument #4 to '{method}' (number expected, got {})", other.type_name())),
    };
    let fail = |ctx: Context<'gc>, mut stack: Stack<'gc, '_>, err: &str, forcible: bool| {
        stack.replace(ctx, (false, lua_string(ctx, err.as_bytes()), forcible));
        Ok(CallbackReturn::Return)
    };
    let key = match key_of(stack.get(1)) {
        Ok(k) => k,
        // lua-resty-core returns `nil, err` for key errors.
        Err(e) => return nil_err(ctx, stack, e),
    };
    let value = match stack.get(2) {
        Value::Nil => None,
        Value::String(s) => Some(Stored::Str(s.as_bytes().to_vec())),
        Value::Integer(i) => Some(Stored::Int(i)),
        Value::Number(n) => Some(Stored::Num(n)),
        Value::Boolean(b) => Some(Stored::Bool(b)),
        _ => return nil_err(ctx, stack, "bad value type"),
    };
    let host = pdk.scope().host.clone();
    let dict = Dict { host: host.as_ref(), name, capacity, now: now_ms(pdk) };
    match dict.store(op, &key, value, exptime, flags) {
        (Ok(()), forcible) => {
            stack.replace(ctx, (true, Value::Nil, forcible));
            Ok(CallbackReturn::Return)
        }
        (Err(e), forcible) => fail(ctx, stack, e, forcible),
    }
}

/// `ok, err, forcible = dict:set(key, value, exptime?, flags?)`; `value` nil deletes.
fn set<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    store_common(pdk, ctx, exec, stack, Op::Set, "set")
}

/// `dict:safe_set(...)`: as `set`, but `false, "no memory"` instead of evicting.
fn safe_set<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    store_common(pdk, ctx, exec, stack, Op::SafeSet, "safe_set")
}

/// `dict:add(...)`: `false, "exists"` when the key holds an unexpired value.
fn add<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    store_common(pdk, ctx, exec, stack, Op::Add, "add")
}

/// `dict:safe_add(...)`: `add` without evicting.
fn safe_add<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    store_common(pdk, ctx, exec, stack, Op::SafeAdd, "safe_add")
}

/// `dict:replace(...)`: `false, "not found"` when the key is absent or expired.
fn replace<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    store_common(pdk, ctx, exec, stack, Op::Replace, "replace")
}

/// `dict:delete(key)`: `set(key, nil)`.
fn delete<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let (this, key) = (stack.get(0), stack.get(1));
    stack.clear();
    stack.extend([this, key]);
    store_common(pdk, ctx, exec, stack, Op::Set, "delete")
}

/// A number argument as `tonumber` reads it.
fn to_number(value: Value<'_>) -> Option<Value<'static>> {
    match value {
        Value::Integer(i) => Some(Value::Integer(i)),
        Value::Number(n) => Some(Value::Number(n)),
        Value::String(s) => crate::lua::stdlib::base::parse_number(s.as_bytes()).map(Value::Number),
        _ => None,
    }
}

/// `newval, err, forcible = dict:incr(key, value, init?, init_ttl?)`: adds `value` to a
/// number (`nil, "not a number"` otherwise); an absent or expired key is
/// `nil, "not found"`, or with `init` becomes `init + value` expiring after `init_ttl`
/// seconds. `forcible` is returned only with `init`.
fn incr<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let (name, capacity, key) = with_dict(pdk, ctx, &exec, &mut stack)?;
    let key = match key {
        Ok(k) => k,
        Err(e) => return nil_err(ctx, stack, e),
    };
    // LuaJIT's FFI message for a value `tonumber` cannot read.
    let Some(step) = to_number(stack.get(2)) else {
        return raise(ctx, &exec, &format!("cannot convert '{}' to 'double'", stack.get(2).type_name()));
    };
    let init = match stack.get(3) {
        Value::Nil | Value::Boolean(false) => None,
        v => match to_number(v) {
            Some(n) => Some(n),
            None => return raise(ctx, &exec, &format!("bad init arg: number expected, got {}", v.type_name())),
        },
    };
    let init_ttl = match stack.get(4) {
        Value::Nil => 0u64,
        v => {
            let Some(n) = to_number(v).and_then(|n| n.to_number()) else {
                return raise(ctx, &exec, &format!("bad init_ttl arg: number expected, got {}", v.type_name()));
            };
            if n < 0.0 {
                return raise(ctx, &exec, "bad \"init_ttl\" argument");
            }
            if init.is_none() {
                return raise(ctx, &exec, "must provide \"init\" when providing \"init_ttl\"");
            }
            (n * 1000.0) as u64
        }
    };
    let host = pdk.scope().host.clone();
    let dict = Dict { host: host.as_ref(), name, capacity, now: now_ms(pdk) };
    let add = |a: &Stored, b: Value<'_>| -> Stored {
        match (a, b) {
            (Stored::Int(x), Value::Integer(y)) => match x.checked_add(y) {
                Some(sum) => Stored::Int(sum),
                None => Stored::Num(*x as f64 + y as f64),
            },
            (Stored::Int(x), y) => Stored::Num(*x as f64 + y.to_number().unwrap_or(0.0)),
            (Stored::Num(x), y) => Stored::Num(x + y.to_number().unwrap_or(0.0)),
            (other, _) => other.clone(),
        }
    };
    let of_value = |v: Value<'_>| match v {
        Value::Integer(i) => Stored::Int(i),
        other => Stored::Num(other.to_number().unwrap_or(0.0)),
    };
    let ekey = entry_key(&dict.name, &key);
    for _ in 0..CAS_TRIES {
        let (current, cas) = dict.read(&key);
        let (entry, forcible) = match current.filter(|e| !e.expired(dict.now)) {
            Some(e) => {
                if !matches!(e.value, Stored::Int(_) | Stored::Num(_)) {
                    return nil_err(ctx, stack, "not a number");
                }
                (Entry { value: add(&e.value, step), ..e }, false)
            }
            None => {
                let Some(init) = init else { return nil_err(ctx, stack, "not found") };
                let value = add(&of_value(init), step);
                let size = ENTRY_OVERHEAD + key.len() + value.size();
                let forcible = match dict.reserve(&key, size, false) {
                    Ok(f) => f,
                    Err(e) => {
                        stack.replace(ctx, (Value::Nil, lua_string(ctx, e.as_bytes()), false));
                        return Ok(CallbackReturn::Return);
                    }
                };
                let expiry = if init_ttl > 0 { dict.now.saturating_add(init_ttl) } else { 0 };
                (Entry { expiry, flags: 0, value }, forcible)
            }
        };
        match host.set_shared_data(&ekey, Some(&entry.encode()), cas) {
            Ok(()) => {
                let value = entry.value.to_lua(ctx);
                if init.is_some() {
                    stack.replace(ctx, (value, Value::Nil, forcible));
                } else {
                    stack.replace(ctx, value);
                }
                return Ok(CallbackReturn::Return);
            }
            Err(SharedDataError::CasMismatch) => continue,
            Err(SharedDataError::Refused) => return nil_err(ctx, stack, "no memory"),
        }
    }
    nil_err(ctx, stack, "no memory")
}

/// `ttl, err = dict:ttl(key)`: seconds left (0: never expires; negative once expired and
/// not yet removed, as nginx's peek), or `nil, "not found"`.
fn ttl<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let (name, capacity, key) = with_dict(pdk, ctx, &exec, &mut stack)?;
    let key = match key {
        Ok(k) => k,
        Err(e) => return nil_err(ctx, stack, e),
    };
    let host = pdk.scope().host.clone();
    let dict = Dict { host: host.as_ref(), name, capacity, now: now_ms(pdk) };
    match dict.read(&key).0 {
        None => nil_err(ctx, stack, "not found"),
        Some(e) if e.expiry == 0 => {
            stack.replace(ctx, Value::Integer(0));
            Ok(CallbackReturn::Return)
        }
        Some(e) => {
            let left = e.expiry as f64 - dict.now as f64;
            stack.replace(ctx, Value::Number(left / 1000.0));
            Ok(CallbackReturn::Return)
        }
    }
}

/// `ok, err = dict:expire(key, exptime)`: a new TTL in seconds (0: never), or
/// `nil, "not found"`; `exptime` missing raises `bad "exptime" argument`.
fn expire<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let (name, capacity) = dict_of(pdk, ctx, &exec, stack.get(0))?;
    if stack.get(2).is_nil() {
        return raise(ctx, &exec, "bad \"exptime\" argument");
    }
    let exptime = exptime_of(ctx, &exec, stack.get(2), "expire", 2)?;
    let key = match key_of(stack.get(1)) {
        Ok(k) => k,
        Err(e) => return nil_err(ctx, stack, e),
    };
    let host = pdk.scope().host.clone();
    let dict = Dict { host: host.as_ref(), name, capacity, now: now_ms(pdk) };
    for _ in 0..CAS_TRIES {
        let (current, cas) = dict.read(&key);
        let Some(entry) = current else { return nil_err(ctx, stack, "not found") };
        let expiry = if exptime > 0 { dict.now.saturating_add(exptime) } else { 0 };
        let entry = Entry { expiry, ..entry };
        match host.set_shared_data(&entry_key(&dict.name, &key), Some(&entry.encode()), cas) {
            Err(SharedDataError::CasMismatch) => continue,
            _ => break,
        }
    }
    stack.replace(ctx, true);
    Ok(CallbackReturn::Return)
}

/// The entries of the dictionary, oldest first, as the index lists them.
fn entries(dict: &Dict<'_>) -> Vec<(Vec<u8>, Option<Entry>)> {
    let (index, _) = dict.read_index();
    index.keys.into_iter().map(|(k, _)| {
        let entry = dict.read(&k).0;
        (k, entry)
    }).collect()
}

/// `dict:flush_all()`: every entry expires now (nginx marks them expired; `get_stale`
/// still sees them until they are removed).
fn flush_all<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let (name, capacity) = dict_of(pdk, ctx, &exec, stack.get(0))?;
    let host = pdk.scope().host.clone();
    let dict = Dict { host: host.as_ref(), name, capacity, now: now_ms(pdk) };
    for (key, entry) in entries(&dict) {
        if let Some(entry) = entry {
            let entry = Entry { expiry: 1, ..entry };
            let _ = host.set_shared_data(&entry_key(&dict.name, &key), Some(&entry.encode()), 0);
        }
    }
    stack.clear();
    Ok(CallbackReturn::Return)
}

/// lua-nginx-module's "expecting 1 or 2 argument(s), but saw N" and `max_count`.
fn max_count<'gc>(ctx: Context<'gc>, exec: &Execution<'gc, '_>, stack: &Stack<'gc, '_>, method: &str, default: i64) -> Result<i64, Error<'gc>> {
    let n = stack.len();
    if n != 1 && n != 2 {
        return raise(ctx, exec, &format!("expecting 1 or 2 argument(s), but saw {n}"));
    }
    if n == 1 {
        return Ok(default);
    }
    match to_number(stack.get(1)).and_then(|v| v.to_number()) {
        Some(v) => Ok(v as i64),
        None => raise(ctx, exec, &format!("bad argument #1 to '{method}' (number expected, got {})", stack.get(1).type_name())),
    }
}

/// `flushed = dict:flush_expired(max_count?)`: removes expired entries (at most
/// `max_count`, 0 or none: all) and returns how many.
fn flush_expired<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let (name, capacity) = dict_of(pdk, ctx, &exec, stack.get(0))?;
    let max = max_count(ctx, &exec, &stack, "flush_expired", 0)?;
    let host = pdk.scope().host.clone();
    let dict = Dict { host: host.as_ref(), name, capacity, now: now_ms(pdk) };
    let mut flushed = Vec::new();
    for (key, entry) in entries(&dict) {
        if max > 0 && flushed.len() as i64 >= max {
            break;
        }
        if entry.as_ref().is_none_or(|e| e.expired(dict.now)) {
            dict.blank(&key);
            flushed.push(key);
        }
    }
    if !flushed.is_empty() {
        dict.update_index(|index| index.keys.retain(|(k, _)| !flushed.contains(k)));
    }
    stack.replace(ctx, flushed.len() as i64);
    Ok(CallbackReturn::Return)
}

/// `keys = dict:get_keys(max_count?)`: unexpired keys, oldest first, at most `max_count`
/// (default 1024; 0: all).
fn get_keys<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let (name, capacity) = dict_of(pdk, ctx, &exec, stack.get(0))?;
    let max = max_count(ctx, &exec, &stack, "get_keys", 1024)?;
    let host = pdk.scope().host.clone();
    let dict = Dict { host: host.as_ref(), name, capacity, now: now_ms(pdk) };
    let keys = Table::new(&ctx);
    let mut n = 0i64;
    for (key, entry) in entries(&dict) {
        if entry.is_some_and(|e| !e.expired(dict.now)) {
            n += 1;
            keys.set(ctx, n, lua_string(ctx, &key)).ok();
            if max > 0 && n >= max {
                break;
            }
        }
    }
    stack.replace(ctx, keys);
    Ok(CallbackReturn::Return)
}

/// `bytes = dict:capacity()`: the dictionary's configured size.
fn capacity<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let (_, capacity) = dict_of(pdk, ctx, &exec, stack.get(0))?;
    stack.replace(ctx, capacity as i64);
    Ok(CallbackReturn::Return)
}

/// `bytes = dict:free_space()`: the capacity less what the entries count (see the module
/// docs; nginx counts free slab pages, so its figure moves in 4 KiB steps).
fn free_space<'gc>(pdk: &Pdk, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let (name, capacity) = dict_of(pdk, ctx, &exec, stack.get(0))?;
    let host = pdk.scope().host.clone();
    let dict = Dict { host: host.as_ref(), name, capacity, now: now_ms(pdk) };
    let used = dict.read_index().0.used();
    stack.replace(ctx, capacity.saturating_sub(used) as i64);
    Ok(CallbackReturn::Return)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_as_nginx_sizes() {
        assert_eq!(parse_size("512"), Some(512));
        assert_eq!(parse_size("64k"), Some(65536));
        assert_eq!(parse_size("1M"), Some(1 << 20));
        assert_eq!(parse_size("1g"), Some(1 << 30));
        assert_eq!(parse_size("1x"), None);
        assert_eq!(parse_size(""), None);
    }

    #[test]
    fn entries_and_indexes_round_trip() {
        for value in [Stored::Str(b"a:b c".to_vec()), Stored::Int(-3), Stored::Num(0.5), Stored::Bool(true)] {
            let e = Entry { expiry: 12, flags: 7, value };
            assert_eq!(Entry::decode(&e.encode()), Some(e));
        }
        let index = Index { keys: vec![(b"a b\n".to_vec(), 70), (b"x".to_vec(), 73)] };
        assert_eq!(Index::decode(&index.encode()), index);
        assert_eq!(index.used(), 143);
        assert_eq!(entry_key("d", b"a%b c"), "kong_functions.shdict:d:a%25b%20c");
    }
}
