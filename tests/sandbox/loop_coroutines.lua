-- an endless chain of coroutines
-- expect all: 500 limit exceeded
local function f() coroutine.wrap(f)() end
f()
