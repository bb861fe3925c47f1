-- one huge string.rep
-- expect strict,lax,on: 500 resulting string too large
-- expect sandbox: 500 attempt to call
local s = string.rep("x", 1e10)
return kong.response.exit(200, #s)
