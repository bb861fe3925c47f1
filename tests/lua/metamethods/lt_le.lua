-- __lt and __le (Lua 5.1 / LuaJIT lj_meta_comp): called only when both operands have the
-- same metamethod; a <= b falls back to not (b < a) when there is no __le; a > b is b < a
local log = {}
local V = {}
V.__lt = function(a, b) log[#log + 1] = "lt(" .. a.v .. "," .. b.v .. ")"; return a.v < b.v end
local function new(v) return setmetatable({v = v}, V) end
local a, b = new(1), new(2)
print(a < b, b < a, a > b, b > a)
print(a <= b, b <= a, a >= b, b >= a, a <= a)
print(table.concat(log, " "))
log = {}
V.__le = function(a, b) log[#log + 1] = "le(" .. a.v .. "," .. b.v .. ")"; return a.v <= b.v end
print(a <= b, b <= a, a >= b, b >= a)
print(table.concat(log, " "))
-- results are converted to booleans
local W = {__lt = function() return 1 end, __le = function() return nil end}
local x, y = setmetatable({}, W), setmetatable({}, W)
print(x < y, x <= y, x > y, x >= y, not (x < y))
-- in conditions and loops
local n = 0
local c = new(0)
while c < new(3) do c = new(c.v + 1); n = n + 1 end
print(n, c.v)
if new(5) >= new(5) then print("ge") end
