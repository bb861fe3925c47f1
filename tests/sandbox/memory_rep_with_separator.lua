-- string.rep with a separator
-- expect all: 500 resulting string too large
local s = string.rep("x", 2^31, ",")
