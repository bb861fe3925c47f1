-- unbounded recursion through pcall
-- expect all: 500 limit exceeded
local function f() pcall(f) end
f()
return kong.response.exit(200, "escaped")
