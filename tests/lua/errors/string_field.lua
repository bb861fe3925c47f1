-- Errors past a string's metatable name the variable as LuaJIT does: a string's
-- missing field is nil, and indexing that nil names the field.
local s = "Hello"
print(pcall(function() return s.nosuch.deeper end))
print(pcall(function() return ("x").foo.bar end))
print(pcall(function() local n = 5; return n.x end))
print(pcall(function() s.x = 1 end))
