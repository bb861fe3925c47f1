-- coroutines: resume, yield, wrap, status, errors (2)
local gen = coroutine.wrap(function() for i = 1, 3 do coroutine.yield(i) end end) print(gen(), gen(), gen())
local co = coroutine.create(function() error('oops', 0) end) print(coroutine.resume(co)) print(coroutine.status(co))
