//! Human-readable dumps of Lua values as kikito's `inspect.lua` (3.1) writes them, the
//! formatter behind Kong's `kong.log.inspect`.
//!
//! `inspect({1, 2, a = "x"})` is
//! ```text
//! { 1, 2,
//!   a = "x"
//! }
//! ```
//! Strings are quoted (single quotes when they hold `"` but no `'`) with control
//! characters escaped; keys that are identifiers are written bare, others in brackets,
//! sorted by type (number, boolean, string, table, function, ...) then value; tables
//! seen more than once get an id (`<1>{...}` first, `<table 1>` after); functions and
//! other values are `<function 1>` with a counter per type; metatables are shown as
//! `<metatable> = {...}`.

use std::collections::HashMap;

use piccolo::{Table, Value};

use crate::lua::format;

/// inspect.lua's options: `depth` (tables deeper than this show as `{...}`), `newline`
/// and `indent` (what a new line and one level of indentation are written as).
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// `depth` (default `math.huge`).
    pub depth: f64,
    /// `newline` (default `"\n"`).
    pub newline: String,
    /// `indent` (default two spaces).
    pub indent: String,
}

impl Default for Options {
    fn default() -> Self {
        Options { depth: f64::INFINITY, newline: "\n".into(), indent: "  ".into() }
    }
}

/// `inspect(value)`.
pub fn inspect(value: Value<'_>) -> String {
    inspect_with(value, &Options::default())
}

/// `inspect(value, options)`.
pub fn inspect_with(value: Value<'_>, options: &Options) -> String {
    let mut cycles = HashMap::new();
    count_cycles(value, &mut cycles);
    let mut inspector = Inspector { out: String::new(), level: 0, cycles, ids: HashMap::new(), next_ids: HashMap::new(), options };
    inspector.put_value(value);
    inspector.out
}

/// `require "inspect"`: kikito's inspect.lua 3.1 (the version Kong ships), a callable
/// table: `inspect(value[, options])` and `inspect.inspect(value[, options])` with the
/// options `depth`, `newline` and `indent` (the `process` option, a Lua callback per
/// item, fails with a message saying it is not supported here), `_VERSION`.
pub fn module<'gc>(ctx: piccolo::Context<'gc>) -> Value<'gc> {
    use piccolo::{Callback, CallbackReturn, MetaMethod};
    // Argument `first` is the value, `first + 1` the options.
    fn call<'gc>(ctx: piccolo::Context<'gc>, exec: piccolo::Execution<'gc, '_>, mut stack: piccolo::Stack<'gc, '_>, first: usize) -> Result<CallbackReturn<'gc>, piccolo::Error<'gc>> {
        let mut options = Options::default();
        if let Value::Table(t) = stack.get(first + 1) {
            match t.get(ctx, "depth") {
                Value::Nil => {}
                v => match v.to_number() {
                    Some(n) => options.depth = n,
                    None => return Err(crate::lua::error_at(ctx, &exec, "attempt to compare number with string")),
                },
            }
            if let Value::String(s) = t.get(ctx, "newline") {
                options.newline = s.to_str_lossy().into_owned();
            }
            if let Value::String(s) = t.get(ctx, "indent") {
                options.indent = s.to_str_lossy().into_owned();
            }
            if !t.get(ctx, "process").is_nil() {
                return Err(crate::lua::error_at(ctx, &exec, "inspect: the 'process' option is not supported by this filter"));
            }
        }
        let text = inspect_with(stack.get(first), &options);
        stack.replace(ctx, Value::String(piccolo::String::from_slice(&ctx, text.as_bytes())));
        Ok(CallbackReturn::Return)
    }
    let t = Table::new(&ctx);
    t.set(ctx, "inspect", Callback::from_fn(&ctx, |ctx, exec, stack| call(ctx, exec, stack, 0))).ok();
    t.set(ctx, "_VERSION", "inspect.lua 3.1.0").ok();
    let meta = Table::new(&ctx);
    meta.set(ctx, MetaMethod::Call, Callback::from_fn(&ctx, |ctx, exec, stack| call(ctx, exec, stack, 1))).ok();
    t.set_metatable(&ctx, Some(meta));
    Value::Table(t)
}

/// Table identity (pointer) for counting and ids.
fn table_id(t: Table<'_>) -> usize {
    gc_arena::Gc::as_ptr(t.into_inner()) as *const u8 as usize
}

fn value_id(value: Value<'_>) -> Option<usize> {
    match value {
        Value::Table(t) => Some(table_id(t)),
        Value::Function(piccolo::Function::Closure(c)) => Some(gc_arena::Gc::as_ptr(c.into_inner()) as *const u8 as usize),
        Value::Function(piccolo::Function::Callback(c)) => Some(gc_arena::Gc::as_ptr(c.into_inner()) as *const u8 as usize),
        Value::Thread(t) => Some(gc_arena::Gc::as_ptr(t.into_inner()) as *const u8 as usize),
        Value::UserData(u) => Some(gc_arena::Gc::as_ptr(u.into_inner()) as *const u8 as usize),
        _ => None,
    }
}

fn count_cycles(value: Value<'_>, cycles: &mut HashMap<usize, usize>) {
    let Value::Table(t) = value else { return };
    let count = cycles.entry(table_id(t)).or_insert(0);
    *count += 1;
    if *count > 1 {
        return;
    }
    for (k, v) in t.iter() {
        count_cycles(k, cycles);
        count_cycles(v, cycles);
    }
    if let Some(meta) = t.metatable() {
        count_cycles(Value::Table(meta), cycles);
    }
}

struct Inspector<'o> {
    options: &'o Options,
    out: String,
    level: usize,
    cycles: HashMap<usize, usize>,
    ids: HashMap<usize, usize>,
    next_ids: HashMap<&'static str, usize>,
}

impl Inspector<'_> {
    fn id_of(&mut self, value: Value<'_>) -> usize {
        let key = value_id(value).unwrap_or(0);
        if let Some(id) = self.ids.get(&key) {
            return *id;
        }
        let next = self.next_ids.entry(value.type_name()).or_insert(0);
        *next += 1;
        let id = *next;
        self.ids.insert(key, id);
        id
    }

    fn tabify(&mut self) {
        self.out.push_str(&self.options.newline);
        for _ in 0..self.level {
            self.out.push_str(&self.options.indent);
        }
    }

    fn put_value(&mut self, value: Value<'_>) {
        match value {
            Value::String(s) => self.out.push_str(&smart_quote(&escape(s.as_bytes()))),
            Value::Nil | Value::Boolean(_) | Value::Integer(_) | Value::Number(_) => self.out.push_str(&format::display(value)),
            Value::Table(t) => self.put_table(t),
            other => {
                let id = self.id_of(other);
                self.out.push_str(&format!("<{} {id}>", other.type_name()));
            }
        }
    }

    fn put_table(&mut self, t: Table<'_>) {
        let key = table_id(t);
        let repeated = self.cycles.get(&key).copied().unwrap_or(0) > 1;
        if repeated && self.ids.contains_key(&key) {
            let id = self.id_of(Value::Table(t));
            self.out.push_str(&format!("<table {id}>"));
            return;
        }
        if self.level as f64 >= self.options.depth {
            self.out.push_str("{...}");
            return;
        }
        if repeated {
            let id = self.id_of(Value::Table(t));
            self.out.push_str(&format!("<{id}>"));
        }
        let mut sequence = 0i64;
        while !t.get_value(Value::Integer(sequence + 1)).is_nil() {
            sequence += 1;
        }
        let mut keys: Vec<Value<'_>> = t
            .iter()
            .map(|(k, _)| k)
            .filter(|k| !is_sequence_key(*k, sequence))
            .collect();
        keys.sort_by(|a, b| compare_keys(*a, *b));
        let meta = t.metatable();

        self.out.push('{');
        self.level += 1;
        let mut count = 0;
        for i in 1..=sequence {
            if count > 0 {
                self.out.push(',');
            }
            self.out.push(' ');
            self.put_value(t.get_value(Value::Integer(i)));
            count += 1;
        }
        for k in &keys {
            if count > 0 {
                self.out.push(',');
            }
            self.tabify();
            self.put_key(*k);
            self.out.push_str(" = ");
            self.put_value(t.get_value(*k));
            count += 1;
        }
        if let Some(meta) = meta {
            if count > 0 {
                self.out.push(',');
            }
            self.tabify();
            self.out.push_str("<metatable> = ");
            self.put_value(Value::Table(meta));
        }
        self.level -= 1;
        if !keys.is_empty() || meta.is_some() {
            self.tabify();
        } else if sequence > 0 {
            self.out.push(' ');
        }
        self.out.push('}');
    }

    fn put_key(&mut self, k: Value<'_>) {
        if let Value::String(s) = k {
            if is_identifier(s.as_bytes()) {
                self.out.push_str(&s.to_str_lossy());
                return;
            }
        }
        self.out.push('[');
        self.put_value(k);
        self.out.push(']');
    }
}

fn is_sequence_key(k: Value<'_>, sequence: i64) -> bool {
    match k {
        Value::Integer(i) => 1 <= i && i <= sequence,
        Value::Number(n) => n.fract() == 0.0 && 1.0 <= n && n <= sequence as f64,
        _ => false,
    }
}

fn is_identifier(bytes: &[u8]) -> bool {
    match bytes.split_first() {
        Some((first, rest)) => {
            (first.is_ascii_alphabetic() || *first == b'_') && rest.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_')
        }
        None => false,
    }
}

fn type_order(v: Value<'_>) -> u8 {
    match v {
        Value::Integer(_) | Value::Number(_) => 1,
        Value::Boolean(_) => 2,
        Value::String(_) => 3,
        Value::Table(_) => 4,
        Value::Function(_) => 5,
        Value::UserData(_) => 6,
        Value::Thread(_) => 7,
        Value::Nil => 8,
    }
}

fn compare_keys(a: Value<'_>, b: Value<'_>) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    match (a, b) {
        (Value::String(x), Value::String(y)) => x.as_bytes().cmp(y.as_bytes()),
        (Value::Integer(_) | Value::Number(_), Value::Integer(_) | Value::Number(_)) => {
            let (x, y) = (a.to_number().unwrap_or(0.0), b.to_number().unwrap_or(0.0));
            x.partial_cmp(&y).unwrap_or(Ordering::Equal)
        }
        _ => type_order(a).cmp(&type_order(b)),
    }
}

/// inspect.lua's `escape`: `\` doubled, control characters as `\n`-style or decimal
/// escapes (three digits when a digit follows).
fn escape(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    for (i, &b) in bytes.iter().enumerate() {
        let control = b < 32 || b == 127;
        if b == b'\\' {
            out.extend_from_slice(b"\\\\");
        } else if control && bytes.get(i + 1).is_some_and(u8::is_ascii_digit) {
            if b == 127 {
                out.push(127);
            } else {
                out.extend_from_slice(format!("\\{b:03}").as_bytes());
            }
        } else if control {
            let short: &[u8] = match b {
                7 => b"\\a",
                8 => b"\\b",
                12 => b"\\f",
                b'\n' => b"\\n",
                b'\r' => b"\\r",
                b'\t' => b"\\t",
                11 => b"\\v",
                127 => b"\\127",
                _ => {
                    out.extend_from_slice(format!("\\{b}").as_bytes());
                    continue;
                }
            };
            out.extend_from_slice(short);
        } else {
            out.push(b);
        }
    }
    out
}

fn smart_quote(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    if text.contains('"') && !text.contains('\'') {
        return format!("'{text}'");
    }
    format!("\"{}\"", text.replace('"', "\\\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_quoted_and_escaped_as_inspect_lua() {
        assert_eq!(smart_quote(&escape(b"hi")), "\"hi\"");
        assert_eq!(smart_quote(&escape(b"say \"x\"")), "'say \"x\"'");
        assert_eq!(smart_quote(&escape(b"a\"b'c")), "\"a\\\"b'c\"");
        assert_eq!(smart_quote(&escape(b"l1\nl2\\")), "\"l1\\nl2\\\\\"");
        assert_eq!(smart_quote(&escape(b"\x01" )), "\"\\1\"");
        assert_eq!(smart_quote(&escape(b"\x011")), "\"\\0011\"");
    }
}
