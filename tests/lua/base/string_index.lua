-- Strings index through their shared metatable, whose __index is `string`
-- (Lua 5.1 manual §2.8, LuaJIT's lj_lib string metatable): field reads on a string value.
local s = "Hello"
print(s.len == string.len, ("x").rep == string.rep, s.upper(s), ("abc").len("abcd"))
print(s.nosuch, ("x")[1], s[2], type(s.format))
print(("%d-%s"):format(7, "x"), s.sub(s, 2, 3), #s)
local mt = getmetatable("")
print(type(mt), mt.__index == string, getmetatable(s) == mt)
-- a chunk may read string functions off any string, as published snippets do
local parts = {}
for w in ("a,b,c").gmatch("a,b,c", "[^,]+") do parts[#parts + 1] = w end
print(table.concat(parts, "|"))
-- assigning into a string is an error
print((pcall(function() s.x = 1 end)))
-- an `__index` function on the strings' metatable is called with the string and the key
local saved = mt.__index
mt.__index = function(str, k) return "<" .. str .. "." .. k .. ">" end
print(("x").foo, s.len)
mt.__index = saved
print(s.len == string.len)
