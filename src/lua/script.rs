//! Running a whole Lua program with `print` captured: what the LuaJIT differential suite
//! and the wasm-side tests use. The environment is [`crate::lua::new_state`], the same
//! one the filter's chunks see (minus the PDK).

use std::cell::RefCell;
use std::rc::Rc;

use piccolo::{Callback, Executor, Fuel, Value};

use super::{compile, new_state, stdlib::base::ToStrings};

/// What a program printed, and the error it ended with, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptOutput {
    /// Everything `print` wrote: arguments separated by tabs, a newline after each call.
    pub stdout: String,
    /// The error message, when the program failed to compile or raised an error.
    pub error: Option<String>,
}

/// Compiles and runs `source` as chunk `chunk_name`, with at most `instruction_limit`
/// VM instructions (then the error is "instruction limit exceeded").
pub fn run(source: &str, chunk_name: &str, instruction_limit: i64) -> ScriptOutput {
    let mut lua = new_state();
    let out = Rc::new(RefCell::new(Vec::<u8>::new()));
    let sink = out.clone();
    let compiled = lua.enter(|ctx| {
        let print = Callback::from_fn(&ctx, move |ctx, _, stack| {
            let values: Vec<Value> = (0..stack.len()).map(|i| stack.get(i)).collect();
            let sink = sink.clone();
            ToStrings::start(ctx, values, Box::new(move |parts| {
                let mut out = sink.borrow_mut();
                out.extend_from_slice(&parts.join(&b'\t'));
                out.push(b'\n');
            }), stack)
        });
        ctx.set_global("print", print).ok();
        match compile::load(ctx, chunk_name, source.as_bytes(), ctx.globals()) {
            Ok(closure) => Ok(ctx.stash(Executor::start(ctx, closure.into(), ()))),
            Err(e) => Err(e.to_string()),
        }
    });
    let executor = match compiled {
        Ok(executor) => executor,
        Err(error) => return ScriptOutput { stdout: String::new(), error: Some(error) },
    };
    let mut spent = 0i64;
    let error = loop {
        let (done, used) = lua.enter(|ctx| {
            let mut fuel = Fuel::with(16 * 1024);
            let done = ctx.fetch(&executor).step(ctx, &mut fuel);
            (done, i64::from(16 * 1024 - fuel.remaining()))
        });
        if done {
            break lua.enter(|ctx| match ctx.fetch(&executor).take_result::<piccolo::Variadic<Vec<Value>>>(ctx) {
                Ok(Ok(_)) => None,
                Ok(Err(e)) => Some(match super::stdlib::base::error_value(ctx, e) {
                    Value::String(s) => s.to_str_lossy().into_owned(),
                    other => format!("(error object is a {} value)", other.type_name()),
                }),
                Err(e) => Some(e.to_string()),
            });
        }
        spent += used;
        if spent > instruction_limit {
            break Some("instruction limit exceeded".to_string());
        }
    };
    let stdout = String::from_utf8_lossy(&out.borrow()).into_owned();
    ScriptOutput { stdout, error }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stdout(source: &str) -> String {
        let out = run(source, "test.lua", 10_000_000);
        assert_eq!(out.error, None, "{source}");
        out.stdout
    }

    #[test]
    fn print_calls_tostring_metamethods() {
        let source = "local t = setmetatable({}, {__tostring = function() return 'custom' end})\nprint('a', t, 1)";
        assert_eq!(stdout(source), "a\tcustom\t1\n");
    }

    #[test]
    fn prints_like_luajit() {
        assert_eq!(stdout("print(10/2, 1e15, 'x', nil, true)"), "5\t1e+15\tx\tnil\ttrue\n");
    }

    #[test]
    fn string_methods_work_on_strings() {
        assert_eq!(stdout("local s = 'Hello'\nprint(s:upper(), ('%d-%s'):format(5, 'x'), s:sub(2, -2), #s)"), "HELLO\t5-x\tell\t5\n");
    }

    #[test]
    fn method_calls_on_tables_still_work() {
        assert_eq!(stdout("local o = {n = 2}\nfunction o:twice(x) return self.n * x end\nprint(o:twice(21))"), "42\n");
        let mt = "local C = setmetatable({}, {__index = {get = function(self) return 'meta' end}})\nprint(C:get())";
        assert_eq!(stdout(mt), "meta\n");
    }

    #[test]
    fn errors_are_reported_with_position() {
        let out = run("local x = 1\nerror('boom')", "e.lua", 1_000_000);
        assert_eq!(out.error.as_deref(), Some("e.lua:2: boom"));
    }

    #[test]
    fn sort_with_and_without_comparator() {
        assert_eq!(
            stdout("local t = {5, 2, 8, 1, 9, 3}\ntable.sort(t)\nprint(table.concat(t, ','))\ntable.sort(t, function(a, b) return a > b end)\nprint(table.concat(t, ','))"),
            "1,2,3,5,8,9\n9,8,5,3,2,1\n"
        );
    }

    #[test]
    fn gsub_with_function_and_table() {
        assert_eq!(
            stdout("print(('hello world'):gsub('%w+', function(w) return w:upper() end))\nprint(('$a $b'):gsub('%$(%w)', {a = 1}))"),
            "HELLO WORLD\t2\n1 $b\t2\n"
        );
    }
}
