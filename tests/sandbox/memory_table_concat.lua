-- table.concat of many large strings
-- expect all: 500 resulting string too large
local s = "x"
for _ = 1, 20 do s = s .. s end
local t = {}
for i = 1, 40 do t[i] = s end
local all = table.concat(t)
