use gc_arena::Collect;

use crate::{
    Callback, CallbackReturn, Context, Function, IntoValue, RuntimeError, Table, TypeError,
    UserData, Value,
};

#[derive(Debug, Copy, Clone, Eq, PartialEq, Hash, Collect)]
#[collect(require_static)]
pub enum MetaMethod {
    Len,
    Index,
    NewIndex,
    Call,
    Pairs,
    ToString,
    Eq,
    // kong-functions patch 9: the order metamethods.
    Lt,
    Le,
    // kong-functions patch 14: the arithmetic metamethods of Lua 5.1.
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
    Unm,
}

impl MetaMethod {
    pub const fn name(self) -> &'static str {
        match self {
            MetaMethod::Len => "__len",
            MetaMethod::Index => "__index",
            MetaMethod::NewIndex => "__newindex",
            MetaMethod::Call => "__call",
            MetaMethod::Pairs => "__pairs",
            MetaMethod::ToString => "__tostring",
            MetaMethod::Eq => "__eq",
            MetaMethod::Lt => "__lt",
            MetaMethod::Le => "__le",
            MetaMethod::Add => "__add",
            MetaMethod::Sub => "__sub",
            MetaMethod::Mul => "__mul",
            MetaMethod::Div => "__div",
            MetaMethod::Mod => "__mod",
            MetaMethod::Pow => "__pow",
            MetaMethod::Unm => "__unm",
        }
    }
}

impl<'gc> IntoValue<'gc> for MetaMethod {
    fn into_value(self, ctx: Context<'gc>) -> Value<'gc> {
        self.name().into_value(ctx)
    }
}

#[derive(Debug, Copy, Clone, Collect)]
#[collect(no_drop)]
pub struct MetaCall<'gc, const N: usize> {
    pub function: Function<'gc>,
    pub args: [Value<'gc>; N],
}

#[derive(Debug, Copy, Clone, Collect)]
#[collect(no_drop)]
pub enum MetaResult<'gc, const N: usize> {
    Value(Value<'gc>),
    Call(MetaCall<'gc, N>),
}

impl<'gc, const N: usize> From<Value<'gc>> for MetaResult<'gc, N> {
    fn from(value: Value<'gc>) -> Self {
        Self::Value(value)
    }
}

impl<'gc, const N: usize> From<MetaCall<'gc, N>> for MetaResult<'gc, N> {
    fn from(call: MetaCall<'gc, N>) -> Self {
        MetaResult::Call(call)
    }
}

/// kong-functions patch: follows a chain of `__index` *tables* itself, as Lua's
/// `luaV_gettable` does (up to its `MAXTAGLOOP`, 100). 0.3.3 answered every `__index` table
/// with a freshly allocated callback that the executor then had to call, so reading a field
/// through a proxy table (`setmetatable({}, { __index = t })`, every sandboxed module) cost
/// an allocation and a trip through the executor. An `__index` function, userdata, or a
/// chain longer than that is handed to 0.3.3's code below (a loop of `__index` tables
/// then goes on one link per callback, each costing fuel, until the fuel runs out).
pub fn index<'gc>(
    ctx: Context<'gc>,
    table: Value<'gc>,
    key: Value<'gc>,
) -> Result<MetaResult<'gc, 2>, TypeError> {
    const MAX_TABLE_CHAIN: usize = 100;
    let mut current = table;
    // kong-functions patch 13: a string is indexed through the strings' shared metatable
    // (`Context::string_metatable`), as `luaV_gettable` does for any non-table value: an
    // `__index` table is followed below; no metatable or no `__index` is the type error.
    if let Value::String(_) = table {
        match ctx.string_metatable().map(|mt| mt.get(ctx, MetaMethod::Index)) {
            Some(next @ Value::Table(_)) => current = next,
            Some(Value::Nil) | None => {
                return Err(TypeError {
                    expected: "table",
                    found: table.type_name(),
                })
            }
            Some(function) => {
                return Ok(MetaResult::Call(MetaCall {
                    function: call(ctx, function).map_err(|_| TypeError {
                        expected: "table",
                        found: table.type_name(),
                    })?,
                    args: [table, key],
                }))
            }
        }
    }
    for _ in 0..MAX_TABLE_CHAIN {
        let Value::Table(t) = current else { break };
        let v = t.get(ctx, key);
        if !v.is_nil() {
            return Ok(MetaResult::Value(v));
        }
        let Some(mt) = t.metatable() else {
            return Ok(MetaResult::Value(Value::Nil));
        };
        match mt.get(ctx, MetaMethod::Index) {
            Value::Nil => return Ok(MetaResult::Value(Value::Nil)),
            next @ Value::Table(_) => current = next,
            _ => break,
        }
    }
    index_step(ctx, current, key)
}

fn index_step<'gc>(
    ctx: Context<'gc>,
    table: Value<'gc>,
    key: Value<'gc>,
) -> Result<MetaResult<'gc, 2>, TypeError> {
    let idx = match table {
        Value::Table(table) => {
            let v = table.get(ctx, key);
            if !v.is_nil() {
                return Ok(MetaResult::Value(v));
            }

            let idx = if let Some(mt) = table.metatable() {
                mt.get(ctx, MetaMethod::Index)
            } else {
                Value::Nil
            };

            if idx.is_nil() {
                return Ok(MetaResult::Value(Value::Nil));
            }

            idx
        }
        Value::UserData(u) if u.metatable().is_some() => {
            let idx = if let Some(mt) = u.metatable() {
                mt.get(ctx, MetaMethod::Index)
            } else {
                Value::Nil
            };

            if idx.is_nil() {
                return Err(TypeError {
                    expected: "table",
                    found: table.type_name(),
                });
            }

            idx
        }
        _ => {
            return Err(TypeError {
                expected: "table",
                found: table.type_name(),
            })
        }
    };

    Ok(MetaResult::Call(match idx {
        table @ (Value::Table(_) | Value::UserData(_)) => MetaCall {
            function: Callback::from_fn(&ctx, |ctx, _, mut stack| {
                let table = stack.get(0);
                let key = stack.get(1);
                stack.clear();
                // kong-functions patch: one link per callback past the first 100, as in
                // 0.3.3, so that an `__index` loop still spends fuel at 0.3.3's rate and
                // meets the instruction limit as soon as it did.
                match index_step(ctx, table, key)? {
                    MetaResult::Value(v) => {
                        stack.push_back(v);
                        Ok(CallbackReturn::Return.into())
                    }
                    MetaResult::Call(call) => {
                        stack.extend(call.args);
                        Ok(CallbackReturn::Call {
                            function: call.function,
                            then: None,
                        }
                        .into())
                    }
                }
            })
            .into(),
            args: [table.into(), key],
        },
        _ => MetaCall {
            function: call(ctx, idx)?,
            args: [table, key],
        },
    }))
}

pub fn new_index<'gc>(
    ctx: Context<'gc>,
    table: Value<'gc>,
    key: Value<'gc>,
    value: Value<'gc>,
) -> Result<Option<MetaCall<'gc, 3>>, RuntimeError> {
    let idx = match table {
        Value::Table(table) => {
            let v = table.get(ctx, key);
            if !v.is_nil() {
                // If the value is present in the table, then we do not invoke the metamethod.
                table.set_value(&ctx, key, value)?;
                return Ok(None);
            }

            let idx = if let Some(mt) = table.metatable() {
                mt.get(ctx, MetaMethod::NewIndex)
            } else {
                Value::Nil
            };

            if idx.is_nil() {
                // If we do not have a __newindex metamethod, then just set the table value
                // directly.
                table.set_value(&ctx, key, value)?;
                return Ok(None);
            }

            idx
        }
        Value::UserData(u) if u.metatable().is_some() => {
            let idx = if let Some(mt) = u.metatable() {
                mt.get(ctx, MetaMethod::NewIndex)
            } else {
                Value::Nil
            };

            if idx.is_nil() {
                return Err(TypeError {
                    expected: "table",
                    found: table.type_name(),
                }
                .into());
            }

            idx
        }
        _ => {
            return Err(TypeError {
                expected: "table",
                found: table.type_name(),
            }
            .into())
        }
    };

    Ok(Some(match idx {
        table @ (Value::Table(_) | Value::UserData(_)) => MetaCall {
            function: Callback::from_fn(&ctx, |ctx, _, mut stack| {
                let (table, key, value): (Value, Value, Value) = stack.consume(ctx)?;
                if let Some(call) = new_index(ctx, table, key, value)? {
                    stack.extend(call.args);
                    Ok(CallbackReturn::Call {
                        function: call.function,
                        then: None,
                    }
                    .into())
                } else {
                    Ok(CallbackReturn::Return)
                }
            })
            .into(),
            args: [table.into(), key, value],
        },
        _ => MetaCall {
            function: call(ctx, idx)?,
            args: [table, key, value],
        },
    }))
}

pub fn call<'gc>(ctx: Context<'gc>, v: Value<'gc>) -> Result<Function<'gc>, TypeError> {
    let metatable = match v {
        Value::Function(f) => return Ok(f),
        Value::Table(t) => t.metatable(),
        Value::UserData(ud) => ud.metatable(),
        _ => None,
    }
    .ok_or(TypeError {
        expected: "function",
        found: v.type_name(),
    })?;

    match metatable.get(ctx, MetaMethod::Call) {
        f @ (Value::Function(_) | Value::Table(_) | Value::UserData(_)) => Ok(
            Callback::from_fn_with(&ctx, (v, f), |&(v, f), ctx, _, mut stack| {
                stack.push_front(v);
                Ok(CallbackReturn::Call {
                    function: call(ctx, f)?,
                    then: None,
                }
                .into())
            })
            .into(),
        ),
        f => Err(TypeError {
            expected: "function",
            found: f.type_name(),
        }),
    }
}

pub fn len<'gc>(ctx: Context<'gc>, v: Value<'gc>) -> Result<MetaResult<'gc, 1>, TypeError> {
    if let Some(metatable) = match v {
        Value::Table(t) => t.metatable(),
        Value::UserData(u) => u.metatable(),
        _ => None,
    } {
        let len = metatable.get(ctx, MetaMethod::Len);
        if !len.is_nil() {
            return Ok(MetaResult::Call(MetaCall {
                function: call(ctx, len)?,
                args: [v],
            }));
        }
    }

    match v {
        Value::String(s) => Ok(MetaResult::Value(s.len().into())),
        Value::Table(t) => Ok(MetaResult::Value(t.length().into())),
        f => Err(TypeError {
            expected: "string or table",
            found: f.type_name(),
        }),
    }
}

pub fn tostring<'gc>(ctx: Context<'gc>, v: Value<'gc>) -> Result<MetaResult<'gc, 1>, TypeError> {
    if let Some(metatable) = match v {
        Value::Table(t) => t.metatable(),
        Value::UserData(u) => u.metatable(),
        _ => None,
    } {
        let tostring = metatable.get(ctx, MetaMethod::ToString);
        if !tostring.is_nil() {
            return Ok(MetaResult::Call(MetaCall {
                function: call(ctx, tostring)?,
                args: [v],
            }));
        }
    }

    Ok(match v {
        v @ Value::String(_) => MetaResult::Value(v),
        v => MetaResult::Value(ctx.intern(v.to_string().as_bytes()).into()),
    })
}

pub fn equal<'gc>(
    ctx: Context<'gc>,
    lhs: Value<'gc>,
    rhs: Value<'gc>,
) -> Result<MetaResult<'gc, 2>, TypeError> {
    Ok(match (lhs, rhs) {
        (Value::Nil, Value::Nil) => Value::Boolean(true).into(),
        (Value::Nil, _) => Value::Boolean(false).into(),

        (Value::Boolean(a), Value::Boolean(b)) => Value::Boolean(a == b).into(),
        (Value::Boolean(_), _) => Value::Boolean(false).into(),

        (Value::Integer(a), Value::Integer(b)) => Value::Boolean(a == b).into(),
        (Value::Integer(a), Value::Number(b)) => Value::Boolean(a as f64 == b).into(),
        (Value::Integer(_), _) => Value::Boolean(false).into(),

        (Value::Number(a), Value::Number(b)) => Value::Boolean(a == b).into(),
        (Value::Number(a), Value::Integer(b)) => Value::Boolean(b as f64 == a).into(),
        (Value::Number(_), _) => Value::Boolean(false).into(),

        (Value::String(a), Value::String(b)) => Value::Boolean(a == b).into(),
        (Value::String(_), _) => Value::Boolean(false).into(),

        (Value::Function(a), Value::Function(b)) => Value::Boolean(a == b).into(),
        (Value::Function(_), _) => Value::Boolean(false).into(),

        (Value::Thread(a), Value::Thread(b)) => Value::Boolean(a == b).into(),
        (Value::Thread(_), _) => Value::Boolean(false).into(),

        (Value::Table(a), Value::Table(b)) if a == b => Value::Boolean(true).into(),
        (Value::Table(a), Value::Table(b)) => {
            if a == b {
                Value::Boolean(true).into()
            } else {
                // kong-functions patch 9: only when both have the same `__eq`.
                match shared_metamethod(ctx, a.metatable(), b.metatable(), MetaMethod::Eq) {
                    Some(eq) => MetaResult::Call(MetaCall {
                        function: call(ctx, eq)?,
                        args: [a.into(), b.into()],
                    }),
                    None => Value::Boolean(false).into(),
                }
            }
        }
        (Value::Table(_), _) => Value::Boolean(false).into(),

        (Value::UserData(a), Value::UserData(b)) if a == b => Value::Boolean(true).into(),
        (Value::UserData(a), Value::UserData(b)) => {
            if a == b {
                Value::Boolean(true).into()
            } else {
                // kong-functions patch 9: only when both have the same `__eq`.
                match shared_metamethod(ctx, a.metatable(), b.metatable(), MetaMethod::Eq) {
                    Some(eq) => MetaResult::Call(MetaCall {
                        function: call(ctx, eq)?,
                        args: [a.into(), b.into()],
                    }),
                    None => Value::Boolean(false).into(),
                }
            }
        }
        (Value::UserData(_), _) => Value::Boolean(false).into(),
    })
}

/// kong-functions patch 9: the metamethod `event` of two operands, when both have it and it
/// is the same value (Lua 5.1's `get_compTM` and `call_orderTM`, LuaJIT's `lj_meta_comp`
/// and `lj_meta_equal`): `__eq`, `__lt` and `__le` are only called then.
fn shared_metamethod<'gc>(
    ctx: Context<'gc>,
    a: Option<Table<'gc>>,
    b: Option<Table<'gc>>,
    event: MetaMethod,
) -> Option<Value<'gc>> {
    let m1 = a?.get(ctx, event);
    if m1.is_nil() {
        return None;
    }
    let m2 = b?.get(ctx, event);
    let same = match (m1, m2) {
        (Value::Function(x), Value::Function(y)) => x == y,
        (Value::Table(x), Value::Table(y)) => x == y,
        (Value::UserData(x), Value::UserData(y)) => x == y,
        (Value::String(x), Value::String(y)) => x == y,
        (Value::Boolean(x), Value::Boolean(y)) => x == y,
        _ => false,
    };
    same.then_some(m1)
}

fn metatable_of<'gc>(v: Value<'gc>) -> Option<Table<'gc>> {
    match v {
        Value::Table(t) => t.metatable(),
        Value::UserData(u) => u.metatable(),
        _ => None,
    }
}

/// kong-functions patch 9: a comparison that numbers and strings do not decide.
#[derive(Debug, Copy, Clone)]
pub struct OrderCall<'gc> {
    /// The metamethod call; its result, as a boolean, is the comparison's.
    pub call: MetaCall<'gc, 2>,
    /// True when the result is to be negated: `a <= b` as `not (b < a)`.
    pub negate: bool,
}

/// kong-functions patch 14: an arithmetic operation (`event` is `Add` ... `Pow`, or `Unm`
/// called as `(a, a)`) on operands `raw_ops` could not compute: the metamethod of the first
/// operand, else of the second, as Lua 5.1's `luaT_getbinTM` / `call_binTM` and LuaJIT's
/// `lj_meta_arith` (strings through the strings' metatable, patch 13); `None` when neither
/// has one (the caller's `attempt to perform arithmetic` error).
pub fn arithmetic<'gc>(
    ctx: Context<'gc>,
    event: MetaMethod,
    a: Value<'gc>,
    b: Value<'gc>,
) -> Result<Option<MetaCall<'gc, 2>>, TypeError> {
    let handler = |v: Value<'gc>| {
        let mt = match v {
            Value::String(_) => ctx.string_metatable(),
            v => metatable_of(v),
        };
        mt.map(|mt| mt.get(ctx, event)).filter(|h| !h.is_nil())
    };
    match handler(a).or_else(|| handler(b)) {
        Some(h) => Ok(Some(MetaCall {
            function: call(ctx, h)?,
            args: [a, b],
        })),
        None => Ok(None),
    }
}

/// kong-functions patch 9: `a < b` for operands that are not two numbers or two strings:
/// the shared `__lt` of two operands of the same type, as LuaJIT's `lj_meta_comp`; `None`
/// when there is none (an error: `attempt to compare ...`).
pub fn less_than<'gc>(
    ctx: Context<'gc>,
    a: Value<'gc>,
    b: Value<'gc>,
) -> Result<Option<OrderCall<'gc>>, TypeError> {
    if a.type_name() != b.type_name() {
        return Ok(None);
    }
    Ok(
        match shared_metamethod(ctx, metatable_of(a), metatable_of(b), MetaMethod::Lt) {
            Some(lt) => Some(OrderCall {
                call: MetaCall {
                    function: call(ctx, lt)?,
                    args: [a, b],
                },
                negate: false,
            }),
            None => None,
        },
    )
}

/// kong-functions patch 9: `a <= b` for operands that are not two numbers or two strings:
/// the shared `__le`, else `not (b < a)` with the shared `__lt`, as Lua 5.1's
/// `luaV_lessequal` and LuaJIT's `lj_meta_comp`; `None` when neither exists.
pub fn less_equal<'gc>(
    ctx: Context<'gc>,
    a: Value<'gc>,
    b: Value<'gc>,
) -> Result<Option<OrderCall<'gc>>, TypeError> {
    if a.type_name() != b.type_name() {
        return Ok(None);
    }
    if let Some(le) = shared_metamethod(ctx, metatable_of(a), metatable_of(b), MetaMethod::Le) {
        return Ok(Some(OrderCall {
            call: MetaCall {
                function: call(ctx, le)?,
                args: [a, b],
            },
            negate: false,
        }));
    }
    Ok(
        match shared_metamethod(ctx, metatable_of(b), metatable_of(a), MetaMethod::Lt) {
            Some(lt) => Some(OrderCall {
                call: MetaCall {
                    function: call(ctx, lt)?,
                    args: [b, a],
                },
                negate: true,
            }),
            None => None,
        },
    )
}
