-- ngx.re cases run both by OpenResty (tests/ngx_re/openresty.sh: nginx + lua-nginx-module
-- + lua-resty-core, in content_by_lua) and by our module (tests/ngx_re.rs: the same text
-- as a pre-function chunk). Called with one argument, `emit(line)`; each case emits
-- "<label> -> <results>", results shown by `show` below (strings quoted with non-printable
-- bytes as \ddd, tables with sorted keys), or "<label> error: <message without position>".
-- Lua 5.1 only (LuaJIT and piccolo).
local emit = ...
local re = require "ngx.re"

local function quote(s)
  return '"' .. (s:gsub('[^%w%p ]', function(c) return "\\" .. string.byte(c) end)) .. '"'
end

local show

local function show_table(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b)
    if type(a) == type(b) then return a < b end
    return type(a) == "number"
  end)
  local parts = {}
  for _, k in ipairs(keys) do
    local key = type(k) == "number" and tostring(k) or k
    parts[#parts + 1] = key .. "=" .. show(t[k])
  end
  return "{" .. table.concat(parts, ",") .. "}"
end

show = function(v)
  local t = type(v)
  if t == "string" then return quote(v) end
  if t == "number" then
    if v == math.floor(v) then return string.format("%d", v) end
    return string.format("%.14g", v)
  end
  if t == "table" then return show_table(v) end
  if t == "nil" or t == "boolean" then return tostring(v) end
  return t
end

local function show_all(n, results)
  local parts = {}
  for i = 2, n do parts[#parts + 1] = show(results[i]) end
  return table.concat(parts, ", ")
end

local function pack(...)
  return select("#", ...), { ... }
end

local function case(label, f)
  local n, results = pack(pcall(f))
  if not results[1] then
    local msg = tostring(results[2]):gsub("^[^:]*:%d+: ", "")
    emit(label .. " error: " .. msg)
    return
  end
  emit(label .. " -> " .. show_all(n, results))
end

-- Iterates a gmatch iterator to its end (at most 20 steps): the list of what each call
-- returned (a captures table, or "ERR:" .. err).
local function all(it, err)
  if not it then return nil, err end
  local out = {}
  for _ = 1, 20 do
    local m, e = it()
    if e then out[#out + 1] = "ERR:" .. e break end
    if not m then break end
    out[#out + 1] = m
  end
  return out
end

local match, find, gmatch, sub, gsub = ngx.re.match, ngx.re.find, ngx.re.gmatch, ngx.re.sub, ngx.re.gsub

-- match: captures, named captures, unmatched groups
case("match digits", function() return match("hello, 1234", [[([0-9])[0-9]+]]) end)
case("match named", function() return match("hello, 1234", [[([0-9])(?<remaining>[0-9]+)]]) end)
case("match unmatched groups", function() return match("hello, world", [[(world)|(hello)|(?<named>howdy)]]) end)
case("match trailing unmatched", function() return match("ab", [[(a)(x)?(y)?]]) end)
case("match none", function() return match("hello", [[\d+]]) end)
case("match number subject", function() return match(12345, "3(4)") end)
case("match empty pattern", function() return match("abc", "") end)

-- PCRE syntax the regex crate refused
case("lookahead", function() return match("foobar", [[foo(?=bar)]]) end)
case("negative lookahead", function() return match("foobaz foobar", [[foo(?!bar)\w+]]) end)
case("lookbehind", function() return match("price: $42", [[(?<=\$)\d+]]) end)
case("negative lookbehind", function() return match("$1 €2 3", [[(?<![$\d])\d]]) end)
case("backreference", function() return match("hello hello world", [[\b(\w+) \1\b]]) end)
case("named backreference", function() return match("xabab", [[(?<x>ab)\k<x>]]) end)
case("backreference find", function() return find("it is the the end", [[(\w+) \1]]) end)
case("possessive", function() return match("aaa", [[a++a]]) end)
case("atomic group", function() return match("aaab", [[(?>a+)b]]) end)
case("keep out", function() return match("foobar", [[foo\Kbar]]) end)
case("conditional", function() return match("<a>", [[(<)?a(?(1)>|)]]) end)
case("recursion", function() return match("x(a(b)c)y", [[\((?:[^()]|(?R))*\)]]) end)
case("dollar before final newline", function() return match("abc\n", "c$") end)
case("dollar end only", function() return match("abc\n", [[c\z]]) end)
case("unicode property", function() return match("abc DEF", [[\p{Lu}+]]) end)

-- options
case("opt i", function() return match("HELLO", "hello", "i"), match("HELLO", "hello") end)
case("opt m", function() return match("a\nb", "^b", "m"), match("a\nb", "^b") end)
case("opt s", function() return match("a\nb", "a.b", "s"), match("a\nb", "a.b") end)
case("opt x", function() return match("abc", "a b  c # comment", "x") end)
case("opt a", function() return match("ab12", "[0-9]+", "a"), match("12ab", "[0-9]+", "a") end)
case("opt a with ctx", function() return match("xxab", "ab", "a", { pos = 3 }), match("xxab", "ab", "a", { pos = 2 }) end)
case("opt jo", function() return match("abc", "b", "jo"), match("abc", "b", "jo"), find("abc", "c", "j") end)
case("opt u", function() return #match("日本語", ".", "u")[0], #match("日本語", ".")[0] end)
case("opt u word", function() return match("héllo", [[\w+]], "u"), match("héllo", [[\w+]]) end)
case("opt iu", function() return match("É", "é", "iu"), match("É", "é", "i") end)
case("opt U", function() return #match("日本語", ".", "U")[0], match("naïve", "ï", "U") end)
case("opt u bad subject", function() return match("\255abc", "a", "u") end)
case("opt u bad pattern", function() return match("abc", "\255", "u") end)
case("opt D", function() return match("ab", [[(?<n>a)(?<n>b)]], "D") end)
case("opt D one unmatched", function() return match("a", [[(?<n>a)|(?<n>b)]], "D") end)
case("opt D none matched", function() return match("c", [[(?<n>a)?(?<n>b)?c]], "D") end)
case("dup names without D", function() return match("ab", [[(?<n>a)(?<n>b)]]) end)
case("inline J names", function() return match("b", [[(?J)(?<n>a)|(?<n>b)]]), match("a", [[(?J)(?<n>a)|(?<n>b)]]) end)
case("opt J unicode escape", function() return match("A", [[\u0041]], "J") end)
case("opt J empty class", function() return match("xa", "[]a", "J"), match("x", "[^]", "J") end)
case("opt d", function() return match("aaa", "a+?", "d"), match("aaa", "a+?") end)
case("opt d find", function() return find("xaaa", "a|aa|aaa", "d") end)
case("unknown flag", function() return match("a", "a", "q") end)
case("unknown flag among", function() return match("a", "a", "ioX") end)

-- ctx.pos
case("ctx pos", function()
  local ctx = { pos = 3 }
  local m1 = match("1a2b3c", "[0-9]", nil, ctx)
  local p1 = ctx.pos
  local m2 = match("1a2b3c", "[0-9]", nil, ctx)
  local p2 = ctx.pos
  local m3 = match("1a2b3c", "[0-9]", nil, ctx)
  return m1[0], p1, m2[0], p2, m3, ctx.pos
end)
case("ctx pos zero and negative", function() return match("ab", "a", nil, { pos = 0 }), match("ab", "a", nil, { pos = -3 }) end)
case("ctx pos at end", function() local ctx = { pos = 4 } return match("abc", "$", nil, ctx), ctx.pos end)
case("ctx pos past end", function() return match("abc", "a", nil, { pos = 10 }) end)
case("ctx empty table", function() local ctx = {} return match("xay", "a", nil, ctx), ctx.pos end)

-- res table reuse
case("res table", function()
  local res = { 9, 9, 9, 9, foo = "x" }
  local r = match("x=1", [[(\w)=(\d)]], "jo", nil, res)
  return r == res, res
end)
case("res table named", function()
  local res = {}
  match("k=v", [[(?<k>\w)=(?<v>\w)]], nil, nil, res)
  return res
end)

-- find
case("find", function() return find("hello, 1234", "([0-9]+)", "jo") end)
case("find nth", function() return find("hello, 1234", "([0-9])([0-9]+)", "jo", nil, 2) end)
case("find nth out of bound", function() return find("hello, 1234", "([0-9])([0-9]+)", "jo", nil, 3) end)
case("find nth unmatched", function() return find("hello", "(x)?h", nil, nil, 1) end)
case("find nth negative", function() return find("hello", "l+", nil, nil, -1) end)
case("find none", function() return find("hello", "z") end)
case("find ctx", function()
  local ctx = {}
  local a, b = find("a1b2", "[0-9]", nil, ctx)
  local p1 = ctx.pos
  local c, d = find("a1b2", "[0-9]", nil, ctx)
  return a, b, p1, c, d, ctx.pos
end)
case("find empty at end", function() return find("abc", "", nil, { pos = 4 }) end)
case("find bad regex", function() return find("abc", "(abc") end)

-- gmatch
case("gmatch words", function() return all(gmatch("hello, world!", "([a-z]+)", "i")) end)
case("gmatch empty matches", function() return all(gmatch("baaa", "a*")) end)
case("gmatch named", function() return all(gmatch("k1=v1&k2=v2", [[(?<k>\w+)=(?<v>\w+)]])) end)
case("gmatch none", function() return all(gmatch("abc", "z")) end)
case("gmatch lookahead", function() return all(gmatch("a1b2c3", [[[a-z](?=\d)]])) end)
case("gmatch u empty", function() return all(gmatch("日本", "", "u")) end)
case("gmatch bad regex", function() return gmatch("abc", "(abc") end)
case("gmatch after end", function()
  local it = gmatch("ab", "[ab]")
  return it()[0], it()[0], it(), it()
end)

-- sub and gsub: templates
case("sub template", function() return sub("hello, 1234", "([0-9])[0-9]", "[$0][$1]") end)
case("sub braces", function() return sub("hello, 1234", "[0-9]", "${0}00") end)
case("sub dollar", function() return sub("hello, 1234", "[0-9]", "$$") end)
case("sub none", function() return sub("hello", "z", "x") end)
case("gsub template", function() return gsub("hello, world", "([a-z])[a-z]+", "[$0,$1]", "i") end)
case("gsub backreference", function() return gsub("aa bb cd", [[(\w)\1]], "<$1>") end)
case("gsub lookahead", function() return gsub("1234567", [[\d(?=(\d{3})+$)]], "$0,") end)
case("gsub named template", function() return gsub("a=1, b=2", [[(?<k>[a-z])=(?<v>[0-9])]], "${v}=${k}") end)
case("gsub name template", function() return gsub("ab", "b", "$x") end)
case("gsub unclosed bracket", function() return gsub("ab", "b", "${1") end)
case("gsub trailing dollar", function() return gsub("ab", "b", "x$") end)
case("gsub dollar brace", function() return gsub("ab", "b", "${}") end)
case("gsub group past count", function() return gsub("ab", "(b)", "[$2][$12][${1}x]") end)
case("gsub unmatched group", function() return gsub("ab", "(x)?b", "[$1]") end)
case("gsub empty matches", function() return gsub("baaa", "a*", "-") end)
case("gsub empty pattern", function() return gsub("abc", "", "-") end)
case("gsub number replacement", function() return gsub("aXbX", "X", 5) end)
case("gsub nil-like replacement", function() return gsub("aXb", "X", true) end)
case("gsub none", function() return gsub("abc", "z", "y") end)
case("gsub u empty", function() return gsub("日本", "", "-", "u") end)
case("gsub bad regex", function() return gsub("abc", "(abc", "x") end)

-- sub and gsub: functions
case("sub function", function()
  return sub("hello, 1234", "( [0-9] ) [0-9]", function(m) return "[" .. m[0] .. "][" .. m[1] .. "]" end, "x")
end)
case("gsub function", function() return gsub("a1b22c333", "[0-9]+", function(m) return #m[0] end) end)
case("gsub function named", function()
  return gsub("k1=v1&k2=v2", [[(?<k>\w+)=(?<v>\w+)]], function(m) return m.v .. ":" .. m.k end)
end)
case("gsub function nil", function() return gsub("ab", "b", function() end) end)
case("gsub function template text", function()
  local n = 0
  local s, c = gsub("x-y-z", "-", function() n = n + 1 return "$0" .. n end)
  return s, c, n
end)
case("gsub function none", function() return gsub("abc", "z", function() error("never") end) end)
case("gsub function error", function() return gsub("abc", "b", function() error("inside") end) end)

-- ngx.re.split (lua-resty-core's ngx/re.lua)
case("split", function() return re.split("a,b,c,d", ",") end)
case("split capture", function() return re.split("a,b,c,d", "(,)") end)
case("split max", function() return re.split("a,b,c,d", ",", nil, nil, 2) end)
case("split max 1", function() return re.split("a,b,c,d", ",", nil, nil, 1) end)
case("split trailing empty", function() return re.split("a,b,c,,,", ",") end)
case("split trailing empty max", function() return re.split("a,b,,", ",", nil, nil, 10) end)
case("split all empty", function() return re.split(",,,", ",") end)
case("split empty regex", function() return re.split("abcd", "") end)
case("split digits", function() return re.split("a1b22c333", [[\d+]]) end)
case("split leading", function() return re.split(",a,b", ",") end)
case("split lookahead", function() return re.split("oneTwoThree", [[(?=[A-Z])]]) end)
case("split none", function() return re.split("abc", ",") end)
case("split empty subject", function() return re.split("", ",") end)
case("split options", function() return re.split("aXbxc", "x", "i") end)
case("split ctx", function()
  local ctx = { pos = 3 }
  local r = re.split("a,b,c", ",", nil, ctx)
  return r, ctx.pos
end)
case("split ctx past end", function() return re.split("a,b", ",", nil, { pos = 4 }) end)
case("split res", function()
  local res = { "x", "y", "z", "w", "v" }
  local r = re.split("a,b", ",", nil, nil, nil, res)
  return r == res, res
end)
case("split unset first group", function() return re.split("xbyaz", "(a)|(b)") end)
case("split bad regex", function() return re.split("abc", "(") end)
case("split bad regex max 1", function() return re.split("abc", "(", nil, nil, 1) end)
case("split bad res", function() return re.split("abc", ",", nil, nil, nil, "x") end)

-- compile errors
case("bad regex", function() return match("abc", "(abc") end)
case("bad regex offset", function() return match("abc", "a)bc") end)
case("bad regex quantifier", function() return match("abc", "*a") end)
case("bad regex class", function() return match("abc", "[a") end)
case("bad unicode escape", function() return match("A", [[\u0041]]) end)
case("bad lookbehind", function() return match("ab", [[(?<=a+)b]]) end)
case("bad group name", function() return match("ab", [[(?<1a>b)]]) end)
case("bad backreference", function() return match("ab", [[(a)\2]]) end)

-- the match limit: catastrophic backtracking fails the call
case("catastrophic", function() return match(string.rep("a", 28) .. "!", [[^(a|a)*$]]) end)
case("catastrophic gsub", function() return gsub(string.rep("a", 28) .. "!", [[^(\w+\s?)*$]], "x") end)
