-- one huge string.rep
-- expect all: 500 resulting string too large
local s = string.rep("x", 1e10)
return kong.response.exit(200, #s)
