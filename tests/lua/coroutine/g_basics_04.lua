-- coroutines: resume, yield, wrap, status, errors (4)
local co co = coroutine.create(function() return coroutine.status(co) end) print(coroutine.resume(co))
local f = coroutine.wrap(function() error('wrapped', 0) end) print(pcall(f))
