-- unbounded recursion
-- expect all: 500 limit exceeded
local function f(n) return f(n + 1) + 1 end
f(1)
