-- __eq (Lua 5.1 / LuaJIT): called for two different tables of the same type only when both
-- have the same __eq; its result is converted to a boolean; ~= negates it
local calls = 0
local eq = function(a, b) calls = calls + 1; return a.id == b.id end
local M = {__eq = eq}
local a, b, c = setmetatable({id = 1}, M), setmetatable({id = 1}, M), setmetatable({id = 2}, M)
print(a == b, a ~= b, a == c, a ~= c, a == a, calls)
-- same function in two metatables
local other = setmetatable({id = 1}, {__eq = eq})
print(a == other, other == a)
-- different __eq functions: not called, false
local diff = setmetatable({id = 1}, {__eq = function() return true end})
print(a == diff, diff == a)
-- only one side has __eq: false
local plain = {id = 1}
print(a == plain, plain == a)
-- different types never call __eq
print(a == 1, a == "x", a == nil, a == true)
-- rawequal ignores __eq
print(rawequal(a, b), rawequal(a, a))
-- truthy results
local T = {__eq = function() return "yes" end}
local t1, t2 = setmetatable({}, T), setmetatable({}, T)
print(t1 == t2, t1 ~= t2)
local F = {__eq = function() return nil end}
print(setmetatable({}, F) == setmetatable({}, F))
-- in tables and conditions
local found = 0
for _, v in ipairs({b, c, a}) do if v == a then found = found + 1 end end
print(found, calls)
