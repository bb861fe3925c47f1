//! Syntax errors in LuaJIT's words, as Kong reports a chunk that does not compile
//! (`error parsing pre-function: [string "print("]:1: unexpected symbol near '<eof>'`,
//! Kong's spec/03-plugins/33-serverless-functions/01-schema_spec.lua): Kong's schema
//! loads the chunk without a name, so LuaJIT names it after its source
//! ([`source_name`]), and LuaJIT's parser words the reason ([`reason`]).
//!
//! piccolo's parser gives the line and, for most errors, the token it found and the one
//! it expected (as their `Debug` text); those map onto LuaJIT's "'X' expected near 'Y'"
//! and "unexpected symbol near 'Y'", and a construct left open on an earlier line reads
//! as LuaJIT's "'end' expected (to close 'if' at line 3) near '<eof>'" (our piccolo patch
//! 10 records the opening line). What piccolo does not record stays in its words: the
//! token next to a lexer error or an invalid assignment.

use piccolo::compiler::parser::{ParseError, ParseErrorKind};
use piccolo::compiler::lexer::LexError;

/// LuaJIT's name for a chunk loaded from `source` without a chunk name
/// (`lj_debug_shortname`): `[string "<first line>"]`, cut at the first newline or after
/// 45 bytes, with "..." when cut.
pub fn source_name(source: &str) -> String {
    const MAX: usize = 45; // LUA_IDSIZE (60) - 15
    let line_end = source.find('\n').unwrap_or(source.len());
    let mut len = line_end.min(MAX);
    while !source.is_char_boundary(len) {
        len -= 1;
    }
    let cut = if len < source.len() { "..." } else { "" };
    format!("[string \"{}{cut}\"]", &source[..len])
}

/// The reason of a parse error as LuaJIT words it (see the module docs).
pub fn reason(error: &ParseError) -> String {
    kind_reason(&error.kind)
}

fn kind_reason(kind: &ParseErrorKind) -> String {
    match kind {
        // LuaJIT's `err_match` (lj_parse.c): "'end' expected (to close 'if' at line 1)",
        // then " near '<eof>'" as every lexer error ends.
        ParseErrorKind::Unclosed { error, opener, line } => {
            let plain = kind_reason(error);
            let to_close = format!(" (to close '{opener}' at line {})", line.0 + 1);
            match plain.split_once(" near ") {
                Some((expected, near)) => format!("{expected}{to_close} near {near}"),
                None => format!("{plain}{to_close}"),
            }
        }
        ParseErrorKind::Unexpected { unexpected, expected } => {
            let near = near(unexpected);
            match expected.as_str() {
                "grouped expression or name" | "field or suffix" | "expression suffix" => format!("unexpected symbol near {near}"),
                "parameter name or '...'" | "name" => format!("'<name>' expected near {near}"),
                "string" => format!("'<string>' expected near {near}"),
                "'=' or 'in'" | "function arguments" => format!("{expected} expected near {near}"),
                token => format!("'{}' expected near {near}", token_text(token)),
            }
        }
        ParseErrorKind::EndOfStream { expected: None } => "unexpected symbol near '<eof>'".into(),
        ParseErrorKind::EndOfStream { expected: Some(e) } if e == "name" => "'<name>' expected near '<eof>'".into(),
        ParseErrorKind::EndOfStream { expected: Some(e) } if e == "string" => "'<string>' expected near '<eof>'".into(),
        ParseErrorKind::EndOfStream { expected: Some(token) } => format!("'{}' expected near '<eof>'", token_text(token)),
        ParseErrorKind::LexError(e) => lex_reason(e),
        other => other.to_string(),
    }
}

fn lex_reason(error: &LexError) -> String {
    match error {
        LexError::UnfinishedShortString(_) => "unfinished string".into(),
        LexError::UnfinishedLongString => "unfinished long string".into(),
        LexError::BadNumber => "malformed number".into(),
        LexError::InvalidEscape | LexError::HexDigitExpected | LexError::EscapeDecimalTooLarge => "invalid escape sequence".into(),
        LexError::UnexpectedCharacter(c) => format!("unexpected symbol near '{}'", *c as char),
        other => other.to_string(),
    }
}

/// `'text'` for a token's `Debug` text (`'<eof>'` has its own spelling).
fn near(debug: &str) -> String {
    format!("'{}'", token_text(debug))
}

/// The Lua spelling of a piccolo token from its `Debug` text: `Assign` is `=`,
/// `Name(String(x))` is `x`, `String(String(s))` is `s`, `Integer(5)` is `5`.
fn token_text(debug: &str) -> String {
    let inner = |prefix: &str| debug.strip_prefix(prefix).and_then(|s| s.strip_suffix(')'));
    if let Some(s) = inner("Name(String(").or_else(|| inner("String(String(")) {
        return s.strip_suffix(')').unwrap_or(s).to_string();
    }
    if let Some(n) = inner("Integer(").or_else(|| inner("Float(")) {
        return n.to_string();
    }
    let text = match debug {
        "Break" => "break",
        "Do" => "do",
        "Else" => "else",
        "ElseIf" => "elseif",
        "End" => "end",
        "Function" => "function",
        "Goto" => "goto",
        "If" => "if",
        "In" => "in",
        "Local" => "local",
        "Nil" => "nil",
        "For" => "for",
        "While" => "while",
        "Repeat" => "repeat",
        "Until" => "until",
        "Return" => "return",
        "Then" => "then",
        "True" => "true",
        "False" => "false",
        "Not" => "not",
        "And" => "and",
        "Or" => "or",
        "Minus" => "-",
        "Add" => "+",
        "Mul" => "*",
        "Div" => "/",
        "IDiv" => "//",
        "Pow" => "^",
        "Mod" => "%",
        "Len" => "#",
        "BitNotXor" => "~",
        "BitAnd" => "&",
        "BitOr" => "|",
        "ShiftRight" => ">>",
        "ShiftLeft" => "<<",
        "Concat" => "..",
        "Dots" => "...",
        "Assign" => "=",
        "LessThan" => "<",
        "LessEqual" => "<=",
        "GreaterThan" => ">",
        "GreaterEqual" => ">=",
        "Equal" => "==",
        "NotEqual" => "~=",
        "Dot" => ".",
        "SemiColon" => ";",
        "Colon" => ":",
        "DoubleColon" => "::",
        "Comma" => ",",
        "LeftParen" => "(",
        "RightParen" => ")",
        "LeftBracket" => "[",
        "RightBracket" => "]",
        "LeftBrace" => "{",
        "RightBrace" => "}",
        other => other,
    };
    text.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The configure error for `source`: LuaJIT's chunk name, line and reason.
    fn error_of(source: &str) -> String {
        let mut lua = piccolo::Lua::core();
        lua.enter(|ctx| {
            let env = piccolo::Table::new(&ctx);
            match crate::lua::compile::load(ctx, "x", source.as_bytes(), env) {
                Ok(_) => "compiled".to_string(),
                Err(piccolo::PrototypeError::Parser(e)) => format!("{}:{}: {}", source_name(source), e.line_number.0 + 1, reason(&e)),
                Err(piccolo::PrototypeError::Compiler(e)) => format!("{}:{}: {}", source_name(source), e.line_number.0 + 1, e.kind),
            }
        })
    }

    #[test]
    fn errors_read_as_luajits() {
        // LuaJIT 2.1's messages for the same sources (`luajit -e 'print(loadstring(s))'`);
        // the first is Kong's spec (01-schema_spec.lua, "with an invalid function").
        for (source, expected) in [
            ("print(", "[string \"print(\"]:1: unexpected symbol near '<eof>'"),
            ("local x = = 1", "[string \"local x = = 1\"]:1: unexpected symbol near '='"),
            ("for i 1, 2 do end", "[string \"for i 1, 2 do end\"]:1: '=' or 'in' expected near '1'"),
            ("local 1 = 2", "[string \"local 1 = 2\"]:1: '<name>' expected near '1'"),
            ("local t = {}\nt[1 = 2", "[string \"local t = {}...\"]:2: ']' expected near '='"),
            ("if x then\n  y()\n", "[string \"if x then...\"]:3: 'end' expected (to close 'if' at line 1) near '<eof>'"),
        ] {
            assert_eq!(error_of(source), expected, "{source:?}");
        }
    }

    #[test]
    fn unclosed_constructs_name_what_they_close() {
        // luajit2 2.1 (`luajit -e 'print(loadstring(s))'`): "(to close 'X' at line N)" only
        // when the closing token is missing on a later line than the opening one
        // (lj_parse.c `lex_match`).
        for (source, expected) in [
            ("if x then", "[string \"if x then\"]:1: 'end' expected near '<eof>'"),
            ("repeat", "[string \"repeat\"]:1: 'until' expected near '<eof>'"),
            ("x = (1", "[string \"x = (1\"]:1: ')' expected near '<eof>'"),
            ("if x then\n\n", "[string \"if x then...\"]:3: 'end' expected (to close 'if' at line 1) near '<eof>'"),
            ("while x do\nprint(1)\n", "[string \"while x do...\"]:3: 'end' expected (to close 'while' at line 1) near '<eof>'"),
            ("do\n\n", "[string \"do...\"]:3: 'end' expected (to close 'do' at line 1) near '<eof>'"),
            ("repeat\nx()\n", "[string \"repeat...\"]:3: 'until' expected (to close 'repeat' at line 1) near '<eof>'"),
            ("function f()\n\n", "[string \"function f()...\"]:3: 'end' expected (to close 'function' at line 1) near '<eof>'"),
            ("f(1,\n2", "[string \"f(1,...\"]:2: ')' expected (to close '(' at line 1) near '<eof>'"),
            ("x = (1\n+2", "[string \"x = (1...\"]:2: ')' expected (to close '(' at line 1) near '<eof>'"),
            ("if x\nthen\nelse\n", "[string \"if x...\"]:4: 'end' expected (to close 'if' at line 1) near '<eof>'"),
            ("f(1,\n2 3)", "[string \"f(1,...\"]:2: ')' expected (to close '(' at line 1) near '3'"),
            ("local t = {1,\n2 3}", "[string \"local t = {1,...\"]:2: '}' expected (to close '{' at line 1) near '3'"),
            ("if x then\ny()\nelseif z then\n", "[string \"if x then...\"]:4: 'end' expected (to close 'if' at line 1) near '<eof>'"),
            ("for i = 1, 2 do\n", "[string \"for i = 1, 2 do...\"]:2: 'end' expected (to close 'for' at line 1) near '<eof>'"),
            ("local function f()\n  if x then\n    return 1\nend", "[string \"local function f()...\"]:4: 'end' expected (to close 'function' at line 1) near '<eof>'"),
        ] {
            assert_eq!(error_of(source), expected, "{source:?}");
        }
    }

    #[test]
    fn long_first_lines_are_cut_as_luajit_cuts_them() {
        let source = "local a_rather_long_variable_name_for_testing = 1 +";
        assert_eq!(source_name(source), "[string \"local a_rather_long_variable_name_for_testing...\"]");
    }
}
