-- a pattern with many nested-looking quantifiers
-- expect all: 500 pattern too complex
local s = ""
for _ = 1, 40 do s = s .. "a" end
local r = s:match(("a-"):upper():lower() .. "a-a-a-a-a-a-a-a-a-a-b")
