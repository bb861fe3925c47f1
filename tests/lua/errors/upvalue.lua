-- runtime errors naming an upvalue: LuaJIT's "upvalue 'name'"
local function p(f, ...) print(pcall(f, ...)) end
local x = 5
local none
local t = {}
p(function() return x.y end)
p(function() return x() end)
p(function() return none.field end)
p(function() none.field = 1 end)
p(function() return #x end)
p(function() return none + 1 end)
p(function() return "a" .. none end)
p(function() return t.missing() end)
p(function() return x:foo() end)
