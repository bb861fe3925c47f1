-- coroutines: resume, yield, wrap, status, errors (5)
local co = coroutine.create(function() return 1, 2, 3 end) print(coroutine.resume(co))
local function range(n) return coroutine.wrap(function() for i = 1, n do coroutine.yield(i) end end) end local s = 0 for v in range(10) do s = s + v end print(s)
