-- Arithmetic, unary-minus and concatenation metamethods (Lua 5.1 manual §2.8,
-- LuaJIT lj_meta_arith / lj_meta_cat): the left operand's metamethod, else the right's.
local V = {}
local function show(x) if type(x) == "table" then return tostring(x.v or "plain") end return tostring(x) end
V.__add = function(a, b) return "add(" .. show(a) .. "," .. show(b) .. ")" end
V.__sub = function(a, b) return "sub" end
V.__mul = function(a, b) return "mul" end
V.__div = function(a, b) return "div" end
V.__mod = function(a, b) return "mod" end
V.__pow = function(a, b) return "pow" end
V.__unm = function(a, b) return "unm(" .. a.v .. "," .. tostring(rawequal(a, b)) .. ")" end
V.__concat = function(a, b)
  local function s(x) return type(x) == "table" and ("<" .. x.v .. ">") or tostring(x) end
  return s(a) .. "+" .. s(b)
end
local a, b = setmetatable({v = 1}, V), setmetatable({v = 2}, V)
print(a + b, a + 10, 10 + a, a - 1, 2 * a, a / b, a % 3, a ^ 2, -a)
print(a .. "x", "x" .. a, a .. b, "p" .. a .. "q" .. 1 .. 2)
print(1 .. 2 .. a, a .. 1 .. 2)
-- only one operand needs the metamethod; a plain table on the other side is passed as is
local plain = {}
print(pcall(function() return a + plain end))
print(pcall(function() return plain + a end))
-- a metamethod's result is used as is, even a table or nil
local W = { __add = function() return nil end, __concat = function() return {} end }
local w = setmetatable({}, W)
print(w + 1, type(w .. "s"))
-- numbers and numeric strings never reach a metamethod
print("10" + 1, 3 .. "", 2 ^ 2)
-- Kong-style money/duration objects
local Money = {}
Money.__index = Money
Money.__add = function(x, y) return setmetatable({cents = x.cents + y.cents}, Money) end
Money.__tostring = function(m) return string.format("$%d.%02d", math.floor(m.cents / 100), m.cents % 100) end
local total = setmetatable({cents = 150}, Money) + setmetatable({cents = 275}, Money)
print(total.cents, tostring(total))
