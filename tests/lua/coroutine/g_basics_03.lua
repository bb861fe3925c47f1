-- coroutines: resume, yield, wrap, status, errors (3)
local co = coroutine.create(function() local ok, v = pcall(coroutine.yield, 1) return ok, v end) print(coroutine.resume(co)) print(coroutine.resume(co, 'back'))
print(coroutine.running() == nil or type(coroutine.running()) == 'thread')
