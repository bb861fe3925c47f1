-- string.rep with a separator
-- expect strict,lax,on: 500 resulting string too large
-- expect sandbox: 500 attempt to call
local s = string.rep("x", 2^31, ",")
