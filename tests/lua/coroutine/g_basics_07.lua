-- coroutines: resume, yield, wrap, status, errors (7)
local outer = coroutine.wrap(function() local inner = coroutine.wrap(function() coroutine.yield('in') end) coroutine.yield(inner()) coroutine.yield('out') end) print(outer(), outer())
