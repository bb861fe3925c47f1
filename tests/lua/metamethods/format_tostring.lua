-- string.format's %s calls a value's __tostring, as tostring does (LuaJIT lib_string.c
-- string_format: STRFMT_STR goes through the __tostring metamethod).
local V = setmetatable({}, { __tostring = function(v) return "V!" end })
local N = setmetatable({}, { __tostring = function() return 42 end })
print(string.format("%s and %s", V, "x"), string.format("[%5s|%-4s]", V, V))
print(("%s/%d/%s"):format("a", 7, V))
print(string.format("%s", N))
local calls = 0
local C = setmetatable({}, { __tostring = function() calls = calls + 1 return "c" .. calls end })
print(string.format("%s %s %s", C, C, C), calls)
print(string.format("%q", "plain"))
-- a metamethod returning nil or a boolean is shown as tostring shows it
local B = setmetatable({}, { __tostring = function() return true end })
local Z = setmetatable({}, { __tostring = function() return nil end })
print(string.format("%s|%s", B, Z))
