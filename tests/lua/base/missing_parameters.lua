-- Parameters the caller did not pass are nil, whatever the caller's registers held:
-- a table constructor, a loop counter or a temporary just above the arguments.
local function third(a, b, c) return c end
local function second(a, b) return b end
print(third(1, {1, 2}), third(1, {}), second({5}), third(1, {a = 1, 7}))
local t = {}
function t.f(x, y, z) return z end
function t:m(x, y) return y end
for i = 1, 3 do print(i, t.f(i, {i, i}), t:m({i})) end
local function reduce(fun, list, memo)
  local res = memo and fun(memo, list[1]) or list[1]
  for i = 2, #list do res = fun(res, list[i]) end
  return res
end
print(reduce(function(a, b) return a + b end, {1, 2, 3, 4}))
local function count(...) return select("#", ...) end
local function pass(a, b, c) return count(a, b, c) end
print(pass(1), pass(), pass(1, 2, 3, 4))
local obj = { n = 10 }
function obj:get(extra) return self.n + (extra or 0) end
print(obj:get(), obj.get(obj, 5), obj.get({ n = 1 }))
