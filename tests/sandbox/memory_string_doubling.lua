-- a string doubled without bound
-- expect all: 500 resulting string too large
local s = "x"
while true do s = s .. s end
