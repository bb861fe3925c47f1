-- gsub multiplying a string
-- expect all: 500 resulting string too large
local s = "x"
for _ = 1, 20 do s = s .. s end
local big = s:gsub("x", s)
