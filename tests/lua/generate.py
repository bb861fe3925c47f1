#!/usr/bin/env python3
"""Writes the table-driven part of the differential corpus (tests/lua/<area>/g_*.lua).

Each generated program prints a handful of expressions from one area; cases are grouped
five or six to a program so a mismatch points at a small file. Run it after changing the
case lists: `python3 tests/lua/generate.py` (the hand-written programs are not touched).
Every program must run under `luajit` with exit status 0; the differential test checks
that and compares our output with LuaJIT's.
"""

import os

ROOT = os.path.dirname(os.path.abspath(__file__))

# Regenerate from scratch: remove earlier generated programs (hand-written ones stay).
for _area in os.listdir(ROOT):
    _folder = os.path.join(ROOT, _area)
    if os.path.isdir(_folder):
        for _name in os.listdir(_folder):
            if _name.startswith("g_") and _name.endswith(".lua"):
                os.remove(os.path.join(_folder, _name))


def lua_str(s):
    out = '"'
    for ch in s:
        if ch == '"':
            out += '\\"'
        elif ch == "\\":
            out += "\\\\"
        elif ch == "\n":
            out += "\\n"
        elif ch == "\0":
            out += "\\0"
        elif ord(ch) < 32:
            out += "\\%d" % ord(ch)
        else:
            out += ch
    return out + '"'


def chunks(items, n):
    for i in range(0, len(items), n):
        yield items[i:i + n]


def write(area, name, title, lines):
    folder = os.path.join(ROOT, area)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name + ".lua"), "w") as f:
        f.write("-- " + title + "\n")
        for line in lines:
            f.write(line + "\n")


def programs(area, stem, title, statements, per=2):
    for i, group in enumerate(chunks(statements, per)):
        write(area, "g_%s_%02d" % (stem, i + 1), "%s (%d)" % (title, i + 1), group)


S = lua_str

# ---------------------------------------------------------------- string.find / match
find_cases = [
    ("hello world", "o", None, None), ("hello world", "o", 6, None), ("hello world", "o", -3, None),
    ("hello world", "l+", None, None), ("hello world", "^h", None, None), ("hello world", "^w", None, None),
    ("hello world", "d$", None, None), ("hello world", "x", None, None), ("hello", "", None, None),
    ("hello", "", 10, None), ("hello", "", 6, None), ("", "", None, None), ("", "a", None, None),
    ("a.b.c", ".", None, True), ("a.b.c", "%.", None, None), ("a+b", "+", 1, True), ("a+b", "a+", None, True),
    ("x=1, y=2", "(%w+)=(%w+)", None, None), ("x=1, y=2", "(%w+)=(%w+)", 5, None), ("abc", "()b()", None, None),
    ("  trim  ", "^%s*(.-)%s*$", None, None), ("key: value", "^(%w+):%s*(.+)$", None, None),
    ("THE (quick) fox", "%f[%a]%a+", None, None), ("THE (quick) fox", "%f[%a]%a+", 5, None),
    ("f(a(b)c)d", "%b()", None, None), ("[[x]]", "%b[]", None, None), ("no parens", "%b()", None, None),
    ("hello hello", "(h%a+) %1", None, None), ("abab", "(ab)%1", None, None), ("aaa", "a-", None, None),
    ("aaa", "a-$", None, None), ("aaa", "a*", None, None), ("aaa", "a?a?a?a?", None, None), ("123abc", "%d+", None, None),
    ("abc123", "[^%a]+", None, None), ("a-b_c", "[%w_]+", None, None), ("x]y", "[]]", None, None),
    ("a^b", "[%^]", None, None), ("a^b", "^a%^", None, None), ("tab\there", "%s", None, None), ("UPPER lower", "%u+", None, None),
    ("UPPER lower", "%l+", None, None), ("punct!?", "%p+", None, None), ("hex 0xFF", "%x+", 5, None), ("ctl\1x", "%c", None, None),
    ("a1 b2", "%a%d", -2, None), ("hello", "l", -100, None), ("hello", "lo", 100, None), ("a$b", "$b", None, None),
    ("a$b", "a$", None, None), ("path/to/file.txt", "([^/]+)$", None, None), ("path/to/file.txt", "%.(%w+)$", None, None),
    ("2024-01-15", "(%d+)-(%d+)-(%d+)", None, None), ("Bearer abc.def", "^Bearer%s+(.+)$", None, None),
    ("192.168.1.10", "^(%d+)%.(%d+)%.(%d+)%.(%d+)$", None, None), ("a,b,,c", ",,", None, True),
]
stmts = []
for (s, p, init, plain) in find_cases:
    args = [S(s), S(p)]
    if init is not None or plain:
        args.append(str(init) if init is not None else "1")
    if plain:
        args.append("true")
    stmts.append("print(string.find(%s))" % ", ".join(args))
programs("string", "find", "string.find over subjects, patterns, init and plain", stmts)
stmts = ["print(string.match(%s))" % ", ".join([S(s), S(p)] + ([str(init)] if init is not None else []))
         for (s, p, init, plain) in find_cases if not plain]
programs("string", "match", "string.match returns captures or the whole match", stmts)

# ---------------------------------------------------------------- gmatch
gmatch_cases = [
    ("one two three", "%a+"), ("a=1, b=2, c=3", "(%w+)=(%w+)"), ("a,b,,c", "([^,]*)"), ("abc", ""),
    ("x1y22z333", "%d+"), ("^a^a", "^a"), ("hello world from lua", "%f[%w]%w+"), ("(a)(bb)(ccc)", "%b()"),
    ("k1=v1;k2=v2", "([^;=]+)=([^;]*)"), ("  spaced   out  ", "%S+"), ("", "x"), ("aaa", "a*"),
    ("line1\nline2\nline3", "[^\n]+"), ("a.b.c", "[^.]+"), ("1,2,3,4,5", "%d"), ("abc", "()"),
]
stmts = []
for (s, p) in gmatch_cases:
    stmts.append("do local out = {} for a, b in string.gmatch(%s, %s) do out[#out + 1] = tostring(a) .. (b and (':' .. tostring(b)) or '') end print(#out, table.concat(out, '|')) end" % (S(s), S(p)))
programs("string", "gmatch", "string.gmatch iteration with and without captures", stmts)

# ---------------------------------------------------------------- gsub
gsub_cases = [
    ("hello world", "o", "0", None), ("hello world", "o", "0", 1), ("hello world", "%w+", "<%0>", None),
    ("hello world", "(%w+) (%w+)", "%2 %1", None), ("hello", "", "-", None), ("abc", "%w", "%%", None),
    ("abc", "b", "%1", None), ("a.b.c", "%.", "/", None), ("  trim me  ", "^%s+", "", None), ("  trim me  ", "%s+$", "", None),
    ("x x x", "x", "y", 2), ("x x x", "x", "y", 0), ("aaa", "a*", "-", None), ("hello", "l+", "L", None),
    ("$name is $age", "%$(%w+)", "[%1]", None), ("abc", "^a", "A", None), ("abc", "c$", "C", None), ("a,b;c", "[,;]", " ", None),
    ("CamelCaseString", "(%u)", " %1", None), ("snake_case_here", "_(%l)", "%1", None), ("100%", "%%", " percent", None),
    ("tab\tsep", "\t", "\\t", None), ("x", "x", "%0%0", None), ("", "", "e", None),
]
stmts = []
for (s, p, r, n) in gsub_cases:
    args = [S(s), S(p), S(r)] + ([str(n)] if n is not None else [])
    stmts.append("print(string.gsub(%s))" % ", ".join(args))
stmts += [
    "print(string.gsub('hello world', '%w+', function(w) return w:upper() end))",
    "print(string.gsub('hello world', '%w+', function(w) if w == 'hello' then return nil end return 'X' end))",
    "print(string.gsub('$a $b $c', '%$(%w)', {a = 1, b = 'two'}))",
    "print(string.gsub('a-b', '(%w)-(%w)', function(x, y) return y .. '+' .. x end))",
    "print(string.gsub('abc', '%w', function() return false end))",
    "print(pcall(string.gsub, 'x y', '%w', {x = true}))",
    "print(pcall(string.gsub, 'abc', '%w', function() return {} end))",
    "print(string.gsub('one two', '(%w+)', '%1-%1', 1))",
    "print(string.gsub('abc', '', '/'))",
    "print(string.gsub('hello', '(l)(l)', '%2%1'))",
    "print(pcall(string.gsub, 'abc', '(b)', '%2'))",
    "print(pcall(string.gsub, 'abc', 'b'))",
    "print(string.gsub('a b c', ' ', '', 5))",
    "print(string.gsub(12345, 3, 'x'))",
    "print(string.gsub('count: 3', '%d', function(d) return d * 2 end))",
]
programs("string", "gsub", "string.gsub with string, table and function replacements", stmts)

# ---------------------------------------------------------------- sub / byte / char / rep / len / case
sub_cases = [(1, 3), (2, None), (-3, None), (-3, -2), (0, None), (0, 0), (5, 2), (1, 100), (-100, 2), (3, 3), (10, 20), (-1, -1)]
stmts = ["print(string.sub('hello world', %s))" % ", ".join([str(i)] + ([str(j)] if j is not None else [])) for (i, j) in sub_cases]
stmts += ["print(('hello'):sub(%d, %d))" % (i, j) for (i, j) in [(2, 4), (-4, -2), (0, 1), (6, 10)]]
stmts += ["print(string.byte('ABCDE'%s))" % a for a in ["", ", 2", ", -1", ", 2, 4", ", 10", ", 0", ", -3, -1", ", 3, 2"]]
stmts += ["print(string.char(%s))" % a for a in ["72, 101, 108, 108, 111", "", "0, 255", "65"]]
stmts += ["print(#string.char(0, 1, 2), string.byte(string.char(200)))",
          "print(pcall(string.char, 256))", "print(pcall(string.char, -1))", "print(pcall(string.char, 'x'))",
          "print(string.rep('ab', 3), string.rep('x', 0), string.rep('x', -2), string.rep('', 5))",
          "print(string.rep('ab', 3, ','), string.rep('ab', 1, ','), string.rep('ab', 2, ''))",
          "print(pcall(string.rep), pcall(string.rep, 'x'))",
          "print(string.len(''), string.len('abc'), string.len('a\\0b'), #'hello')",
          "print(string.upper('mIxEd 123'), string.lower('MiXeD 123'), string.reverse('abc'), string.reverse(''))",
          "print(('abc'):upper(), ('ABC'):lower(), ('abc'):len(), ('abc'):reverse())",
          "print(pcall(string.upper), pcall(string.len, nil))",
          "print(string.upper(123), string.len(12.5), string.rep(1, 3))",
          "local s = 'method' print(s:sub(2, 3), s:byte(1), s:find('th'), s:match('%a+'), s:rep(2))",
          "print(('%d items'):format(3), ('x'):rep(2, '|'), ('a,b'):gsub(',', ';'))",
          "print(pcall(function() local s = 'x' local r = s:nosuch() return r end))",
          "local t = setmetatable({}, {__index = {hello = function(self, n) return 'hi ' .. n end}}) print(t:hello('there'))",
          ]
programs("string", "basic", "string.sub, byte, char, rep, len, upper, lower, reverse and method calls", stmts)

# ---------------------------------------------------------------- pattern errors
bad_patterns = ["%", "[a", "(()", "%b", "%f", "%fx", "%1", "(a)%2", "a)", "((a)", "[%", "[a-"]
stmts = ["print(pcall(string.find, 'x', %s))" % S(p) for p in bad_patterns]
stmts += ["print(pcall(string.match, 'abc', %s))" % S(p) for p in ["%", "[", "(()"]]
stmts += ["print(pcall(string.gsub, 'abc', %s, 'x'))" % S(p) for p in ["%", "[b"]]
stmts += ["print(pcall(function() return string.find('abc', '%') end))",
          "local ok, e = pcall(function() local r = string.find('abc', '[a') return r end) print(ok, e)",
          "print(pcall(string.find, ('a'):rep(30), '(a*)*b'))",
          "print(string.find(('a'):rep(30), '(a*).-b'))"]
programs("string", "badpattern", "malformed patterns raise Lua's errors", stmts)

# ---------------------------------------------------------------- format
fmt_cases = [
    ('"%d"', "42"), ('"%5d|%-5d|%05d"', "42, 42, 42"), ('"%+d % d"', "5, 5"), ('"%d"', "-0"), ('"%d"', "3.99"),
    ('"%d"', "-3.99"), ('"%i"', "7"), ('"%u"', "42"), ('"%x %X"', "255, 255"), ('"%#x %#X %#o"', "255, 255, 8"),
    ('"%o"', "64"), ('"%c%c%c"', "76, 117, 97"), ('"%5c|%-5c|"', "65, 66"), ('"%e"', "12345.6789"), ('"%.2e %E"', "0.000123, 1e300"),
    ('"%f"', "3.14159"), ('"%.0f %.1f %.10f"', "2.5, 0.05, 1/3"), ('"%10.3f|%-10.3f|"', "3.14159, 3.14159"), ('"%g %g %g"', "100000, 1000000, 1e-5"),
    ('"%g %G"', "0.0001, 1e-10"), ('"%.3g %.10g"', "3.14159, 1/3"), ('"%#g"', "1"), ('"%s"', "'str'"), ('"%10s|%-10s|"', "'right', 'left'"),
    ('"%.2s"', "'abcdef'"), ('"%5.1s|"', "'xyz'"), ('"%s %s %s"', "1, 2.5, true"), ('"%s"', "nil"), ('"%q"', "'line\\nbreak'"),
    ('"%q"', "'quote\"back\\\\slash'"), ('"%q"', "'nul\\0byte'"), ('"%q"', "'\\r\\t\\1'"), ('"%q"', "42"), ('"%%"', ""),
    ('"%5.1f%%"', "99.44"), ('"%a"', "1"), ('"%a %a"', "0.5, 255"), ('"%x"', "-1"), ('"%d"', "2^31"), ('"%d"', "2^53"),
    ('"%.3f"', "2/3"), ('"%08.3f"', "-3.14159"), ('"[%6.2f]"', "1e3"), ('"%e"', "0"), ('"%g"', "0"),
    ('"%s=%d"', "'k', 1"), ('"%3d|%-3d|"', "1000, 1000"), ('"%.0e"', "15000"), ('"%G"', "1e20"), ('"%f"', "1e15"),
]
stmts = []
for (f, a) in fmt_cases:
    stmts.append("print(string.format(%s%s))" % (f, (", " + a) if a else ""))
stmts += ["print(pcall(string.format, %s))" % a for a in ['"%y", 1', '"%100d", 1', '"%d", "x"', '"%d"', '"%s"', '"%", 1', '"%-"']]
stmts += ["print(string.format('%d', '10'), string.format('%s', 10/2), string.format('%5s', 1e15))",
          "print(('%s-%s'):format('a', 'b'), ('%03d'):format(7))",
          "print(string.format('%s', setmetatable({}, {__tostring = function() return 'T' end})) ~= nil)"]
programs("string", "format", "string.format conversions, flags, width and precision", stmts)

# ---------------------------------------------------------------- tostring / tonumber
nums = ["10/2", "1e15", "1e14", "2^53", "2^63", "-2^63", "1/3", "-0.0", "0.1", "100", "1e100", "1e-5", "123456789012",
        "12345678901234", "123456789012345", "0.1 + 0.2", "3.0", "-1.5", "1e308 * 10", "-1e308 * 10", "2^-1074", "255 / 5",
        "7 // 1 == nil", "math.pi", "-math.pi", "1e21", "5e-324"]
stmts = ["print(%s, tostring(%s))" % (n, n) for n in nums if "//" not in n]
programs("base", "tostring_numbers", "numbers print as LuaJIT prints them", stmts)
tonum = ['"10"', '"0x10"', '"0X1f"', '"1e2"', '" 10 "', '"10a"', '""', '" "', '"-7"', '"+7"', '".5"', '"5."', '"0x"',
         '"1e"', '"1e+2"', '"inf"', '"nan" ~= "nan"', '"0x1p4"', '10', '"abc"', 'nil', '{}', '"1 2"', '"- 1"', '"0b101"',
         '"\\t42\\n"', '"1e-2"', '"0.000001"', '"9007199254740993"']
stmts = ["print(tonumber(%s))" % t for t in tonum]
stmts += ["print(tonumber(%s, %d))" % (s, b) for (s, b) in [('"ff"', 16), ('"FF"', 16), ('"z"', 36), ('"777"', 8), ('"101"', 2),
                                                                ('"102"', 2), ('"-ff"', 16), ('" 11 "', 2), ('""', 10), ('"1.5"', 10), ('"zz"', 36), ('"8"', 8)]]
stmts += ["print(pcall(tonumber, '1', 1))", "print(pcall(tonumber, '1', 37))", "print(pcall(tonumber))"]
programs("base", "tonumber", "tonumber with and without a base", stmts)

# ---------------------------------------------------------------- math
math_exprs = [
    "math.floor(3.7), math.floor(-3.7), math.ceil(3.2), math.ceil(-3.2)", "math.abs(-5), math.abs(5.5), math.abs(-0.0)",
    "math.sqrt(16), math.sqrt(2), math.sqrt(0)", "math.max(1, 5, 3), math.max(-1), math.max(2.5, 2)",
    "math.min(1, 5, 3), math.min(-1, -2), math.min(0.5)", "math.fmod(7, 3), math.fmod(-7, 3), math.fmod(7, -3), math.fmod(5.5, 2)",
    "math.modf(3.7), math.modf(-3.7)", "math.modf(5)", "math.frexp(8), math.frexp(-3), math.frexp(0.1)",
    "math.ldexp(0.5, 4), math.ldexp(1, -1)", "math.exp(0), math.exp(1)", "math.log(1), math.log(math.exp(2))",
    "math.log10(1000), math.log10(2)", "math.pow(2, 10), math.pow(2, 0.5)", "math.sin(0), math.cos(0), math.tan(0)",
    "math.asin(1), math.acos(1), math.atan(1)", "math.atan2(1, 1), math.atan2(-1, -1), math.atan2(0, -1)",
    "math.sinh(1), math.cosh(1), math.tanh(1)", "math.deg(math.pi), math.rad(180)", "math.huge, -math.huge, math.pi",
    "math.huge > 1e308, -math.huge < -1e308", "7 % 3, -7 % 3, 7 % -3, -7 % -3, 5.5 % 2", "2^10, 2^0.5, (-2)^2, 2^-1",
    "7 / 2, 6 / 2, 1 / 4, -7 / 2", "1e300 * 1e300, -1e300 * 1e300", "math.floor(2^31 + 0.5), math.floor(-2^31 - 0.5)",
    "math.max(1, 2) == 2, math.min(1, 2) == 1", "0.1 + 0.2 == 0.3, math.abs(0.1 + 0.2 - 0.3) < 1e-15",
    "math.floor(-0.5), math.ceil(-0.5)", "(0/0) ~= (0/0), type(math.huge)", "math.fmod(1, 0) ~= math.fmod(1, 0)",
    "type(math.random()), math.random() < 1, math.random(10) <= 10, math.random(5, 6) >= 5",
    "pcall(math.floor), pcall(math.max)", "pcall(math.sqrt, 'x')", "math.sqrt('16'), math.floor('3.5')",
    "math.mod and math.mod(7, 3)", "8 // 3 == nil", "3 == 3.0, 1/0 == math.huge", "-(2^53), 2^53 + 1 - 2^53",
    "math.log(8, 2), math.log(100, 10)", "string.format('%.10f', math.pi)", "math.floor(1e15 + 0.5)",
]
stmts = []
for e in math_exprs:
    if "//" in e or "math.mod" in e or "math.log(8, 2)" in e:
        continue
    stmts.append("print(%s)" % e)
programs("math", "functions", "math library results print as LuaJIT's", stmts)

# ---------------------------------------------------------------- bit
bit_exprs = [
    "bit.tobit(0xffffffff), bit.tobit(2^32 + 5), bit.tobit(-1), bit.tobit(2^31)", "bit.tohex(255), bit.tohex(-1), bit.tohex(255, 4), bit.tohex(255, -4)",
    "bit.tohex(0x12345678, 2), bit.tohex(1, 8), bit.tohex(-1, -8)", "bit.bnot(0), bit.bnot(-1), bit.bnot(0xff)",
    "bit.band(0xff, 0x0f), bit.band(-1, 0x7fffffff), bit.band(1, 2, 3)", "bit.bor(1, 2), bit.bor(1, 2, 4, 8), bit.bor(0x80000000, 1)",
    "bit.bxor(5, 3), bit.bxor(0xff, 0x0f, 0xf0), bit.bxor(-1, 1)", "bit.lshift(1, 4), bit.lshift(1, 31), bit.lshift(1, 32), bit.lshift(1, 35)",
    "bit.rshift(256, 4), bit.rshift(-1, 28), bit.rshift(-1, 0)", "bit.arshift(-256, 4), bit.arshift(256, 4), bit.arshift(-1, 31)",
    "bit.rol(1, 1), bit.rol(0x80000000, 1), bit.rol(1, 33)", "bit.ror(1, 1), bit.ror(2, 1), bit.ror(1, 32)",
    "bit.bswap(0x12345678), bit.bswap(1), bit.bswap(-1)", "bit.band(2^33 + 3, 7), bit.bor(1.4, 0), bit.tobit(1.5), bit.tobit(2.5)",
    "pcall(bit.band), pcall(bit.band, 'x')", "bit.tohex(bit.lshift(0xdead, 16) + 0xbeef)", "bit.band('0xff', 3)",
    "bit.bor(bit.lshift(1, 10), bit.lshift(1, 20)) == 1049600", "bit.tobit(4294967296 * 3 + 7)", "bit.bxor(bit.bnot(5), -6)",
]
programs("bit", "ops", "LuaJIT's bit module, 32-bit semantics", ["print(%s)" % e for e in bit_exprs])

# ---------------------------------------------------------------- table
table_stmts = [
    "local t = {1, 2, 3} print(table.concat(t), table.concat(t, ', '), table.concat(t, '-', 2), table.concat(t, '-', 2, 3), table.concat(t, '-', 3, 2))",
    "print(table.concat({}), table.concat({'a'}), table.concat({1, 2.5, 'x'}, ' '))",
    "print(pcall(table.concat, {1, {}, 3}))", "print(pcall(table.concat, {1, nil, 3}, ',', 1, 3))", "print(pcall(table.concat, {true}))",
    "local t = {} table.insert(t, 'a') table.insert(t, 'b') table.insert(t, 1, 'c') print(table.concat(t, ','), #t)",
    "local t = {1, 2, 3} table.insert(t, 2, 9) print(table.concat(t, ','))", "local t = {1, 2, 3} table.insert(t, 4, 9) print(table.concat(t, ','))",
    "print(pcall(table.insert, {}, 1, 2, 3))", "print(pcall(table.insert, {}))", "local t = {} table.insert(t, 3, 'x') print(t[3], #t == 0 or #t == 3)",
    "local t = {1, 2, 3} print(table.remove(t), table.concat(t, ','))", "local t = {1, 2, 3} print(table.remove(t, 1), table.concat(t, ','))",
    "local t = {} print(table.remove(t), #t)", "local t = {1, 2} print(table.remove(t, 5), table.concat(t, ','))",
    "local t = {1, 2, 3} print(table.remove(t, 2), table.remove(t, 2), table.remove(t, 1), #t)",
    "local t = {5, 2, 8, 1, 9, 3} table.sort(t) print(table.concat(t, ','))",
    "local t = {5, 2, 8, 1, 9, 3} table.sort(t, function(a, b) return a > b end) print(table.concat(t, ','))",
    "local t = {'pear', 'Apple', 'fig', 'banana'} table.sort(t) print(table.concat(t, ','))",
    "local t = {} table.sort(t) print(#t)", "local t = {1} table.sort(t) print(t[1])",
    "local t = {3, 3, 1, 1, 2, 2} table.sort(t) print(table.concat(t, ','))",
    "local t = {} for i = 1, 100 do t[i] = (i * 37) % 101 end table.sort(t) print(t[1], t[50], t[100])",
    "local t = {} for i = 1, 50 do t[i] = {k = (i * 7) % 50, v = i} end table.sort(t, function(a, b) return a.k < b.k end) print(t[1].k, t[25].k, t[50].k)",
    "print(pcall(table.sort, {3, 1, 2, 5, 4, 7, 6, 9, 8, 10, 12, 11}, function(a, b) return true end))",
    "print(pcall(table.sort, {1, 'x', 2}))", "print(pcall(table.sort, {1, 2}, 3))",
    "print(pcall(table.sort, {3, 1, 2}, function(a, b) error('comparator failed', 0) end))",
    "local t = {3, 1, 2} print(pcall(table.sort, t, function(a, b) return a.x < b.x end) == false)",
    "print(pcall(string.rep, {}, 2)) print(pcall(string.sub))",
    "print(pcall(string.format, '%d', {})) print(pcall(string.format, '%q'))",
    "print(unpack({1, 2, 3})) print(unpack({1, 2, 3}, 2)) print(unpack({1, 2, 3}, 2, 3)) print(unpack({}, 1, 2))",
    "print(select('#', unpack({1, nil, 3}, 1, 3)), unpack({'a'}, 3))",
    "print(table.maxn({}), table.maxn({1, 2, [10] = 3}), table.maxn({[1.5] = 1}))",
    "local t = {1, 2, 3, nil, 5} print(select('#', unpack(t, 1, 5)))",
    "local t = {10, 20, 30} local s = 0 for i, v in ipairs(t) do s = s + i * v end print(s)",
    "local keys = {} for k in pairs({a = 1, b = 2, c = 3}) do keys[#keys + 1] = k end table.sort(keys) print(table.concat(keys, ','))",
    "local n = 0 for _ in pairs({1, 2, 3, x = 1}) do n = n + 1 end print(n)",
    "local t = {1, 2, 3} for i, v in ipairs(t) do if i == 2 then break end print(i, v) end",
    "local t = setmetatable({}, {__index = function(t, k) return k * 2 end}) print(t[21], rawget(t, 21))",
    "local t = setmetatable({}, {__newindex = function(t, k, v) rawset(t, k, v * 10) end}) t.x = 5 print(t.x)",
    "local t = setmetatable({}, {__len = function() return 42 end}) print(#t >= 0)",
    "print(next({}), type(next({1})), next({}, nil))", "print(#{1, 2, 3}, #{}, #'abc')",
]
programs("table", "functions", "table library behaviour", table_stmts)

# ---------------------------------------------------------------- base
base_stmts = [
    "print(type(nil), type(1), type('s'), type({}), type(print), type(true), type(coroutine.create(function() end)))",
    "print(select('#'), select('#', nil, nil), select(2, 'a', 'b', 'c'), select(-1, 'a', 'b'))", "print(pcall(select, 0, 'a'))",
    "print(pcall(error)) print(pcall(error, nil)) print(pcall(error, 'plain', 0))",
    "local ok, e = pcall(error, {code = 42}) print(ok, type(e), e.code)",
    "local ok, e = pcall(function() error('with position') end) print(ok, e)",
    "local ok, e = pcall(function() error('no position', 0) end) print(ok, e)",
    "local ok, e = pcall(function() error(42) end) print(ok, e)",
    "local ok, e = pcall(function() assert(false) end) print(ok, e)", "local ok, e = pcall(function() assert(nil, 'custom message') end) print(ok, e)",
    "print(assert(1, 'unused'), assert('v'))", "print(pcall(assert))",
    "print(xpcall(function() return 1, 2 end, print))", "print(xpcall(function() error('E', 0) end, function(m) return 'handled: ' .. m end))",
    "print(xpcall(function(a, b) return a + b end, print, 2, 3))",
    "print(pcall(pcall)) print(pcall(function() return pcall(error, 'inner', 0) end))",
    "local t = setmetatable({}, {__tostring = function() return 'I am T' end}) print(tostring(t), t)",
    "local mt = {__metatable = 'locked'} local t = setmetatable({}, mt) print(getmetatable(t), pcall(setmetatable, t, {}))",
    "print(getmetatable('abc').__index == string, getmetatable({}), getmetatable(1))",
    "local mt = {__eq = function() return true end} local a, b = setmetatable({}, mt), setmetatable({}, mt) print(a == b, rawequal(a, b))",
    "local mt = {__call = function(self, x) return 'called ' .. x end} print(setmetatable({}, mt)(5))",
    "print('10' + 1, '3' * '4', 10 .. 20, '2' ^ 2, -'2')", "print(1 == 1.0, '1' == 1, 0.5 == 1/2)",
    "print(rawequal('a', 'a'), rawequal({}, {}), rawequal(1, 1.0))", "local t = {} rawset(t, 'k', 'v') print(rawget(t, 'k'), rawget(t, 'none'))",
    "print(_VERSION)", "print(_G == _G._G, _G.print == print, type(_G))", "x_global = 5 print(_G.x_global)",
    "print(tostring(nil), tostring(true), tostring(false), tostring('s'))",
    "local f = loadstring('return 1 + 1') print(f())", "print(type(loadstring('local a = 1')))",
    "local f = loadstring('local a, b = ... return a * b') print(f(6, 7))",
    "print(pcall(tostring))", "print(ipairs({}))" if False else "print(type(ipairs({})))",
    "local t = {} for i = 10, 1, -3 do t[#t + 1] = i end print(table.concat(t, ','))",
    "local s = 0 for i = 1, 0 do s = s + 1 end print(s)", "local s = 0 for i = 0.5, 2.5, 0.5 do s = s + i end print(s)",
    "local function f(...) return select('#', ...), ... end print(f(1, nil, 3))",
    "local function f(...) local t = {...} return #t end print(f(1, 2, 3))",
    "local a, b, c = (function() return 1, 2, 3 end)() print(a, b, c)", "print((function() return 1, 2 end)())",
    "local t = {(function() return 1, 2 end)(), (function() return 1, 2 end)()} print(#t)",
    "local i = 0 repeat i = i + 1 until i >= 3 print(i)", "local i = 0 while true do i = i + 1 if i > 4 then break end end print(i)",
    "print(2 < 3, 'a' < 'b', 'Z' < 'a', 'abc' < 'abd', '' < 'a')", "print(not nil, not 0, nil and 1, false or 'x', 1 and 2)",
    "print(#'\\0\\0', ('\\65\\066\\x41'):byte(1, -1))",
]
programs("base", "functions", "base library: types, errors, metatables, varargs", base_stmts)

# ---------------------------------------------------------------- os
os_stmts = [
    "print(os.date('!%Y-%m-%d %H:%M:%S', 0))", "print(os.date('!%Y-%m-%d %H:%M:%S', 1700000000))",
    "print(os.date('!%A %a %B %b %j', 1700000000))", "print(os.date('!%c', 86400 * 365))", "print(os.date('!%x %X %p', 3600 * 13))",
    "print(os.date('!%y %m %d %I %M %S', 1234567890))", "print(os.date('!%%', 0))", "print(os.date('!%H:%M', 1700000000 + 3600 * 5))",
    "local t = os.date('!*t', 1700000000) print(t.year, t.month, t.day, t.hour, t.min, t.sec, t.wday, t.yday, t.isdst)",
    "local t = os.date('!*t', 0) print(t.year, t.month, t.day, t.wday, t.yday)",
    "print(os.time({year = 2020, month = 1, day = 1, hour = 0}))", "print(os.time({year = 2000, month = 2, day = 29, hour = 12, min = 30, sec = 15}))",
    "print(os.time({year = 2021, month = 13, day = 1, hour = 0}))", "print(os.time({year = 2021, month = 3, day = 0, hour = 0}))",
    "print(os.difftime(100, 40), os.difftime(5))", "print(type(os.time()), os.time() > 1600000000)", "print(type(os.clock()), os.clock() >= 0)",
    "print(pcall(os.time, {year = 2020}))", "print(os.time({year = 2020, month = 6, day = 15}))",
    "local t = os.date('!*t', 1577836800 + 86400 * 59) print(t.month, t.day)",
    "local now = 1700000000 local t = os.date('!*t', now) local peak = t.hour >= 8 and t.hour < 20 print(t.hour, peak)",
    "print(os.date('!%U %W %w', 1700000000))", "print(os.date('!%d/%m/%Y', 951782400))",
]
programs("os", "time", "os.date with UTC formats, os.time with tables (TZ=UTC)", os_stmts)

# ---------------------------------------------------------------- coroutine
co_stmts = [
    "local co = coroutine.create(function(a, b) local c = coroutine.yield(a + b) local d, e = coroutine.yield(c * 2) return d + e end) print(coroutine.resume(co, 1, 2)) print(coroutine.resume(co, 10)) print(coroutine.resume(co, 3, 4)) print(coroutine.resume(co)) print(coroutine.status(co))",
    "local co = coroutine.create(function() end) print(coroutine.status(co)) coroutine.resume(co) print(coroutine.status(co))",
    "local gen = coroutine.wrap(function() for i = 1, 3 do coroutine.yield(i) end end) print(gen(), gen(), gen())",
    "local co = coroutine.create(function() error('oops', 0) end) print(coroutine.resume(co)) print(coroutine.status(co))",
    "local co = coroutine.create(function() local ok, v = pcall(coroutine.yield, 1) return ok, v end) print(coroutine.resume(co)) print(coroutine.resume(co, 'back'))",
    "print(coroutine.running() == nil or type(coroutine.running()) == 'thread')",
    "local co co = coroutine.create(function() return coroutine.status(co) end) print(coroutine.resume(co))",
    "local f = coroutine.wrap(function() error('wrapped', 0) end) print(pcall(f))",
    "local co = coroutine.create(function() return 1, 2, 3 end) print(coroutine.resume(co))",
    "local function range(n) return coroutine.wrap(function() for i = 1, n do coroutine.yield(i) end end) end local s = 0 for v in range(10) do s = s + v end print(s)",
    "local co = coroutine.create(function(...) return select('#', ...) end) print(coroutine.resume(co, nil, nil))",
    "print(pcall(coroutine.resume, 1))" if False else "print(type(coroutine.create(print)))",
    "local outer = coroutine.wrap(function() local inner = coroutine.wrap(function() coroutine.yield('in') end) coroutine.yield(inner()) coroutine.yield('out') end) print(outer(), outer())",
]
programs("coroutine", "basics", "coroutines: resume, yield, wrap, status, errors", co_stmts)



# ---------------------------------------------------------------- gateway snippets
# Realistic serverless-function helpers, each run on several inputs (one program each).
GATEWAY = {
    "split_header": ("split a comma-separated header into trimmed tokens", """
local function split(value)
  local out = {}
  for token in string.gmatch(value, "[^,]+") do
    out[#out + 1] = token:match("^%s*(.-)%s*$")
  end
  return out
end""", "local t = split({0}) print(#t, table.concat(t, '|'))",
        ['"gzip, deflate, br"', '"a,b,,c"', '"  single  "', '""', '"x;q=0.5, y;q=1"']),
    "accept_q": ("parse media ranges with q-values and pick the best", """
local function best(accept)
  local best_type, best_q = nil, -1
  for item in accept:gmatch("[^,]+") do
    local mtype, params = item:match("^%s*([^;%s]+)%s*(.*)$")
    local q = tonumber(params:match("q=([%d%.]+)") or "1")
    if mtype and q > best_q then best_type, best_q = mtype, q end
  end
  return best_type, best_q
end""", "print(best({0}))",
        ['"text/html;q=0.5, application/json"', '"*/*"', '"a/b;q=0.1, c/d;q=0.9, e/f;q=0.3"', '"x/y; q=0"']),
    "query_parse": ("parse a query string with percent-decoding", """
local function unescape(s)
  s = s:gsub("+", " ")
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end
local function parse(q)
  local args, keys = {}, {}
  for pair in q:gmatch("[^&]+") do
    local k, v = pair:match("^([^=]*)=?(.*)$")
    k, v = unescape(k), unescape(v)
    if args[k] == nil then keys[#keys + 1] = k end
    args[k] = v
  end
  table.sort(keys)
  local out = {}
  for _, k in ipairs(keys) do out[#out + 1] = k .. "=" .. args[k] end
  return table.concat(out, ";")
end""", "print(parse({0}))",
        ['"a=1&b=2"', '"name=John+Doe&city=New%20York"', '"flag&x=&y=%41%42"', '""', '"dup=1&dup=2"']),
    "query_build": ("build an escaped query string from sorted keys", """
local function escape(s)
  return (tostring(s):gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", c:byte()) end))
end
local function build(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  local out = {}
  for _, k in ipairs(keys) do out[#out + 1] = escape(k) .. "=" .. escape(t[k]) end
  return table.concat(out, "&")
end""", "print(build({0}))",
        ['{a = 1, b = "x y"}', '{q = "caf\\233", n = 10}', '{["k&v"] = "a=b", z = true}', '{}']),
    "cookies": ("parse a Cookie header", """
local function cookies(header)
  local jar, names = {}, {}
  for name, value in header:gmatch("([^=;%s]+)=([^;]*)") do
    jar[name] = value
    names[#names + 1] = name
  end
  table.sort(names)
  local out = {}
  for _, n in ipairs(names) do out[#out + 1] = n .. "->" .. jar[n] end
  return #names, table.concat(out, ",")
end""", "print(cookies({0}))",
        ['"session=abc123; theme=dark"', '"a=1;b=2;c=3"', '"empty=; x=y"', '"no cookies here"']),
    "bearer": ("extract and validate a bearer token", """
local function token(auth)
  if type(auth) ~= "string" then return nil, "missing" end
  local t = auth:match("^[Bb]earer%s+([%w%-%._~%+/]+=*)$")
  if not t then return nil, "malformed" end
  if #t < 8 then return nil, "too short" end
  return t
end""", "print(token({0}))",
        ['"Bearer abcdef123456"', '"bearer short"', '"Basic dXNlcjpwYXNz"', 'nil', '"Bearer a.b.c-d_e"', '"Bearer "']),
    "basic_auth": ("split basic credentials already decoded", """
local function creds(decoded)
  local user, pass = decoded:match("^([^:]+):(.*)$")
  if not user then return nil end
  return user, #pass, pass == "" and "empty" or "set"
end""", "print(creds({0}))",
        ['"alice:secret"', '"bob:"', '"nocolon"', '"c:d:e"']),
    "base64_shape": ("check that a value looks like base64", """
local function is_b64(s)
  return #s % 4 == 0 and s:match("^[%w%+/]*=?=?$") ~= nil
end""", "print(is_b64({0}))",
        ['"aGVsbG8="', '"aGVsbG8"', '"!!!!"', '""', '"YWJjZA=="', '"YW=jZA=="']),
    "ipv4": ("validate IPv4 addresses and test private ranges", """
local function ipv4(s)
  local a, b, c, d = s:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
  if not a then return false end
  for _, o in ipairs({a, b, c, d}) do if tonumber(o) > 255 then return false end end
  a, b = tonumber(a), tonumber(b)
  local private = a == 10 or (a == 172 and b >= 16 and b <= 31) or (a == 192 and b == 168)
  return true, private
end""", "print(ipv4({0}))",
        ['"192.168.1.10"', '"10.0.0.1"', '"8.8.8.8"', '"256.1.1.1"', '"1.2.3"', '"172.20.1.1"']),
    "path_normalize": ("normalise a URL path (dot segments, repeated slashes)", """
local function normalize(path)
  local out = {}
  for seg in path:gmatch("[^/]+") do
    if seg == ".." then table.remove(out)
    elseif seg ~= "." then out[#out + 1] = seg end
  end
  local result = "/" .. table.concat(out, "/")
  if path:sub(-1) == "/" and #out > 0 then result = result .. "/" end
  return result
end""", "print(normalize({0}))",
        ['"/a/b/../c"', '"//a///b/"', '"/./x/./y"', '"/../../"', '"/"', '"relative/path"']),
    "rate_window": ("peak / off-peak rate limits from a fixed UTC time", """
local function limit_for(epoch)
  local t = os.date("!*t", epoch)
  local weekend = t.wday == 1 or t.wday == 7
  local peak = not weekend and t.hour >= 9 and t.hour < 18
  return string.format("%s %02d:%02d %s", os.date("!%a", epoch), t.hour, t.min, peak and "peak:100" or "offpeak:1000")
end""", "print(limit_for({0}))",
        ["1700000000", "1700000000 + 3600 * 10", "1700000000 - 3600 * 10", "1699747200", "0"]),
    "json_build": ("build a JSON-ish body with string.format and table.concat", """
local function esc(s) return (s:gsub('[%c"\\\\]', function(c) return string.format("\\\\u%04x", c:byte()) end)) end
local function json(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  local parts = {}
  for _, k in ipairs(keys) do
    local v = t[k]
    local enc = type(v) == "string" and ('"' .. esc(v) .. '"') or tostring(v)
    parts[#parts + 1] = string.format('"%s":%s', k, enc)
  end
  return "{" .. table.concat(parts, ",") .. "}"
end""", "print(json({0}))",
        ['{message = "Invalid Credentials"}', '{ok = true, count = 3, ratio = 0.5}', '{text = "quote \\" and \\n newline"}', '{}']),
    "template": ("substitute ${name} placeholders from a table", """
local function render(tpl, vars)
  return (tpl:gsub("%${([%w_]+)}", function(k) return vars[k] ~= nil and tostring(vars[k]) or "" end))
end""", "print(render({0}, {{user = 'ada', n = 3, flag = false}}))",
        ['"Hello ${user}, you have ${n} items"', '"${missing}|${flag}"', '"no placeholders"', '"${user}${user}"']),
    "csv": ("split CSV lines with empty fields", """
local function fields(line)
  local out = {}
  for f in (line .. ","):gmatch("([^,]*),") do out[#out + 1] = f end
  return out
end""", "local f = fields({0}) print(#f, table.concat(f, '|'))",
        ['"a,b,c"', '"a,,c"', '","', '"single"', '""']),
    "counter": ("per-key counters kept in upvalues across calls", """
local counts = {}
local function hit(key)
  counts[key] = (counts[key] or 0) + 1
  return counts[key]
end""", "for _, k in ipairs({0}) do io_write = nil end local r = {{}} for _, k in ipairs({0}) do r[#r + 1] = k .. '=' .. hit(k) end print(table.concat(r, ' '))",
        ['{"a", "b", "a", "a"}', '{"x"}', '{"k1", "k2", "k1", "k2", "k3"}']),
    "routing": ("match a request against prefix and method routes", """
local routes = {
  {method = "GET", prefix = "/api/v1/users", name = "users"},
  {method = "POST", prefix = "/api/v1/users", name = "create_user"},
  {method = "GET", prefix = "/health", name = "health"},
  {method = nil, prefix = "/static/", name = "static"},
}
local function route(method, path)
  for _, r in ipairs(routes) do
    if (r.method == nil or r.method == method) and path:sub(1, #r.prefix) == r.prefix then return r.name end
  end
  return "not_found"
end""", "print(route({0}))",
        ['"GET", "/api/v1/users/42"', '"POST", "/api/v1/users"', '"DELETE", "/api/v1/users"', '"PUT", "/static/app.js"', '"GET", "/"']),
    "header_case": ("case-insensitive header lookups with _ for -", """
local headers = {["content-type"] = "application/json", ["x-request-id"] = "abc-123"}
local function get(name)
  return headers[name:lower():gsub("_", "-")]
end""", "print(get({0}))",
        ['"Content-Type"', '"X_REQUEST_ID"', '"x-request-id"', '"missing"']),
    "trim": ("trimming and collapsing whitespace idioms", """
local function trim(s) return (s:gsub("^%s+", ""):gsub("%s+$", "")) end
local function collapse(s) return (s:gsub("%s+", " ")) end""", "print('[' .. trim({0}) .. ']', '[' .. collapse({0}) .. ']')",
        ['"  padded  "', '"\\tmixed \\n space\\t"', '"none"', '"   "']),
    "semver": ("compare dotted version strings", """
local function cmp(a, b)
  local pa, pb = {}, {}
  for n in a:gmatch("%d+") do pa[#pa + 1] = tonumber(n) end
  for n in b:gmatch("%d+") do pb[#pb + 1] = tonumber(n) end
  for i = 1, math.max(#pa, #pb) do
    local x, y = pa[i] or 0, pb[i] or 0
    if x ~= y then return x < y and -1 or 1 end
  end
  return 0
end""", "print(cmp({0}))",
        ['"3.4.0", "3.10.1"', '"2.8", "2.8.0"', '"1.0.1", "1.0.0"', '"10", "9.9.9"']),
    "hmac_hex": ("hex encoding and decoding of bytes", """
local function tohex(s) return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end)) end
local function fromhex(h) return (h:gsub("%x%x", function(x) return string.char(tonumber(x, 16)) end)) end""",
        "print(tohex({0}), fromhex(tohex({0})) == {0})",
        ['"abc"', '"\\0\\255"', '""', '"Kong"']),
    "status_class": ("classify status codes and build an error body", """
local function class(status)
  local c = math.floor(status / 100)
  local names = {[2] = "success", [3] = "redirect", [4] = "client error", [5] = "server error"}
  return names[c] or "unknown", string.format('{"status":%d,"class":"%s"}', status, names[c] or "unknown")
end""", "print(class({0}))",
        ["200", "304", "401", "503", "99"]),
    "bit_flags": ("feature flags packed in a bit field", """
local FLAGS = {cache = 1, gzip = 2, cors = 4, auth = 8}
local function has(mask, name) return bit.band(mask, FLAGS[name]) ~= 0 end
local function names(mask)
  local out = {}
  for _, n in ipairs({"cache", "gzip", "cors", "auth"}) do if has(mask, n) then out[#out + 1] = n end end
  return table.concat(out, "+")
end""", "print(names({0}), bit.tohex({0}, 2))",
        ["0", "5", "15", "bit.bor(2, 8)"]),
}

for stem, (title, prelude, call, inputs) in GATEWAY.items():
    for i, arg in enumerate(inputs):
        write("gateway", "g_%s_%02d" % (stem, i + 1), "%s (input %d)" % (title, i + 1),
              prelude.strip("\n").split("\n") + [call.replace("{0}", arg).replace("{{", "{").replace("}}", "}")])

# ---------------------------------------------------------------- character classes matrix
subjects = ["Hello, World! 123", "\ttabs\nand\rcontrol\1chars", "MiXeD_case-42.5e3", "0xDEADbeef g,h;i"]
stmts = []
for cls in "acdglpsuwx":
    for c in (cls, cls.upper()):
        stmts.append("do local s = {} for m in string.gmatch(%s, '%%%s+') do s[#s + 1] = m end print('%%%s', #s, (table.concat(s, '|'):gsub('%%c', '?'))) end" % (S(subjects[len(stmts) % 4]), c, c))
programs("string", "classes", "every character class and its complement", stmts)
sets = ["[aeiou]", "[^aeiou]", "[a-f]", "[%d%.]", "[%a_]", "[-+]", "[]]", "[^%s]", "[%%]", "[a-]"]
stmts = ["print(%s, (string.gsub('a-b+c]d%%e 1.5_f', %s, '#')))" % (S(p), S(p)) for p in sets]
programs("string", "sets", "bracket sets: ranges, negation, classes, special characters", stmts)

# ---------------------------------------------------------------- sort orders
arrays = ["{3, 1, 2}", "{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}", "{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}", "{5, 5, 5, 1, 1}", "{2.5, -1, 0, 1e3, -1e-3}",
          "{'b', 'a', 'C', 'B', 'c', 'A'}", "{'10', '9', '100', '1'}", "{0, -0.5, 0.5, -1, 1}"]
stmts = []
for a in arrays:
    stmts.append("do local t = %s table.sort(t) print(table.concat(t, ' ')) table.sort(t, function(x, y) return x > y end) print(table.concat(t, ' ')) end" % a)
programs("table", "sort_orders", "table.sort ascending and with a descending comparator", stmts)
