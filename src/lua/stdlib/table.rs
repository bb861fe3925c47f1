//! Lua 5.1's `table` library plus LuaJIT/Kong's extensions (`new clear clone nkeys
//! isarray isempty foreach foreachi move pack`). `sort` is Lua 5.1's own quicksort
//! (`auxsort`), so results, including the order of equal elements and the "invalid order
//! function for sorting" error, match LuaJIT's.

use gc_arena::Collect;
use piccolo::{
    BoxSequence, Callback, CallbackReturn, Context, Error, Execution, Function, Sequence, SequencePoll, Stack, Table,
    Value,
};

use super::args::{arg_error, check_integer, check_table, opt_integer, to_number};
use crate::lua::{error_at, format};

/// Builds the `table` table.
pub fn table<'gc>(ctx: Context<'gc>) -> Table<'gc> {
    let t = Table::new(&ctx);
    let set = |name: &'static str, f: Callback<'gc>| {
        t.set(ctx, name, f).ok();
    };
    set("concat", Callback::from_fn(&ctx, concat));
    set("insert", Callback::from_fn(&ctx, insert));
    set("remove", Callback::from_fn(&ctx, remove));
    set("sort", Callback::from_fn(&ctx, sort));
    set("unpack", Callback::from_fn(&ctx, super::base::unpack));
    set("pack", Callback::from_fn(&ctx, pack));
    set("maxn", Callback::from_fn(&ctx, maxn));
    set("getn", Callback::from_fn(&ctx, getn));
    set("move", Callback::from_fn(&ctx, table_move));
    set("new", Callback::from_fn(&ctx, new));
    set("clear", Callback::from_fn(&ctx, clear));
    set("clone", Callback::from_fn(&ctx, clone));
    set("nkeys", Callback::from_fn(&ctx, nkeys));
    set("isarray", Callback::from_fn(&ctx, isarray));
    set("isempty", Callback::from_fn(&ctx, isempty));
    set("foreach", Callback::from_fn(&ctx, foreach));
    set("foreachi", Callback::from_fn(&ctx, foreachi));
    t
}

fn concat<'gc>(ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let t = check_table(ctx, &exec, &stack, 0, "concat")?;
    let sep = if stack.get(1).is_nil() { Vec::new() } else { super::args::check_bytes(ctx, &exec, &stack, 1, "concat")? };
    let i = opt_integer(ctx, &exec, &stack, 2, "concat", 1)?;
    let j = if stack.get(3).is_nil() { t.length() } else { check_integer(ctx, &exec, &stack, 3, "concat")? };
    let mut out = Vec::new();
    let mut k = i;
    while k <= j {
        match t.get(ctx, k) {
            Value::String(s) => out.extend_from_slice(s.as_bytes()),
            v @ (Value::Integer(_) | Value::Number(_)) => out.extend_from_slice(format::number(v).as_bytes()),
            other => {
                return Err(error_at(ctx, &exec, &format!("invalid value ({}) at index {k} in table for 'concat'", other.type_name())));
            }
        }
        if k < j {
            out.extend_from_slice(&sep);
        }
        crate::lua::limits::check_string_size(ctx, &exec, out.len())?;
        k += 1;
    }
    stack.replace(ctx, Value::String(piccolo::String::from_slice(&ctx, &out)));
    Ok(CallbackReturn::Return)
}

/// `table.insert(t, [pos,] v)` as LuaJIT's: no bounds check on `pos`.
fn insert<'gc>(ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let t = check_table(ctx, &exec, &stack, 0, "insert")?;
    let mut i = t.length() + 1;
    match stack.len() {
        2 => {}
        3 => {
            let pos = check_integer(ctx, &exec, &stack, 1, "insert")?;
            while i > pos {
                let v = t.get(ctx, i - 1);
                t.set(ctx, i, v)?;
                i -= 1;
            }
            i = pos;
        }
        _ => return Err(error_at(ctx, &exec, "wrong number of arguments to 'insert'")),
    }
    let value = stack.get(stack.len() - 1);
    t.set(ctx, i, value)?;
    stack.clear();
    Ok(CallbackReturn::Return)
}

/// `table.remove(t [, pos])` as LuaJIT's: nothing happens when `pos` is past the end.
fn remove<'gc>(ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let t = check_table(ctx, &exec, &stack, 0, "remove")?;
    let len = t.length();
    if stack.get(1).is_nil() {
        if len == 0 {
            stack.clear();
            return Ok(CallbackReturn::Return);
        }
        let old = t.get(ctx, len);
        t.set(ctx, len, Value::Nil)?;
        stack.replace(ctx, old);
        return Ok(CallbackReturn::Return);
    }
    let pos = check_integer(ctx, &exec, &stack, 1, "remove")?;
    if len < pos {
        stack.clear();
        return Ok(CallbackReturn::Return);
    }
    let old = t.get(ctx, pos);
    for i in pos + 1..=len {
        let v = t.get(ctx, i);
        t.set(ctx, i - 1, v)?;
    }
    t.set(ctx, len, Value::Nil)?;
    stack.replace(ctx, old);
    Ok(CallbackReturn::Return)
}

fn pack<'gc>(ctx: Context<'gc>, _exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let t = Table::new(&ctx);
    let n = stack.len();
    for i in 0..n {
        t.set(ctx, i as i64 + 1, stack.get(i))?;
    }
    t.set(ctx, "n", n as i64)?;
    stack.replace(ctx, t);
    Ok(CallbackReturn::Return)
}

fn maxn<'gc>(ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let t = check_table(ctx, &exec, &stack, 0, "maxn")?;
    let mut max = 0f64;
    for (k, _) in t.iter() {
        if let Some(n) = match k {
            Value::Integer(i) => Some(i as f64),
            Value::Number(n) => Some(n),
            _ => None,
        } {
            max = max.max(n);
        }
    }
    stack.replace(ctx, super::args::number_value(max));
    Ok(CallbackReturn::Return)
}

fn getn<'gc>(ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let t = check_table(ctx, &exec, &stack, 0, "getn")?;
    stack.replace(ctx, t.length());
    Ok(CallbackReturn::Return)
}

/// `table.move(a1, f, e, t [, a2])` (Lua 5.3, in LuaJIT 2.1).
fn table_move<'gc>(ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let a1 = check_table(ctx, &exec, &stack, 0, "move")?;
    let f = check_integer(ctx, &exec, &stack, 1, "move")?;
    let e = check_integer(ctx, &exec, &stack, 2, "move")?;
    let t = check_integer(ctx, &exec, &stack, 3, "move")?;
    let a2 = if stack.get(4).is_nil() { a1 } else { check_table(ctx, &exec, &stack, 4, "move")? };
    if e >= f {
        if t > e || t <= f || a1 != a2 {
            for i in 0..=(e - f) {
                let v = a1.get(ctx, f + i);
                a2.set(ctx, t + i, v)?;
            }
        } else {
            for i in (0..=(e - f)).rev() {
                let v = a1.get(ctx, f + i);
                a2.set(ctx, t + i, v)?;
            }
        }
    }
    stack.replace(ctx, a2);
    Ok(CallbackReturn::Return)
}

fn new<'gc>(ctx: Context<'gc>, _exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    stack.replace(ctx, Table::new(&ctx));
    Ok(CallbackReturn::Return)
}

fn clear<'gc>(ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let t = check_table(ctx, &exec, &stack, 0, "clear")?;
    let keys: Vec<Value<'gc>> = t.iter().map(|(k, _)| k).collect();
    for k in keys {
        t.set_value(&ctx, k, Value::Nil)?;
    }
    stack.clear();
    Ok(CallbackReturn::Return)
}

fn clone<'gc>(ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let t = check_table(ctx, &exec, &stack, 0, "clone")?;
    let copy = Table::new(&ctx);
    for (k, v) in t.iter() {
        copy.set_value(&ctx, k, v)?;
    }
    stack.replace(ctx, copy);
    Ok(CallbackReturn::Return)
}

fn nkeys<'gc>(ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let t = check_table(ctx, &exec, &stack, 0, "nkeys")?;
    stack.replace(ctx, t.iter().count() as i64);
    Ok(CallbackReturn::Return)
}

fn isarray<'gc>(ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let t = check_table(ctx, &exec, &stack, 0, "isarray")?;
    let count = t.iter().count() as i64;
    let all_positive_ints = t.iter().all(|(k, _)| matches!(to_number(k), Some(n) if n >= 1.0 && n.fract() == 0.0 && !matches!(k, Value::String(_))));
    let max = t.iter().filter_map(|(k, _)| to_number(k)).fold(0.0f64, f64::max) as i64;
    stack.replace(ctx, all_positive_ints && max == count);
    Ok(CallbackReturn::Return)
}

fn isempty<'gc>(ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let t = check_table(ctx, &exec, &stack, 0, "isempty")?;
    stack.replace(ctx, t.iter().next().is_none());
    Ok(CallbackReturn::Return)
}

/// `foreach`/`foreachi`: calls `f(k, v)` per entry; a non-nil result stops and is returned.
#[derive(Collect)]
#[collect(no_drop)]
struct ForEach<'gc> {
    function: Function<'gc>,
    entries: Vec<(Value<'gc>, Value<'gc>)>,
    next: usize,
}

impl<'gc> Sequence<'gc> for ForEach<'gc> {
    fn poll(&mut self, ctx: Context<'gc>, _exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<SequencePoll<'gc>, Error<'gc>> {
        if self.next > 0 && !stack.get(0).is_nil() {
            let result = stack.get(0);
            stack.replace(ctx, result);
            return Ok(SequencePoll::Return);
        }
        match self.entries.get(self.next) {
            Some(&(k, v)) => {
                self.next += 1;
                stack.replace(ctx, (k, v));
                Ok(SequencePoll::Call { function: self.function, is_tail: false })
            }
            None => {
                stack.clear();
                Ok(SequencePoll::Return)
            }
        }
    }
}

fn foreach_aux<'gc>(ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>, name: &str, array: bool) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let t = check_table(ctx, &exec, &stack, 0, name)?;
    let Value::Function(function) = stack.get(1) else {
        return Err(arg_error(ctx, &exec, 1, name, &format!("function expected, got {}", super::args::type_of(&stack, 1))));
    };
    let entries: Vec<(Value<'gc>, Value<'gc>)> = if array {
        (1..=t.length()).map(|i| (Value::Integer(i), t.get(ctx, i))).collect()
    } else {
        t.iter().collect()
    };
    stack.clear();
    Ok(CallbackReturn::Sequence(BoxSequence::new(&ctx, ForEach { function, entries, next: 0 })))
}

fn foreach<'gc>(ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    foreach_aux(ctx, exec, stack, "foreach", false)
}

fn foreachi<'gc>(ctx: Context<'gc>, exec: Execution<'gc, '_>, stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    foreach_aux(ctx, exec, stack, "foreachi", true)
}

// ---- sort: Lua 5.1's auxsort as a resumable state machine ----

/// Where the quicksort is; each state that compares may pause for a Lua comparator.
#[derive(Clone, Copy)]
enum At {
    Start,
    AfterLU,
    AfterIL,
    AfterUI,
    Partition,
    ScanI,
    AfterScanI,
    ScanJ,
    AfterScanJ,
    Finish,
}

#[derive(Collect)]
#[collect(no_drop)]
struct Sort<'gc> {
    table: Table<'gc>,
    /// `a[1..=n]` at `items[0..n]`; `items[n]` (index `n + 1`) reads as nil, as in C.
    items: Vec<Value<'gc>>,
    comparator: Option<Function<'gc>>,
    pivot: Value<'gc>,
    #[collect(require_static)]
    at: At,
    #[collect(require_static)]
    stack: Vec<(i64, i64)>,
    l: i64,
    u: i64,
    i: i64,
    j: i64,
}

enum Compare<'gc> {
    Now(bool),
    /// Call this function (the comparator, or the operands' `__lt`) on these values.
    Call(Function<'gc>, Value<'gc>, Value<'gc>),
}

impl<'gc> Sort<'gc> {
    fn get(&self, k: i64) -> Value<'gc> {
        if k >= 1 { self.items.get((k - 1) as usize).copied().unwrap_or(Value::Nil) } else { Value::Nil }
    }

    fn swap(&mut self, a: i64, b: i64) {
        if a >= 1 && b >= 1 && (a as usize) <= self.items.len() && (b as usize) <= self.items.len() {
            self.items.swap((a - 1) as usize, (b - 1) as usize);
        }
    }

    fn compare(&self, ctx: Context<'gc>, exec: &Execution<'gc, '_>, a: Value<'gc>, b: Value<'gc>) -> Result<Compare<'gc>, Error<'gc>> {
        if let Some(comparator) = self.comparator {
            return Ok(Compare::Call(comparator, a, b));
        }
        match (a, b) {
            (Value::String(x), Value::String(y)) => Ok(Compare::Now(x.as_bytes() < y.as_bytes())),
            _ => match (a.to_number(), b.to_number(), a, b) {
                (Some(x), Some(y), Value::Integer(_) | Value::Number(_), Value::Integer(_) | Value::Number(_)) => Ok(Compare::Now(x < y)),
                // `lua_lessthan`: the operands' shared `__lt` (piccolo patch 9).
                _ => match piccolo::meta_ops::less_than(ctx, a, b) {
                    Ok(Some(order)) => Ok(Compare::Call(order.call.function, a, b)),
                    _ => Err(error_at(ctx, exec, &piccolo::thread::names::compare_message(a.type_name(), b.type_name()))),
                },
            },
        }
    }

    /// Runs until sorted (`None`) or a call to compare is needed (`Some((f, a, b))`: the
    /// comparator, or the operands' `__lt`); `result` is the answer to the previous call.
    fn run(&mut self, ctx: Context<'gc>, exec: &Execution<'gc, '_>, mut result: Option<bool>) -> Result<Option<(Function<'gc>, Value<'gc>, Value<'gc>)>, Error<'gc>> {
        macro_rules! cmp {
            ($a:expr, $b:expr, $next:expr) => {{
                let (a, b) = ($a, $b);
                self.at = $next;
                match self.compare(ctx, exec, a, b)? {
                    Compare::Now(r) => {
                        result = Some(r);
                        continue;
                    }
                    Compare::Call(f, a, b) => return Ok(Some((f, a, b))),
                }
            }};
        }
        loop {
            let answer = result.take().unwrap_or(false);
            match self.at {
                At::Start => {
                    if self.l >= self.u {
                        match self.stack.pop() {
                            Some((l, u)) => {
                                self.l = l;
                                self.u = u;
                                continue;
                            }
                            None => return Ok(None),
                        }
                    }
                    cmp!(self.get(self.u), self.get(self.l), At::AfterLU)
                }
                At::AfterLU => {
                    if answer {
                        self.swap(self.l, self.u);
                    }
                    if self.u - self.l == 1 {
                        self.l = self.u; // done with this range
                        self.at = At::Start;
                        continue;
                    }
                    self.i = (self.l + self.u) / 2;
                    cmp!(self.get(self.i), self.get(self.l), At::AfterIL)
                }
                At::AfterIL => {
                    if answer {
                        self.swap(self.i, self.l);
                        self.at = At::Partition;
                        continue;
                    }
                    cmp!(self.get(self.u), self.get(self.i), At::AfterUI)
                }
                At::AfterUI => {
                    if answer {
                        self.swap(self.i, self.u);
                    }
                    self.at = At::Partition;
                }
                At::Partition => {
                    if self.u - self.l == 2 {
                        self.l = self.u;
                        self.at = At::Start;
                        continue;
                    }
                    self.pivot = self.get(self.i);
                    self.swap(self.i, self.u - 1);
                    self.i = self.l;
                    self.j = self.u - 1;
                    self.at = At::ScanI;
                }
                At::ScanI => {
                    self.i += 1;
                    cmp!(self.get(self.i), self.pivot, At::AfterScanI)
                }
                At::AfterScanI => {
                    if answer {
                        if self.i > self.u {
                            return Err(error_at(ctx, exec, "invalid order function for sorting"));
                        }
                        self.at = At::ScanI;
                    } else {
                        self.at = At::ScanJ;
                    }
                }
                At::ScanJ => {
                    self.j -= 1;
                    cmp!(self.pivot, self.get(self.j), At::AfterScanJ)
                }
                At::AfterScanJ => {
                    if answer {
                        if self.j < self.l {
                            return Err(error_at(ctx, exec, "invalid order function for sorting"));
                        }
                        self.at = At::ScanJ;
                    } else if self.j < self.i {
                        self.at = At::Finish;
                    } else {
                        self.swap(self.i, self.j);
                        self.at = At::ScanI;
                    }
                }
                At::Finish => {
                    self.swap(self.u - 1, self.i);
                    let (l, u, i) = (self.l, self.u, self.i);
                    // Sort the smaller half first, then the larger one.
                    let (small, large) = if i - l < u - i { ((l, i - 1), (i + 1, u)) } else { ((i + 1, u), (l, i - 1)) };
                    self.stack.push(large);
                    self.l = small.0;
                    self.u = small.1;
                    self.at = At::Start;
                }
            }
        }
    }

    fn write_back(&self, ctx: Context<'gc>) -> Result<(), Error<'gc>> {
        for (k, v) in self.items.iter().enumerate() {
            self.table.set(ctx, k as i64 + 1, *v)?;
        }
        Ok(())
    }
}

impl<'gc> Sequence<'gc> for Sort<'gc> {
    fn poll(&mut self, ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<SequencePoll<'gc>, Error<'gc>> {
        let answer = stack.get(0).to_bool();
        match self.run(ctx, &exec, Some(answer))? {
            None => {
                self.write_back(ctx)?;
                stack.clear();
                Ok(SequencePoll::Return)
            }
            Some((function, a, b)) => {
                stack.replace(ctx, (a, b));
                Ok(SequencePoll::Call { function, is_tail: false })
            }
        }
    }
}

fn sort<'gc>(ctx: Context<'gc>, exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let table = check_table(ctx, &exec, &stack, 0, "sort")?;
    let comparator = match stack.get(1) {
        Value::Nil => None,
        Value::Function(f) => Some(f),
        _ => return Err(arg_error(ctx, &exec, 1, "sort", &format!("function expected, got {}", super::args::type_of(&stack, 1)))),
    };
    let n = table.length();
    let items: Vec<Value<'gc>> = (1..=n).map(|k| table.get(ctx, k)).collect();
    let mut sort = Sort { table, items, comparator, pivot: Value::Nil, at: At::Start, stack: Vec::new(), l: 1, u: n, i: 0, j: 0 };
    match sort.run(ctx, &exec, None)? {
        None => {
            sort.write_back(ctx)?;
            stack.clear();
            Ok(CallbackReturn::Return)
        }
        Some((function, a, b)) => {
            stack.replace(ctx, (a, b));
            Ok(CallbackReturn::Call { function, then: Some(BoxSequence::new(&ctx, sort)) })
        }
    }
}
