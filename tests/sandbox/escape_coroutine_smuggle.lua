-- smuggling a hidden function out of a coroutine
-- expect strict,lax,sandbox: 200 nil
-- expect on: 200 function
local f = coroutine.wrap(function() coroutine.yield(getmetatable) end)
return kong.response.exit(200, type(f()))
