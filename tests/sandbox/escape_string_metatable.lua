-- string.rep through the string metatable
-- expect strict,lax,sandbox: 500 attempt to call
-- expect on: 200 xxx
local mt = getmetatable("")
return kong.response.exit(200, mt.__index.rep("x", 3))
