-- coroutines: resume, yield, wrap, status, errors (6)
local co = coroutine.create(function(...) return select('#', ...) end) print(coroutine.resume(co, nil, nil))
print(type(coroutine.create(print)))
