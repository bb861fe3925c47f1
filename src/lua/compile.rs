//! Compiling Lua source on piccolo, with one rewrite: method calls.
//!
//! piccolo 0.3.3 gives strings no metatable (patch 13 adds one, for field reads), and a
//! method call must resolve against the chunk's sandboxed `string` functions. Before compiling, every method call `obj:name(args)` is rewritten to
//! `__kf_method(obj, "name", args)`, a built-in that calls `string.<name>` for strings
//! and indexes `obj` normally (metamethods included) for everything else. The receiver is
//! still evaluated once, and errors name the method as Lua does.
//!
//! A second rewrite restores Lua's rule that a parenthesised call or `...` yields exactly
//! one value: `(f())` becomes `__kf_first(f())`.
//!
//! A third turns concatenation into a call, `a .. b .. c` into `__kf_concat(a, b, c)`:
//! piccolo's VM concatenates without bounds (a doubling loop inside one fuel slice could
//! exhaust the wasm heap) and formats numbers its own way; the built-in checks the
//! string limit and formats numbers as LuaJIT does.

use std::io::Read;

use piccolo::compiler::parser::{
    AssignmentTarget, BinaryOperator, Block, CallSuffix, ConstructorField, Expression, FieldSuffix, ForStatement,
    FunctionDefinition, HeadExpression, PrimaryExpression, RecordKey, SimpleExpression, Statement,
    SuffixPart, SuffixedExpression,
};
use piccolo::compiler::{self, StringInterner};
use piccolo::{Closure, Context, FunctionPrototype, PrototypeError, Table};

/// The global the rewrite calls; see the module docs.
pub const METHOD_CALL: &str = "__kf_method";

/// The global that keeps only its first argument: `(f())` must yield one value, which
/// piccolo 0.3.3's compiler does not enforce, so grouped calls become `__kf_first(f())`.
pub const FIRST_VALUE: &str = "__kf_first";

/// The global that concatenates its arguments: `a .. b` becomes `__kf_concat(a, b)`.
pub const CONCAT: &str = "__kf_concat";

#[derive(Copy, Clone)]
struct Interner<'gc>(Context<'gc>);

impl<'gc> StringInterner for Interner<'gc> {
    type String = piccolo::String<'gc>;

    fn intern(&mut self, s: &[u8]) -> Self::String {
        self.0.intern(s)
    }
}

/// Compiles `source` as a chunk named `chunk_name` whose `_ENV` is `env`.
///
/// Errors: the parser's or compiler's error, with its 0-based line number.
pub fn load<'gc>(ctx: Context<'gc>, chunk_name: &str, source: impl Read, env: Table<'gc>) -> Result<Closure<'gc>, PrototypeError> {
    let mut interner = Interner(ctx);
    let mut chunk = compiler::parse_chunk(source, interner)?;
    let names = Names {
        method: interner.intern(METHOD_CALL.as_bytes()),
        first: interner.intern(FIRST_VALUE.as_bytes()),
        concat: interner.intern(CONCAT.as_bytes()),
    };
    rewrite_block(&mut chunk.block, names);
    let compiled = compiler::compile_chunk(&chunk, interner)?;
    let proto = FunctionPrototype::from_compiled(&ctx, ctx.intern(chunk_name.as_bytes()), &compiled);
    // A top-level prototype only has the _ENV upvalue, which `env` provides.
    Ok(Closure::new(&ctx, proto, Some(env)).expect("top-level chunk with _ENV"))
}

type S<'gc> = piccolo::String<'gc>;

/// The interned names of the helper globals.
#[derive(Clone, Copy)]
struct Names<'gc> {
    method: S<'gc>,
    first: S<'gc>,
    concat: S<'gc>,
}

fn rewrite_block<'gc>(block: &mut Block<S<'gc>>, m: Names<'gc>) {
    for statement in &mut block.statements {
        rewrite_statement(&mut statement.inner, m);
    }
    if let Some(ret) = &mut block.return_statement {
        for e in &mut ret.inner.returns {
            rewrite_expression(e, m);
        }
    }
}

fn rewrite_statement<'gc>(statement: &mut Statement<S<'gc>>, m: Names<'gc>) {
    match statement {
        Statement::If(s) => {
            rewrite_expression(&mut s.if_part.0, m);
            rewrite_block(&mut s.if_part.1, m);
            for (cond, block) in &mut s.else_if_parts {
                rewrite_expression(cond, m);
                rewrite_block(block, m);
            }
            if let Some(block) = &mut s.else_part {
                rewrite_block(block, m);
            }
        }
        Statement::While(s) => {
            rewrite_expression(&mut s.condition, m);
            rewrite_block(&mut s.block, m);
        }
        Statement::Do(block) => rewrite_block(block, m),
        Statement::For(ForStatement::Numeric { initial, limit, step, body, .. }) => {
            rewrite_expression(initial, m);
            rewrite_expression(limit, m);
            if let Some(step) = step {
                rewrite_expression(step, m);
            }
            rewrite_block(body, m);
        }
        Statement::For(ForStatement::Generic { arguments, body, .. }) => {
            arguments.iter_mut().for_each(|e| rewrite_expression(e, m));
            rewrite_block(body, m);
        }
        Statement::Repeat(s) => {
            rewrite_block(&mut s.body, m);
            rewrite_expression(&mut s.until, m);
        }
        Statement::Function(s) => rewrite_function(&mut s.definition, m),
        Statement::LocalFunction(s) => rewrite_function(&mut s.definition, m),
        Statement::LocalStatement(s) => s.values.iter_mut().for_each(|e| rewrite_expression(e, m)),
        Statement::Label(_) | Statement::Break | Statement::Goto(_) => {}
        Statement::FunctionCall(call) => {
            rewrite_suffixed(&mut call.head, m);
            match &mut call.call {
                CallSuffix::Function(args) => args.iter_mut().for_each(|e| rewrite_expression(e, m)),
                CallSuffix::Method(name, args) => {
                    args.iter_mut().for_each(|e| rewrite_expression(e, m));
                    let receiver = std::mem::replace(&mut call.head, name_expression(m.method));
                    call.call = CallSuffix::Function(method_arguments(receiver, *name, std::mem::take(args)));
                }
            }
        }
        Statement::Assignment(s) => {
            for target in &mut s.targets {
                if let AssignmentTarget::Field(head, field) = target {
                    rewrite_suffixed(head, m);
                    rewrite_field(field, m);
                }
            }
            s.values.iter_mut().for_each(|e| rewrite_expression(e, m));
        }
    }
}

fn rewrite_function<'gc>(definition: &mut FunctionDefinition<S<'gc>>, m: Names<'gc>) {
    rewrite_block(&mut definition.body, m);
}

fn rewrite_field<'gc>(field: &mut FieldSuffix<S<'gc>>, m: Names<'gc>) {
    if let FieldSuffix::Indexed(e) = field {
        rewrite_expression(e, m);
    }
}

fn rewrite_expression<'gc>(expression: &mut Expression<S<'gc>>, m: Names<'gc>) {
    match &mut *expression.head {
        HeadExpression::Simple(simple) => rewrite_simple(simple, m),
        HeadExpression::UnaryOperator(_, e) => rewrite_expression(e, m),
    }
    for (_, e) in &mut expression.tail {
        rewrite_expression(e, m);
    }
    rewrite_concat(expression, m);
}

/// The parser leaves `head op1 e1 op2 e2 ...` to be folded left to right (precedence is
/// already in the nesting), so a concatenation folds what is left of it into one call.
fn rewrite_concat<'gc>(expression: &mut Expression<S<'gc>>, m: Names<'gc>) {
    if !expression.tail.iter().any(|(op, _)| *op == BinaryOperator::Concat) {
        return;
    }
    let head = std::mem::replace(&mut expression.head, Box::new(HeadExpression::Simple(SimpleExpression::Nil)));
    let tail = std::mem::take(&mut expression.tail);
    let mut folded = Expression { head, tail: Vec::new() };
    for (op, right) in tail {
        if op == BinaryOperator::Concat {
            let mut args = concat_operands(folded, m);
            args.extend(concat_operands(right, m));
            folded = simple(SimpleExpression::Suffixed(call(m.concat, args)));
        } else {
            folded.tail.push((op, right));
        }
    }
    *expression = folded;
}

/// The operands `e` contributes to a concatenation: a concatenation's own operands, or
/// `e` cut to one value.
fn concat_operands<'gc>(e: Expression<S<'gc>>, m: Names<'gc>) -> Vec<Expression<S<'gc>>> {
    if !e.tail.is_empty() {
        return vec![one_value(e, m)];
    }
    match *e.head {
        HeadExpression::Simple(SimpleExpression::Suffixed(s)) => match concat_arguments(s, m) {
            Ok(args) => args,
            Err(s) => vec![one_value(simple(SimpleExpression::Suffixed(s)), m)],
        },
        head => vec![one_value(Expression { head: Box::new(head), tail: e.tail }, m)],
    }
}

/// The arguments of `s` when it is a `__kf_concat(...)` call; `s` itself otherwise.
fn concat_arguments<'gc>(mut s: SuffixedExpression<S<'gc>>, m: Names<'gc>) -> Result<Vec<Expression<S<'gc>>>, SuffixedExpression<S<'gc>>> {
    let is_concat = matches!(s.primary, PrimaryExpression::Name(n) if n == m.concat)
        && matches!(s.suffixes.as_slice(), [SuffixPart::Call(CallSuffix::Function(_))]);
    if is_concat {
        if let Some(SuffixPart::Call(CallSuffix::Function(args))) = s.suffixes.pop() {
            return Ok(args);
        }
    }
    Err(s)
}

/// `e`, cut to its first value when it can yield several.
fn one_value<'gc>(e: Expression<S<'gc>>, m: Names<'gc>) -> Expression<S<'gc>> {
    if is_multi_value(&e) {
        return simple(SimpleExpression::Suffixed(call(m.first, vec![e])));
    }
    e
}

fn call<'gc>(name: S<'gc>, args: Vec<Expression<S<'gc>>>) -> SuffixedExpression<S<'gc>> {
    SuffixedExpression { primary: PrimaryExpression::Name(name), suffixes: vec![SuffixPart::Call(CallSuffix::Function(args))] }
}

fn rewrite_simple<'gc>(simple: &mut SimpleExpression<S<'gc>>, m: Names<'gc>) {
    match simple {
        SimpleExpression::TableConstructor(t) => {
            for field in &mut t.fields {
                match field {
                    ConstructorField::Array(e) => rewrite_expression(e, m),
                    ConstructorField::Record(key, e) => {
                        if let RecordKey::Indexed(k) = key {
                            rewrite_expression(k, m);
                        }
                        rewrite_expression(e, m);
                    }
                }
            }
        }
        SimpleExpression::Function(f) => rewrite_function(f, m),
        SimpleExpression::Suffixed(s) => rewrite_suffixed(s, m),
        _ => {}
    }
}

/// Rewrites `p s1 ... :name(args) ...` into `__kf_method(p s1 ..., "name", args) ...`.
fn rewrite_suffixed<'gc>(suffixed: &mut SuffixedExpression<S<'gc>>, m: Names<'gc>) {
    if let PrimaryExpression::GroupedExpression(e) = &mut suffixed.primary {
        rewrite_expression(e, m);
        if is_multi_value(e) {
            let inner = std::mem::replace(e, simple(SimpleExpression::Nil));
            let call = SuffixedExpression {
                primary: PrimaryExpression::Name(m.first),
                suffixes: vec![SuffixPart::Call(CallSuffix::Function(vec![inner]))],
            };
            *e = simple(SimpleExpression::Suffixed(call));
        }
    }
    let suffixes = std::mem::take(&mut suffixed.suffixes);
    for mut suffix in suffixes {
        match &mut suffix {
            SuffixPart::Field(field) => rewrite_field(field, m),
            SuffixPart::Call(CallSuffix::Function(args)) => args.iter_mut().for_each(|e| rewrite_expression(e, m)),
            SuffixPart::Call(CallSuffix::Method(name, args)) => {
                args.iter_mut().for_each(|e| rewrite_expression(e, m));
                let receiver = std::mem::replace(suffixed, name_expression(m.method));
                let args = method_arguments(receiver, *name, std::mem::take(args));
                suffixed.suffixes.push(SuffixPart::Call(CallSuffix::Function(args)));
                continue;
            }
        }
        suffixed.suffixes.push(suffix);
    }
}

fn name_expression<'gc>(m: S<'gc>) -> SuffixedExpression<S<'gc>> {
    SuffixedExpression { primary: PrimaryExpression::Name(m), suffixes: Vec::new() }
}

fn method_arguments<'gc>(receiver: SuffixedExpression<S<'gc>>, name: S<'gc>, args: Vec<Expression<S<'gc>>>) -> Vec<Expression<S<'gc>>> {
    let mut out = Vec::with_capacity(args.len() + 2);
    out.push(simple(SimpleExpression::Suffixed(receiver)));
    out.push(simple(SimpleExpression::String(name)));
    out.extend(args);
    out
}

fn simple<'gc>(e: SimpleExpression<S<'gc>>) -> Expression<S<'gc>> {
    Expression { head: Box::new(HeadExpression::Simple(e)), tail: Vec::new() }
}

/// A call or `...` with nothing around it: the expressions that can yield several values.
fn is_multi_value<'gc>(e: &Expression<S<'gc>>) -> bool {
    if !e.tail.is_empty() {
        return false;
    }
    match &*e.head {
        HeadExpression::Simple(SimpleExpression::VarArgs) => true,
        HeadExpression::Simple(SimpleExpression::Suffixed(s)) => matches!(s.suffixes.last(), Some(SuffixPart::Call(_))),
        _ => false,
    }
}
